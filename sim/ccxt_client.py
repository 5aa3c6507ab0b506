"""Unmodified ccxt on the simulated network: the configuration a simulated run uses.

Only the transport differs from live: ccxt's own ``session`` option carries every request
and WebSocket frame over the simulated links (``sim.transport.SimSession``). URLs stay
Binance's own (``https://fapi.binance.com``, ``wss://fstream.binance.com``), so ccxt's linear
error map applies by itself and no exception map is merged (virtual-time.md §11).
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support
import ccxt.pro

DEFAULT_API_KEY = "futsim-key"
DEFAULT_SECRET = "futsim-secret"


def ccxt_config(
    session: Any,
    *,
    api_key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
    timeout_ms: int = 10_000,
) -> dict[str, Any]:
    """The constructor config for ``binanceusdm`` in a simulation."""
    return {
        "apiKey": api_key,
        "secret": secret,
        "session": session,
        "enableRateLimit": False,  # its throttler would run in virtual time; rates are ours
        "verify": False,  # no TLS in a simulation; skips 17-25 ms of SSL setup per instance
        "timeout": timeout_ms,
        "options": {
            "fetchCurrencies": False,  # no sapi calls to api.binance.com
            "fetchMarkets": {"types": ["linear"]},
            "adjustForTimeDifference": False,
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        },
    }


def simulated_binanceusdm(session: Any, *, pro: bool = True, **config: Any) -> Any:
    """A fresh ``ccxt.pro.binanceusdm`` (or ``ccxt.async_support``'s) on ``session``.

    Build one per run, inside the run: a ccxt instance stays bound to the loop it first ran
    on. Close it with ``await exchange.close()``.
    """
    cls = ccxt.pro.binanceusdm if pro else ccxt.async_support.binanceusdm
    return cls(ccxt_config(session, **config))
