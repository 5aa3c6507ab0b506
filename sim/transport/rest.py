"""REST over simulated links: a request travels up, takes effect at the venue on arrival, and
its response travels down to a client that may have stopped waiting.

One pair of links serves every REST call of a session: ``rest:up`` (requests) and
``rest:down`` (responses), neither FIFO (HTTP requests on separate connections may overtake
each other). Both directions carry the endpoint as the message kind, ``"POST
/fapi/v1/order"``, and the request number as ``ref``, so a fault rule can target one endpoint
in one direction (``for_kinds(Drop(), "POST /fapi/v1/order")`` on ``rest:down`` is "the order
is placed but the client never hears back").

Invariants:

* the venue's ``handle_http`` runs exactly once per request that reaches it, at the arrival
  instant, whatever happens to the client (a timeout or a cancellation never un-sends it);
* the client's ``timeout.total`` is a virtual timer: it fires at exactly ``t0 + total`` and
  raises ``asyncio.TimeoutError`` (ccxt's ``RequestTimeout``);
* a response that finds no waiting client is dropped and traced as ``rest.late``.
"""

from __future__ import annotations

import asyncio
import http
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from sim.runtime.tasks import SimFuture, label_future
from sim.runtime.units import s_to_us
from sim.trace import Trace
from sim.transport.latency import ByEndpoint, LatencyModel
from sim.transport.link import Link, Message
from sim.transport.protocol import HttpRequest, HttpResponse, Venue
from sim.transport.urls import split_rest_url


class SimResponse:
    """What ``async with session.get(...) as response`` yields: the parts of
    ``aiohttp.ClientResponse`` that ccxt reads."""

    def __init__(self, method: str, url: str, response: HttpResponse) -> None:
        self.method = method
        self.url = url
        self.status = response.status
        self.reason = response.reason or _phrase(response.status)
        self.headers = CIMultiDictProxy(CIMultiDict(response.headers))
        self._body = response.body

    @property
    def ok(self) -> bool:
        return self.status < 400

    async def read(self) -> bytes:
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        return self._body.decode(encoding or "utf-8", errors)

    async def json(self, **_: Any) -> Any:
        return json.loads(self._body)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def __aenter__(self) -> SimResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class _Pending:
    __slots__ = ("future", "kind", "timer")

    def __init__(self, future: asyncio.Future, kind: str) -> None:
        self.future = future
        self.kind = kind
        self.timer: asyncio.TimerHandle | None = None


class RestChannel:
    """The REST side of a :class:`~sim.transport.session.SimSession`: ``up`` and ``down``
    are the links a nemesis targets."""

    def __init__(
        self,
        env: Any,
        venue: Venue,
        trace: Trace,
        *,
        up_latency: LatencyModel | ByEndpoint,
        down_latency: LatencyModel | ByEndpoint,
        up_rng: Any,
        down_rng: Any,
        trace_messages: bool = True,
    ) -> None:
        self._venue = venue
        self._trace = trace
        self._pending: dict[int, _Pending] = {}
        self._next_request_id = 0
        self.up = Link(
            env,
            "rest:up",
            self._on_request_arrival,
            latency=up_latency,
            rng=up_rng,
            trace=trace,
            trace_messages=trace_messages,
        )
        self.down = Link(
            env,
            "rest:down",
            self._on_response_arrival,
            latency=down_latency,
            rng=down_rng,
            trace=trace,
            trace_messages=trace_messages,
        )

    @property
    def requests_sent(self) -> int:
        return self._next_request_id

    async def request(
        self,
        method: str,
        url: Any,
        *,
        data: Any,
        headers: Mapping[str, str],
        timeout: Any,
    ) -> SimResponse:
        """Send one request and wait for its response (see the module docstring)."""
        raw_url = str(url)  # yarl.URL(..., encoded=True) gives the bytes exactly as sent
        method = method.upper()
        path, raw_query = split_rest_url(method, raw_url)
        self._next_request_id += 1
        request_id = self._next_request_id
        request = HttpRequest(
            method=method,
            url=raw_url,
            path=path,
            raw_query=raw_query,
            body=_body_bytes(data, method, raw_url),
            headers={str(k): str(v) for k, v in headers.items()},
            request_id=request_id,
        )
        kind = f"{method} {path}"
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        label_future(future, f"REST {kind} (awaiting response)")
        pending = self._pending[request_id] = _Pending(future, kind)
        total_s = _total_seconds(timeout)
        if total_s is not None:
            pending.timer = loop.call_later(total_s, self._expire, request_id)
            if isinstance(future, SimFuture):
                # A bounded wait: the runtime's stall watchdog must not flag it.
                future._sim_wakes_us = loop.now_us + s_to_us(total_s)
        self.up.send(Message(kind, request, ref=request_id))
        try:
            response: HttpResponse = await future
        except asyncio.CancelledError:
            if self._pending.pop(request_id, None) is not None:
                if pending.timer is not None:
                    pending.timer.cancel()
                self._trace.record("rest.abandoned", ref=request_id, msg=kind)
            raise
        return SimResponse(method, raw_url, response)

    def _on_request_arrival(self, message: Message) -> None:
        request: HttpRequest = message.payload
        response = self._venue.handle_http(request)
        if not isinstance(response, HttpResponse):
            raise TypeError(
                f"venue.handle_http({request.method} {request.path}) returned "
                f"{type(response).__name__}; it must return protocol.HttpResponse"
            )
        self.down.send(Message(message.kind, response, ref=message.ref))

    def _on_response_arrival(self, message: Message) -> None:
        pending = self._pending.pop(message.ref, None)
        if pending is None or pending.future.done():
            self._trace.record(
                "rest.late", ref=message.ref, msg=message.kind, status=message.payload.status
            )
            return
        if pending.timer is not None:
            pending.timer.cancel()
        pending.future.set_result(message.payload)

    def _expire(self, request_id: int) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None or pending.future.done():
            return
        self._trace.record("rest.timeout", ref=request_id, msg=pending.kind)
        pending.future.set_exception(TimeoutError())


def _total_seconds(timeout: Any) -> float | None:
    """aiohttp accepts a ``ClientTimeout`` (ccxt passes one) or a bare number of seconds."""
    if timeout is None:
        return None
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout.total
    if isinstance(timeout, int | float):
        return float(timeout)
    raise TypeError(f"timeout must be an aiohttp.ClientTimeout or seconds, got {timeout!r}")


def _body_bytes(data: Any, method: str, url: str) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    raise TypeError(
        f"REST {method} {url}: body of type {type(data).__name__} is not simulated "
        "(Binance takes url-encoded bytes; ccxt sends bytes)"
    )
