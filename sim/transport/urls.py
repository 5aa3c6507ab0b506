"""Which URLs the simulated network serves, and how a raw URL splits without re-encoding.

Invariant: only Binance USDⓈ-M production hosts (:data:`~sim.transport.protocol.REST_HOSTS`,
:data:`~sim.transport.protocol.WS_HOSTS`) are simulated; anything else raises
:class:`UnsimulatedHost` before a single byte moves, so an accidental call to the internet (a
testnet URL, a proxy, a typo) fails loudly instead of passing silently. The path and query are
cut from the URL exactly as ccxt sent it: Binance signs the raw query bytes, so they must
reach the venue unchanged.
"""

from __future__ import annotations

from sim.runtime.errors import RealIOForbidden
from sim.transport.protocol import REST_HOSTS, WS_HOSTS


class UnsimulatedHost(RealIOForbidden):
    """A request or WebSocket went to a host the simulated network does not serve."""

    def __init__(self, what: str, url: str, hosts: tuple[str, ...]) -> None:
        super().__init__(
            f"{what} {url}: this host is not simulated. Only Binance USD-M production URLs "
            f"({', '.join(hosts)}) are served inside a run; anything else would be a real "
            "network call. Keep ccxt's default production URLs in simulation (no "
            "set_sandbox_mode / enable_demo_trading, no proxies, no rewritten hosts)."
        )
        self.url = url


def _split(url: str, hosts: tuple[str, ...]) -> tuple[str, str, str] | None:
    for host in hosts:
        if url.startswith(host):
            rest = url[len(host) :]
            if rest == "" or rest[0] in "/?":
                path, _, raw_query = rest.partition("?")
                return host, path or "/", raw_query
    return None


def split_rest_url(method: str, url: str) -> tuple[str, str]:
    """``(path, raw_query)`` of a REST URL, or :class:`UnsimulatedHost`."""
    parts = _split(url, REST_HOSTS)
    if parts is None:
        raise UnsimulatedHost(f"REST {method}", url, REST_HOSTS)
    return parts[1], parts[2]


def split_ws_url(url: str) -> tuple[str, str]:
    """``(path, raw_query)`` of a WebSocket URL, or :class:`UnsimulatedHost`."""
    parts = _split(url, WS_HOSTS)
    if parts is None:
        raise UnsimulatedHost("WebSocket", url, WS_HOSTS)
    return parts[1], parts[2]


def ws_route(path: str) -> str:
    """The first path segment: ``"market"``, ``"public"``, ``"private"`` (user data), or a
    legacy ``"ws"`` / ``"stream"``."""
    return path.lstrip("/").split("/", 1)[0]
