"""WsRegistry: every WebSocket connection of a session, and the way a nemesis reaches them.

ccxt opens connections on its own schedule (one per market-data subscription, one for user
data, a new one after every drop), so a fault must be able to say "all user-data connections,
current and future". Two tools do that:

* ``registry.add_rule(rule, direction="down", where=user_data)`` puts ``rule`` on the
  matching link of every live connection now **and of every connection opened later**, until
  ``registry.remove_rule(handle)`` takes it off all of them (the heal);
* ``registry.on_connect(callback)`` calls ``callback(conn)`` for every new connection (and,
  by default, every live one), before its handshake is sent, for anything else.

Invariants: connections are numbered from 1 in dial order and listed in that order (never
in set or hash order); a rule added through the registry reaches a new connection before
its first message, so a new connection cannot slip through a fault window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.runtime.entropy import Streams
from sim.trace import Trace
from sim.transport.actions import Rule
from sim.transport.latency import LatencyModel
from sim.transport.protocol import Venue
from sim.transport.urls import split_ws_url
from sim.transport.ws_client import SimWebSocket
from sim.transport.ws_connection import WsConnection

ConnFilter = Callable[[WsConnection], bool]


def user_data(conn: WsConnection) -> bool:
    """Filter: the user data stream (``/private/...``)."""
    return conn.is_user_data


def market_data(conn: WsConnection) -> bool:
    """Filter: market streams (``/market/...`` and ``/public/...``)."""
    return conn.route in ("market", "public")


def any_connection(conn: WsConnection) -> bool:
    return True


class _RegistryRule:
    __slots__ = ("applied", "direction", "rule", "where")

    def __init__(self, rule: Rule, direction: str, where: ConnFilter) -> None:
        self.rule = rule
        self.direction = direction
        self.where = where
        self.applied: list[tuple[Any, int]] = []  # (link, link's rule handle)

    def apply(self, conn: WsConnection) -> None:
        if not self.where(conn):
            return
        links = {"up": (conn.up,), "down": (conn.down,), "both": (conn.up, conn.down)}
        for link in links[self.direction]:
            self.applied.append((link, link.add_rule(self.rule)))


class WsRegistry:
    """Dials connections for a session and keeps them, numbered, for faults and reports.

    ``latency``: a model for both directions, or a callable ``url -> model`` (e.g. slower
    user data). ``trace_messages``: per-frame tracing, a bool or ``url -> bool`` (market data
    can be very high volume; connection events are traced regardless).
    """

    def __init__(
        self,
        env: Any,
        venue: Venue,
        trace: Trace,
        streams: Streams,
        *,
        latency: LatencyModel | Callable[[str], LatencyModel],
        trace_messages: bool | Callable[[str], bool] = True,
    ) -> None:
        self._env = env
        self._venue = venue
        self._trace = trace
        self._streams = streams
        self._latency = latency
        self._trace_messages = trace_messages
        self._conns: dict[int, WsConnection] = {}
        self._watchers: dict[int, Callable[[WsConnection], None]] = {}
        self._rules: dict[int, _RegistryRule] = {}
        self._next_handle = 0

    # ----------------------------------------------------------------- dialling
    async def connect(self, url: str, *, autoping: bool, autoclose: bool) -> SimWebSocket:
        """Open a connection: register it (rules and watchers first), then handshake."""
        path, raw_query = split_ws_url(url)
        conn_id = len(self._conns) + 1
        latency = self._latency if hasattr(self._latency, "draw_us") else self._latency(url)
        tracing = self._trace_messages
        if not isinstance(tracing, bool):
            tracing = bool(tracing(url))
        conn = WsConnection(
            conn_id,
            url,
            path,
            raw_query,
            env=self._env,
            venue=self._venue,
            trace=self._trace,
            up_latency=latency,
            down_latency=latency,
            up_rng=self._streams[f"latency:ws:{conn_id}:up"],
            down_rng=self._streams[f"latency:ws:{conn_id}:down"],
            trace_messages=tracing,
            autoping=autoping,
            autoclose=autoclose,
        )
        self._conns[conn_id] = conn
        for spec in self._rules.values():
            spec.apply(conn)
        for watcher in list(self._watchers.values()):
            watcher(conn)
        return await conn.handshake()

    # ----------------------------------------------------------------- finding connections
    def connections(self, where: ConnFilter | None = None) -> list[WsConnection]:
        """Live connections (optionally filtered), in dial order."""
        return [c for c in self._conns.values() if c.live and (where is None or where(c))]

    def all_connections(self) -> list[WsConnection]:
        """Every connection ever dialled in this session, in dial order."""
        return list(self._conns.values())

    def get(self, conn_id: int) -> WsConnection:
        return self._conns[conn_id]

    def on_connect(self, callback: Callable[[WsConnection], None], *, existing: bool = True) -> int:
        """Call ``callback(conn)`` for each new connection (before its handshake is sent),
        and now for each live one if ``existing``. Returns a handle for :meth:`cancel`."""
        self._next_handle += 1
        self._watchers[self._next_handle] = callback
        if existing:
            for conn in self.connections():
                callback(conn)
        return self._next_handle

    def cancel(self, handle: int) -> bool:
        return self._watchers.pop(handle, None) is not None

    # ----------------------------------------------------------------- faults
    def add_rule(
        self, rule: Rule, *, direction: str = "down", where: ConnFilter | None = None
    ) -> int:
        """Put ``rule`` on the ``direction`` link(s) (``"down"``: venue → client, ``"up"``,
        or ``"both"``) of every live connection matching ``where``, and of every matching
        connection dialled later, until :meth:`remove_rule`."""
        if direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
        spec = _RegistryRule(rule, direction, where or any_connection)
        for conn in self.connections():
            spec.apply(conn)
        self._next_handle += 1
        self._rules[self._next_handle] = spec
        return self._next_handle

    def remove_rule(self, handle: int) -> bool:
        """Take a registry rule off every link it was put on; True if it existed."""
        spec = self._rules.pop(handle, None)
        if spec is None:
            return False
        for link, link_handle in spec.applied:
            link.remove_rule(link_handle)
        spec.applied.clear()
        return True

    def reset(self, where: ConnFilter | None = None) -> list[int]:
        """Reset every live matching connection (see :meth:`WsConnection.reset`); returns
        their numbers."""
        conns = self.connections(where)
        for conn in conns:
            conn.reset()
        return [conn.conn_id for conn in conns]
