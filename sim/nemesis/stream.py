"""WebSocket faults: user-data frames delayed, dropped, duplicated or held, and connections
reset.

User-data faults are rules on the down link (venue → client) of **every user-data
connection, current and future** (``session.ws.add_rule(..., where=user_data)``): ccxt opens
a new connection after every drop, and a fault window must not have a hole where a fresh
connection slips through. The heal takes the rule off every link it was put on.

Ordering (binance-usdm.md §9.5): Binance orders the frames of one event type on one
connection, so no fault reorders within one type. A *delay* keeps the stream's order (a
connection is FIFO: the frames behind a delayed one wait too); a *held* burst is reordered
across types only; a *duplicate* is a resend and may arrive after later frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

from sim.nemesis.base import FaultEffect, Quota
from sim.nemesis.params import USER_EVENTS, Param
from sim.transport.actions import Action, Delay, Drop, Duplicate, Hold
from sim.transport.link import Message
from sim.transport.ws_registry import any_connection, market_data, user_data

EVENTS_HELP = "user-data event types: ALGO_UPDATE, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE"
BY_TYPE = ("ALGO_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE")  # ACCOUNT_UPDATE last


def _events_param() -> Param:
    return Param("events", USER_EVENTS, EVENTS_HELP)


class _UserStreamRule(FaultEffect):
    """A rule on the user-data down links, for the frames whose type is in ``events``."""

    def bind(self) -> None:
        self._events = frozenset(self.params["events"])
        self._handle: int | None = None

    def action(self, message: Message) -> Action | None:
        raise NotImplementedError

    def _rule(self, message: Message) -> Action | None:
        if message.kind not in self._events:
            return None
        return self.action(message)

    def start(self) -> None:
        self._handle = self.world.session.ws.add_rule(self._rule, direction="down", where=user_data)

    def heal(self) -> None:
        if self._handle is not None:
            self.world.session.ws.remove_rule(self._handle)
            self._handle = None


class UserStreamDelayed(_UserStreamRule):
    """Frames of ``events`` reach the client ``delay_ms`` late (and, the connection being
    FIFO, so does everything sent after them on it). Heal: no more extra delay; frames in
    flight keep their due time."""

    kind = "user_stream_delayed"
    PARAMS: ClassVar = {
        "events": _events_param(),
        "delay_ms": Param("ms", help="extra delay of each frame"),
    }

    def action(self, message: Message) -> Action | None:
        return Delay(self.params["delay_ms"] * 1000)


class UserStreamDropped(_UserStreamRule):
    """Frames of ``events`` are lost: the first ``count`` (over all connections), or all
    while active. Heal: frames flow again (lost ones stay lost)."""

    kind = "user_stream_dropped"
    PARAMS: ClassVar = {
        "events": _events_param(),
        "count": Param("count", 0, "frames to lose (0: every one while active)"),
    }

    def bind(self) -> None:
        super().bind()
        self._quota = Quota(self.params["count"])

    def action(self, message: Message) -> Action | None:
        return Drop() if self._quota.take() else None


class UserStreamDuplicated(_UserStreamRule):
    """Every frame of ``events`` arrives twice (the copy right behind the original). Heal:
    once again."""

    kind = "user_stream_duplicated"
    PARAMS: ClassVar = {"events": _events_param()}

    def action(self, message: Message) -> Action | None:
        return Duplicate(copies=1)


def release_order(held: Sequence[Message], order: str) -> list[Message]:
    """The held frames in the order a burst delivers them; never reorders within one type.

    ``by_type``: grouped by type, ALGO_UPDATE, ORDER_TRADE_UPDATE, then ACCOUNT_UPDATE last.
    ``reversed``: the sequence of types reversed (the last frame's type comes first, ...),
    each type's frames still in the order they were sent.
    """
    if order == "by_type":
        rank = {kind: i for i, kind in enumerate(BY_TYPE)}
        return sorted(held, key=lambda m: rank.get(m.kind, len(rank)))
    queues: dict[str, deque[Message]] = {}
    for message in held:
        queues.setdefault(message.kind, deque()).append(message)
    return [queues[message.kind].popleft() for message in reversed(held)]


class UserStreamHeld(_UserStreamRule):
    """Frames of ``events`` are held back; other frames pass (so they overtake the held
    ones). Heal: every held frame is released at once, one burst per connection, in
    ``order`` (see :func:`release_order`). A connection that died meanwhile loses them."""

    kind = "user_stream_held"
    PARAMS: ClassVar = {
        "events": _events_param(),
        "order": Param("choice", "by_type", choices=("by_type", "reversed")),
    }

    def action(self, message: Message) -> Action | None:
        return Hold()

    def heal(self) -> None:
        if self._handle is None:
            return
        super().heal()
        for conn in self.world.session.ws.all_connections():
            if not user_data(conn) or not conn.down.held:
                continue
            burst = release_order(conn.down.held, self.params["order"])
            position = {id(message): i for i, message in enumerate(burst)}
            conn.down.release_held(order=lambda m, p=position: p[id(m)])


_STREAMS: dict[str, Any] = {"user": user_data, "market": market_data, "all": any_connection}


class StreamDisconnected(FaultEffect):
    """The live connections of ``streams`` die now (a TCP reset): ccxt's pending watches
    fail with ``NetworkError`` and the next watch reconnects. Instantaneous."""

    kind = "stream_disconnected"
    INSTANT = True
    PARAMS: ClassVar = {"streams": Param("choice", "user", choices=("user", "market", "all"))}

    def start(self) -> None:
        self.world.session.ws.reset(_STREAMS[self.params["streams"]])
