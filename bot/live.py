"""The live entry point: the same bot on the real network and the real clock.

Where it points (binance-usdm.md §12, §13):

* by default, **Binance Demo Trading**, through ccxt's ``enable_demo_trading(True)``
  (``https://demo-fapi.binance.com``); never ``set_sandbox_mode``, which makes every signed
  futures call raise ``NotSupported``. Demo's WebSocket host is not settled (§15, item 2):
  ccxt uses ``wss://fstream.binancefuture.com``, other clients ``wss://demo-fstream.binance.com``;
  ``demo_ws_host`` chooses;
* ``endpoint``: any Binance-compatible server (e.g. ``futsim serve``), at Binance's paths;
  the linear error map is merged so errors map as on Binance's own hosts (§5.3);
* Binance's production hosts only with ``production=True`` (``--production``): real money.

API keys come from the environment (``BINANCE_API_KEY``, ``BINANCE_API_SECRET``) and are never
logged: a logging filter redacts them from every record as a second line of defence.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt.pro

from bot.config import Entry, load_config
from bot.repository import Repository
from bot.shell.app import Bot

KEY_ENV, SECRET_ENV = "BINANCE_API_KEY", "BINANCE_API_SECRET"
CCXT_DEMO_WS = "wss://fstream.binancefuture.com"
PRODUCTION_DOMAIN = "binance.com"
# Binance Demo Trading lives on ``demo-*.binance.com`` (demo-fapi, demo-fstream); every
# other host under binance.com (fapi, fapi1..n, papi, fstream, ws-fapi, dapi, api, ...) can
# move real money.
DEMO_HOST_PREFIX = "demo-"

log = logging.getLogger("bot.live")


class LiveSetupError(ValueError):
    """The live runner refuses to start; the message says why and how to fix it."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the live bot connects: ``demo`` (default), ``endpoint`` or ``production``."""

    kind: str
    endpoint: str | None = None
    demo_ws_host: str = CCXT_DEMO_WS


def choose_target(
    endpoint: str | None, production: bool, demo_ws_host: str = CCXT_DEMO_WS
) -> Target:
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LiveSetupError(
                f"--endpoint {endpoint!r}: expected a base URL such as "
                "http://127.0.0.1:8080 (Binance's paths are added)"
            )
        if is_production_host(parts.hostname) and not production:
            raise LiveSetupError(
                f"--endpoint {endpoint} is Binance's production host (real money); "
                "add --production if that is really what you want"
            )
        return Target("endpoint", endpoint.rstrip("/"))
    if production:
        return Target("production")
    ws_host = urlsplit(demo_ws_host).hostname or ""
    if is_production_host(ws_host):
        raise LiveSetupError(
            f"--demo-ws-host {demo_ws_host} is Binance's production stream host; demo "
            "streams are wss://demo-fstream.binance.com or wss://fstream.binancefuture.com"
        )
    return Target("demo", demo_ws_host=demo_ws_host)


def is_production_host(hostname: str) -> bool:
    """True for a Binance host that trades real money. The name is compared the way DNS
    does: case-insensitive, with a trailing root dot ignored."""
    host = hostname.rstrip(".").lower()
    under_binance = host == PRODUCTION_DOMAIN or host.endswith("." + PRODUCTION_DOMAIN)
    return under_binance and not host.startswith(DEMO_HOST_PREFIX)


def _ws_base(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/ws"


def build_exchange(target: Target, api_key: str, secret: str) -> Any:
    """A ccxt.pro ``binanceusdm`` on the real network: the same class the simulation uses,
    without the ``session`` option."""
    exchange = ccxt.pro.binanceusdm(
        {
            "apiKey": api_key,
            "secret": secret,
            "enableRateLimit": True,
            "options": {
                "fetchCurrencies": False,
                "fetchMarkets": {"types": ["linear"]},
                "adjustForTimeDifference": True,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
        }
    )
    if target.kind == "demo":
        exchange.enable_demo_trading(True)
        exchange.urls["api"]["ws"]["linear"] = f"{target.demo_ws_host}/ws"
    elif target.kind == "endpoint":
        base = target.endpoint
        api = exchange.urls["api"]
        for key in list(api):
            if isinstance(api[key], str):  # every REST key: an unexpected call gets a 404
                path = urlsplit(api[key]).path
                api[key] = base + path
        api["ws"]["linear"] = _ws_base(base)
        exchange.exceptions["exact"] = exchange.extend(
            exchange.exceptions["exact"], exchange.exceptions["linear"]["exact"]
        )
    return exchange


class RedactSecrets(logging.Filter):
    """Replaces the API key and secret in every log record."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, ()
        return True


def keys_from_env(environ: dict[str, str] | None = None) -> tuple[str, str]:
    environ = dict(os.environ if environ is None else environ)
    api_key, secret = environ.get(KEY_ENV, ""), environ.get(SECRET_ENV, "")
    missing = [name for name, value in ((KEY_ENV, api_key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise LiveSetupError(
            f"set {' and '.join(missing)} in the environment (Demo Trading keys come from "
            "demo.binance.com; for futsim serve, the keys it was started with)"
        )
    return api_key, secret


async def run_live(
    config_path: str | Path,
    target: Target,
    *,
    api_key: str,
    secret: str,
    entries: Sequence[Entry] | None = None,
) -> None:
    """Run the bot until SIGINT/SIGTERM; stops stay on the exchange."""
    config = load_config(config_path)
    redact = RedactSecrets(api_key, secret)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    exchange = build_exchange(target, api_key, secret)
    repository = Repository(config.repository.path)
    bot = Bot(config, exchange, repository, list(entries) if entries is not None else None)
    task = asyncio.create_task(bot.run(), name="bot")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    log.info("futsim live: %s bot for %s", target.kind, ", ".join(config.bot.symbols))
    try:
        await task
    except asyncio.CancelledError:
        log.info("futsim live: stopped; open positions keep their stops on the exchange")
    finally:
        await exchange.close()
        repository.close()
