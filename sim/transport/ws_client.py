"""SimWebSocket: the client end of a simulated WebSocket, shaped like aiohttp's
``ClientWebSocketResponse`` (aiohttp 3.14) as far as ccxt's ``Client`` can tell.

Frames arriving on the connection's down link are queued as ``aiohttp.WSMessage`` values;
``receive()`` takes them in order. The state machine follows aiohttp's, because ccxt's
reconnect logic depends on its exact answers:

* a CLOSE frame from the server is returned as ``WSMessage(CLOSE, code, reason)`` and leaves
  the socket *closing* (ccxt runs with ``autoclose=False`` and closes it itself);
* ``close()`` while another task waits in ``receive()`` makes that ``receive()`` return
  ``WSMessage(CLOSING)``; then it sends CLOSE and waits (``ws_close``, 10 s) for the server's
  CLOSE, discarding anything else;
* a connection that dies underneath (a reset) makes ``receive()`` return
  ``WSMessage(CLOSED)`` after the frames that arrived before it, and every later write raise
  ``aiohttp.ClientConnectionResetError``.

Invariant: frames reach the caller in arrival order and none is returned twice; nothing is
delivered after the socket is finished (closed and its close handshake over).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMessage, WSMsgType

from sim.runtime.tasks import label_future

WS_CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)

#: Fed into the queue when the connection dies underneath (a reset reached the client).
RESET = object()

#: aiohttp's default ``ClientWSTimeout.ws_close``: how long close() waits for the server.
WS_CLOSE_TIMEOUT_S = 10.0


class SimWebSocket:
    """Client end. ``send_up(kind, payload)`` puts a frame on the connection's up link."""

    def __init__(
        self,
        url: str,
        send_up: Callable[[str, Any], None],
        *,
        autoping: bool = True,
        autoclose: bool = True,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        self._send_up = send_up
        self._autoping = autoping
        self._autoclose = autoclose
        self._on_finished = on_finished
        self._buffer: deque[Any] = deque()
        self._waiter: asyncio.Future | None = None
        self._waiting = False
        self._closing = False
        self._closed = False
        self._finished = False
        self._transport_dead = False
        self._writer_closed = False
        self._close_code: int | None = None
        self._close_wait: asyncio.Future | None = None
        self._exception: BaseException | None = None
        #: aiohttp's internal connection; ccxt's ``Client.buffer`` reads it and needs None.
        self._conn = None
        self.protocol = None
        self.compress = 0

    # ----------------------------------------------------------------- arrivals
    def feed(self, item: Any) -> bool:
        """A frame arrived (a ``WSMessage``, or :data:`RESET`). False if it was discarded
        because the socket is already finished."""
        if self._finished:
            return False
        if item is RESET:
            self._transport_dead = True
        self._buffer.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    async def _read(self) -> Any:
        if not self._buffer:
            waiter = asyncio.get_running_loop().create_future()
            label_future(waiter, f"WS {self._url} (awaiting a frame)")
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._closed = True
        self._buffer.clear()
        if self._on_finished is not None:
            self._on_finished()

    # ----------------------------------------------------------------- reading
    async def receive(self, timeout: float | None = None) -> WSMessage:
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            self._waiting = True
            try:
                if timeout:
                    msg = await asyncio.wait_for(self._read(), timeout)
                else:
                    msg = await self._read()
            except (TimeoutError, asyncio.CancelledError):
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                raise
            finally:
                self._waiting = False
                if self._close_wait is not None and not self._close_wait.done():
                    self._close_wait.set_result(None)
            if msg is RESET:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._finish()
                return WS_CLOSED_MESSAGE
            if msg.type is WSMsgType.CLOSE:
                self._closing = True
                self._close_code = msg.data
                if not self._closed and self._autoclose:
                    await self.close()
            elif msg.type is WSMsgType.CLOSING:
                self._closing = True
            elif msg.type is WSMsgType.PING and self._autoping:
                await self.pong(msg.data)
                continue
            elif msg.type is WSMsgType.PONG and self._autoping:
                continue
            return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise aiohttp.WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT"
            )
        return msg.data

    def __aiter__(self) -> SimWebSocket:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    # ----------------------------------------------------------------- writing
    def _check_writable(self, opcode: str) -> None:
        if self._transport_dead or self._writer_closed:
            raise aiohttp.ClientConnectionResetError(
                f"Cannot write to closing transport ({opcode} on {self._url})"
            )

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data).__name__})")
        self._check_writable("TEXT")
        self._send_up("text", data)

    async def send_json(self, data: Any, compress: int | None = None, *, dumps: Any = None) -> None:
        await self.send_str((dumps or json.dumps)(data))

    async def ping(self, message: bytes = b"") -> None:
        self._check_writable("PING")
        self._send_up("ws.ping", bytes(message))

    async def pong(self, message: bytes = b"") -> None:
        self._check_writable("PONG")
        self._send_up("ws.pong", bytes(message))

    # ----------------------------------------------------------------- closing
    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        if self._waiting and not self._closing:
            # Break the pending receive() first: it returns WSMessage(CLOSING).
            self._close_wait = asyncio.get_running_loop().create_future()
            label_future(self._close_wait, f"WS {self._url} (close: awaiting the reader)")
            self._closing = True
            self._buffer.append(WS_CLOSING_MESSAGE)
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)
            await self._close_wait
        if self._closed:
            return False
        self._closed = True
        if self._transport_dead:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._exception = aiohttp.ClientConnectionResetError(
                "Cannot write to closing transport"
            )
            self._finish()
            return True
        self._writer_closed = True
        self._send_up("ws.close", (int(code), bytes(message)))
        if self._close_code:
            self._finish()
            return True
        while True:
            try:
                msg = await asyncio.wait_for(self._read(), WS_CLOSE_TIMEOUT_S)
            except asyncio.CancelledError:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._finish()
                raise
            except TimeoutError as exc:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._exception = exc
                self._finish()
                return True
            if msg is RESET:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._exception = aiohttp.ServerDisconnectedError()
                self._finish()
                return True
            if msg.type is WSMsgType.CLOSE:
                self._close_code = msg.data
                self._finish()
                return True

    def abandon(self) -> None:
        """The handshake was given up (the dialling task was cancelled): nothing more will
        be read or written on this socket."""
        self._writer_closed = True
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._finish()

    # ----------------------------------------------------------------- state
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def finished(self) -> bool:
        """Closed and done: the close handshake is over, or the connection died."""
        return self._finished

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def exception(self) -> BaseException | None:
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    async def __aenter__(self) -> SimWebSocket:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
