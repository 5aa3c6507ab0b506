"""What crosses the simulated network, and the interface of whatever answers it.

The transport (``sim.transport``) carries ccxt's traffic over simulated links on the virtual
clock; the venue (the fake Binance: wire handlers over the exchange model) answers it. They
meet only here. The venue sees a request **when it arrives** (that is when it takes effect),
and its answer travels back over another link, where it may be delayed or lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str  # "GET", "POST", "PUT", "DELETE"
    url: str  # as ccxt sent it, e.g. "https://fapi.binance.com/fapi/v1/order?symbol=..."
    path: str  # "/fapi/v1/order"
    raw_query: str  # the query string exactly as sent, without "?" ("" if none)
    body: bytes  # the body exactly as sent (b"" if none)
    headers: Mapping[str, str]  # session headers merged with the request's
    request_id: int  # sequence number within the run, from 1


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    reason: str = ""


class WsRejected(Exception):
    """Raised by :meth:`Venue.accept_ws` to refuse a handshake (the client sees aiohttp's
    ``WSServerHandshakeError`` with this status)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(f"{status} {message}".strip())
        self.status = status
        self.message = message


class WsServerSide(Protocol):
    """The venue's end of one accepted WebSocket connection."""

    conn_id: int  # sequence number within the run, from 1
    url: str  # as the client asked for it, e.g. "wss://fstream.binance.com/market/ws/0"
    on_text: Callable[[str], None] | None  # set by the venue: client text frames arrive here
    on_close: Callable[[], None] | None  # set by the venue: the client closed or the link died
    answer_pings: bool  # True: the transport answers client pings with pongs by itself

    def send(self, text: str, kind: str) -> None:
        """Push a text frame to the client over the connection's down link. ``kind`` names
        the payload for fault rules and traces (e.g. ``"ACCOUNT_UPDATE"``,
        ``"markPriceUpdate"``, ``"subscribe-ack"``)."""

    def close(self, code: int = 1000) -> None:
        """Close from the server side: the client sees a CLOSE frame after the link delay."""


class Venue(Protocol):
    """The fake exchange, as the transport sees it."""

    def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Answer one REST request at the instant it arrives (virtual time)."""

    def accept_ws(self, conn: WsServerSide) -> None:
        """A client's handshake arrived; keep ``conn`` to push frames, or raise
        :class:`WsRejected`."""


# Hosts the simulated network serves. Anything else raises: an accidental call to the
# internet must fail loudly, never pass silently (virtual-time.md §11).
REST_HOSTS = ("https://fapi.binance.com",)
WS_HOSTS = ("wss://fstream.binance.com",)
