"""SimSession: what ccxt gets as its ``session``: an aiohttp ``ClientSession`` look-alike
whose REST calls and WebSockets travel simulated links to the venue, on the virtual clock.

::

    session = SimSession(sim, venue, rest_latency=Fixed(250), ws_latency=Fixed(100))
    ex = ccxt.pro.binanceusdm({"session": session, "enableRateLimit": False, ...})

With the session injected, ccxt never builds aiohttp's network code (it does so only for a
session it owns), while its request building, signing, error mapping and WebSocket client
run as shipped (``../shared/reference/virtual-time.md`` §11). Keep ccxt's production URLs:
only they are simulated, everything else raises :class:`~sim.transport.urls.UnsimulatedHost`.

Where a nemesis reaches in:

* ``session.rest.up`` / ``session.rest.down``: the REST links; messages are named
  ``"METHOD /path"``, so ``session.rest.down.add_rule(for_kinds(Drop(), "POST
  /fapi/v1/order"))`` loses order responses (the order still takes effect);
* ``session.ws``: the :class:`~sim.transport.ws_registry.WsRegistry` of every WebSocket;
  ``session.ws.add_rule(rule, where=user_data)`` covers current and future user-data
  connections.

One session per run; pass it to every ccxt instance of that run (a bot restarted mid-run
gets a new ccxt instance on the same session). Request and connection numbers are unique
per session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from sim.runtime.simulation import Simulation
from sim.transport.latency import ByEndpoint, Fixed, LatencyModel
from sim.transport.protocol import REST_HOSTS, WS_HOSTS, Venue
from sim.transport.rest import RestChannel, SimResponse
from sim.transport.urls import UnsimulatedHost
from sim.transport.ws_client import SimWebSocket
from sim.transport.ws_registry import WsRegistry


class _RequestContext:
    """``session.get(...)``'s result: awaitable, or ``async with``."""

    __slots__ = ("_call", "_response")

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._response: SimResponse | None = None

    async def __aenter__(self) -> SimResponse:
        self._response = await self._call()
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.release()

    def __await__(self) -> Any:
        return self.__aenter__().__await__()


class _WsContext:
    """``session.ws_connect(...)``'s result: awaitable, or ``async with`` (closes on exit)."""

    __slots__ = ("_call", "_ws")

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._ws: SimWebSocket | None = None

    async def __aenter__(self) -> SimWebSocket:
        self._ws = await self._call()
        return self._ws

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    def __await__(self) -> Any:
        return self.__aenter__().__await__()


NO_LATENCY = Fixed(0)


class SimSession:
    """The simulated network of one run, as ccxt's ``session``.

    ``rest_latency`` applies to both REST directions unless ``rest_down_latency`` is given;
    either may be a :class:`~sim.transport.latency.ByEndpoint`. ``ws_latency`` is a model or
    ``url -> model``. ``trace_rest`` / ``trace_ws``: per-message tracing (``trace_ws`` may
    be ``url -> bool``, e.g. off for market data); faults and connection events are always
    traced. ``strict_hosts``: an unsimulated host also fails the run (reported to the loop),
    even if the bot catches the error, because ccxt itself swallows WebSocket dial errors
    into a ``NetworkError`` and retries.
    """

    def __init__(
        self,
        sim: Simulation,
        venue: Venue,
        *,
        rest_latency: LatencyModel | ByEndpoint = NO_LATENCY,
        rest_down_latency: LatencyModel | ByEndpoint | None = None,
        ws_latency: LatencyModel | Callable[[str], LatencyModel] = NO_LATENCY,
        trace_rest: bool = True,
        trace_ws: bool | Callable[[str], bool] = True,
        strict_hosts: bool = True,
    ) -> None:
        self.sim = sim
        self.venue = venue
        self.headers: dict[str, str] = {}
        self.strict_hosts = strict_hosts
        self._closed = False
        self.rest = RestChannel(
            sim.env,
            venue,
            sim.trace,
            up_latency=rest_latency,
            down_latency=rest_latency if rest_down_latency is None else rest_down_latency,
            up_rng=sim.streams["latency:rest:up"],
            down_rng=sim.streams["latency:rest:down"],
            trace_messages=trace_rest,
        )
        self.ws = WsRegistry(
            sim.env, venue, sim.trace, sim.streams, latency=ws_latency, trace_messages=trace_ws
        )

    # ----------------------------------------------------------------- REST (aiohttp API)
    def request(
        self,
        method: str,
        url: Any,
        *,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        proxy: Any = None,
        **unsupported: Any,
    ) -> _RequestContext:
        async def call() -> SimResponse:
            try:
                self._check_usable(f"REST {method.upper()}", url, proxy, unsupported)
                merged = dict(self.headers)
                if headers:
                    merged.update(headers)
                return await self.rest.request(
                    method, url, data=data, headers=merged, timeout=timeout
                )
            except UnsimulatedHost as err:
                self._report(err)
                raise

        return _RequestContext(call)

    def get(self, url: Any, **kw: Any) -> _RequestContext:
        return self.request("GET", url, **kw)

    def post(self, url: Any, **kw: Any) -> _RequestContext:
        return self.request("POST", url, **kw)

    def put(self, url: Any, **kw: Any) -> _RequestContext:
        return self.request("PUT", url, **kw)

    def delete(self, url: Any, **kw: Any) -> _RequestContext:
        return self.request("DELETE", url, **kw)

    def patch(self, url: Any, **kw: Any) -> _RequestContext:
        return self.request("PATCH", url, **kw)

    # ----------------------------------------------------------------- WebSocket (aiohttp API)
    def ws_connect(
        self,
        url: Any,
        *,
        autoping: bool = True,
        autoclose: bool = True,
        proxy: Any = None,
        **_options: Any,
    ) -> _WsContext:
        """Options ccxt passes that mean nothing here (``headers``, ``compress``,
        ``max_msg_size``) are accepted and ignored."""

        async def call() -> SimWebSocket:
            try:
                self._check_usable("WebSocket", url, proxy, {})
                return await self.ws.connect(str(url), autoping=autoping, autoclose=autoclose)
            except UnsimulatedHost as err:
                self._report(err)
                raise

        return _WsContext(call)

    # ----------------------------------------------------------------- lifecycle
    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Marks the session closed (ccxt never closes a session it did not create)."""
        self._closed = True

    async def __aenter__(self) -> SimSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- guards
    def _check_usable(self, what: str, url: Any, proxy: Any, unsupported: Mapping) -> None:
        if self._closed:
            raise RuntimeError(f"{what} {url}: the SimSession is closed")
        if proxy is not None:
            raise UnsimulatedHost(f"{what} via proxy {proxy}", str(url), REST_HOSTS + WS_HOSTS)
        if unsupported:
            raise TypeError(
                f"{what} {url}: options {sorted(unsupported)} are not simulated "
                "(the session takes data=, headers=, timeout=, proxy=None)"
            )

    def _report(self, err: UnsimulatedHost) -> None:
        if self.strict_hosts:
            asyncio.get_running_loop().call_exception_handler(
                {"message": "request to an unsimulated host", "exception": err}
            )
