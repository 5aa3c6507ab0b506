"""WsConnection: one simulated WebSocket, its two FIFO links, and both of its ends.

``ws:<n>:up`` carries the client's frames to the venue, ``ws:<n>:down`` the venue's frames
to the client (``n`` is the connection number, from 1 per session). Besides text frames, the
links carry control messages whose kinds start with ``ws.``: ``ws.handshake`` /
``ws.accept`` / ``ws.reject``, ``ws.ping`` / ``ws.pong``, ``ws.close`` (the close handshake,
payload ``(code, reason bytes)``) and ``ws.reset`` (the connection died underneath). Text
frames from the venue carry the kind it named (``"ACCOUNT_UPDATE"``, ``"markPriceUpdate"``);
text frames from the client are named by their JSON ``method`` (``"SUBSCRIBE"``) or
``"text"``. Fault rules see every one of them, so a rule that drops everything drops
handshakes and pings too, while one that targets ``"ACCOUNT_UPDATE"`` touches nothing else.

Three ways a connection can go wrong, on purpose:

* ``server.close(code)`` (the venue): a CLOSE frame follows the frames already sent; ccxt
  sees it, rejects pending watches with ``NetworkError`` and reconnects on the next watch;
* :meth:`WsConnection.reset`: the connection dies (TCP reset). Each end learns it when the
  reset reaches it over its link; the client's ``receive()`` returns ``CLOSED``, as aiohttp's
  does on a lost connection;
* :meth:`WsConnection.cut`: both links silently lose everything (a partition). Neither end
  notices; ccxt finds out by its own keepalive rule (no pong for two ping intervals).

Invariant: the venue sees a connection only after its handshake arrived and it accepted it,
sees ``on_text`` calls in the order the client sent them, and gets ``on_close`` at most once,
when the client closed or the connection died (never for a close the venue started).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import WSMessage, WSMsgType
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from sim.runtime.tasks import label_future
from sim.trace import Trace
from sim.transport.latency import LatencyModel
from sim.transport.link import Link, Message
from sim.transport.protocol import Venue, WsRejected
from sim.transport.urls import ws_route
from sim.transport.ws_client import RESET, SimWebSocket


def _text_kind(text: str) -> str:
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return "text"
        if isinstance(obj, dict) and isinstance(obj.get("method"), str):
            return obj["method"]
    return "text"


class ServerEnd:
    """The venue's end of one connection; implements ``protocol.WsServerSide``.

    ``state``: ``"new"`` (handshake not arrived) → ``"accepting"`` (inside
    ``venue.accept_ws``) → ``"open"`` → ``"closing"`` (the venue sent CLOSE) → ``"closed"``;
    or ``"new"`` → ``"rejected"``.
    """

    def __init__(self, conn: WsConnection, venue: Venue) -> None:
        self.conn_id = conn.conn_id
        self.url = conn.url
        self.on_text: Callable[[str], None] | None = None
        self.on_close: Callable[[], None] | None = None
        self.answer_pings = True
        #: Beyond the protocol: a venue that pings (``ping()``) hears the pongs here, to
        #: drop clients that stop answering as Binance does.
        self.on_pong: Callable[[bytes], None] | None = None
        self.state = "new"
        #: frames the venue tried to send after the connection closed (they go nowhere).
        self.sends_after_close = 0
        self._conn = conn
        self._venue = venue
        self._early: list[Message] = []
        self._close_after_accept: int | None = None

    # ----------------------------------------------------------------- the venue's calls
    def send(self, text: str, kind: str) -> None:
        if self.state == "open":
            self._conn.down.send(Message(kind, text))
        elif self.state == "accepting":
            self._early.append(Message(kind, text))
        else:
            self.sends_after_close += 1

    def close(self, code: int = 1000) -> None:
        if self.state == "accepting":
            self._close_after_accept = code
            return
        if self.state != "open":
            return
        self.state = "closing"
        self._conn.record("ws.close", side="server", code=code)
        self._conn.down.send(Message("ws.close", (code, b"")))

    def ping(self, data: bytes = b"") -> None:
        """A server-initiated ping (Binance pings every few minutes; ccxt answers)."""
        if self.state == "open":
            self._conn.down.send(Message("ws.ping", data))

    # ----------------------------------------------------------------- arrivals (up link)
    def on_up(self, message: Message) -> None:
        kind = message.kind
        if kind == "ws.handshake":
            self._accept()
            return
        state = self.state
        if state not in ("open", "closing"):
            return  # never accepted, or already over: nobody is listening
        if not kind.startswith("ws."):
            if state == "open" and self.on_text is not None:
                self.on_text(message.payload)
        elif kind == "ws.ping":
            if self.answer_pings and state == "open":
                self._conn.down.send(Message("ws.pong", message.payload))
        elif kind == "ws.pong":
            if state == "open" and self.on_pong is not None:
                self.on_pong(message.payload)
        elif kind == "ws.close":
            self.state = "closed"
            if state == "open":
                code = message.payload[0]
                self._conn.down.send(Message("ws.close", (code, b"")))  # the echo
                self._notify_closed()
        elif kind == "ws.reset":
            self.state = "closed"
            if state == "open":
                self._notify_closed()

    def _accept(self) -> None:
        if self.state != "new":
            return  # a duplicated handshake
        self.state = "accepting"
        try:
            self._venue.accept_ws(self)
        except WsRejected as rejection:
            self.state = "rejected"
            self._early.clear()
            self._conn.record("ws.rejected", status=rejection.status, reason=rejection.message)
            self._conn.down.send(Message("ws.reject", rejection))
            return
        self.state = "open"
        self._conn.record("ws.accepted")
        self._conn.down.send(Message("ws.accept"))
        early, self._early = self._early, []
        for message in early:
            self._conn.down.send(message)
        if self._close_after_accept is not None:
            self.close(self._close_after_accept)

    def _notify_closed(self) -> None:
        if self.on_close is not None:
            self.on_close()


class WsConnection:
    """One connection. ``up``/``down`` are its links (FIFO), ``client`` the socket ccxt
    holds, ``server`` the venue's end; ``route`` is ``"market"``, ``"public"``, ``"private"``
    (user data) or a legacy ``"ws"``/``"stream"``."""

    def __init__(
        self,
        conn_id: int,
        url: str,
        path: str,
        raw_query: str,
        *,
        env: Any,
        venue: Venue,
        trace: Trace,
        up_latency: LatencyModel,
        down_latency: LatencyModel,
        up_rng: Any,
        down_rng: Any,
        trace_messages: bool,
        autoping: bool,
        autoclose: bool,
    ) -> None:
        self.conn_id = conn_id
        self.url = url
        self.path = path
        self.raw_query = raw_query
        self.route = ws_route(path)
        self.trace_messages = trace_messages
        self._trace = trace
        self._handshake: asyncio.Future | None = None
        self.server = ServerEnd(self, venue)
        self.client = SimWebSocket(
            url,
            self._send_up,
            autoping=autoping,
            autoclose=autoclose,
            on_finished=self._on_client_finished,
        )
        self.up = Link(
            env,
            f"ws:{conn_id}:up",
            self.server.on_up,
            latency=up_latency,
            rng=up_rng,
            fifo=True,
            trace=trace,
            trace_messages=trace_messages,
        )
        self.down = Link(
            env,
            f"ws:{conn_id}:down",
            self._on_down,
            latency=down_latency,
            rng=down_rng,
            fifo=True,
            trace=trace,
            trace_messages=trace_messages,
        )

    @property
    def is_user_data(self) -> bool:
        return self.route == "private"

    @property
    def live(self) -> bool:
        """Neither end is done with it yet."""
        return not self.client.finished and self.server.state not in ("closed", "rejected")

    def record(self, kind: str, **fields: Any) -> None:
        self._trace.record(kind, conn=self.conn_id, **fields)

    # ----------------------------------------------------------------- faults
    def reset(self) -> None:
        """The connection dies: each end learns it when the reset reaches it."""
        self.record("ws.reset")
        self.up.send(Message("ws.reset"))
        self.down.send(Message("ws.reset"))

    def cut(self) -> None:
        """Both directions silently lose everything (in flight too) until :meth:`restore`."""
        self.up.cut()
        self.down.cut()

    def restore(self) -> None:
        self.up.restore()
        self.down.restore()

    # ----------------------------------------------------------------- the client's side
    async def handshake(self) -> SimWebSocket:
        """Send the handshake and wait for the venue's answer (a round trip)."""
        future = asyncio.get_running_loop().create_future()
        label_future(future, f"WS handshake {self.url} (awaiting the server)")
        self._handshake = future
        self.record("ws.dial", url=self.url)
        self.up.send(Message("ws.handshake", self.url))
        try:
            await future
        except asyncio.CancelledError:
            # The dialler gave up (ccxt's connectionTimeout): the socket is dropped, and the
            # venue, if it accepted meanwhile, learns it when the reset arrives.
            self.record("ws.abandon")
            self.client.abandon()
            self.up.send(Message("ws.reset"))
            raise
        except BaseException:
            self.client.abandon()
            raise
        self.record("ws.open")
        return self.client

    def _on_client_finished(self) -> None:
        self.record("ws.finished", code=int(self.client.close_code or 0))

    def _send_up(self, kind: str, payload: Any) -> None:
        if kind == "text":
            kind = _text_kind(payload)
        elif kind == "ws.close":
            self.record("ws.close", side="client", code=payload[0])
        self.up.send(Message(kind, payload))

    def _on_down(self, message: Message) -> None:
        kind = message.kind
        handshake = self._handshake
        if kind == "ws.accept":
            if handshake is not None and not handshake.done():
                handshake.set_result(None)
            return
        if kind == "ws.reject":
            if handshake is not None and not handshake.done():
                handshake.set_exception(self._handshake_error(message.payload))
            return
        if handshake is not None and not handshake.done() and kind == "ws.reset":
            handshake.set_exception(aiohttp.ServerDisconnectedError())
            return
        if kind.startswith("ws."):
            if kind == "ws.pong":
                item: Any = WSMessage(WSMsgType.PONG, message.payload, None)
            elif kind == "ws.ping":
                item = WSMessage(WSMsgType.PING, message.payload, None)
            elif kind == "ws.close":
                code, reason = message.payload
                item = WSMessage(WSMsgType.CLOSE, code, reason.decode("utf-8", "replace"))
            elif kind == "ws.reset":
                item = RESET
            else:
                return
        else:
            item = WSMessage(WSMsgType.TEXT, message.payload, None)
        if not self.client.feed(item) and self.trace_messages:
            self.record("ws.discard", msg=kind)

    def _handshake_error(self, rejection: WsRejected) -> aiohttp.WSServerHandshakeError:
        url = URL(self.url, encoded=True)
        no_headers = CIMultiDictProxy(CIMultiDict())
        info = aiohttp.RequestInfo(url, "GET", no_headers, url)
        return aiohttp.WSServerHandshakeError(
            info,
            (),
            message="Invalid response status",
            status=rejection.status,
            headers=no_headers,
        )
