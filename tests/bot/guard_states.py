"""Named starting states of the stop guard, and the events that drive it, for table tests.

The states are built field by field (not by running the guard), so each row of a table says
exactly where it starts. ``test_guard_table.py`` checks that the main ones are also what the
guard itself reaches from ``FLAT``. Numbers are the SOONUSDT incident's: a long of 4 at
2.0333, initial stop 6 % below (1.9113), activation +1.5 %, callback 1 %, tick 0.0001.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from bot.core import messages as m
from bot.core.book import BookChange, Holding
from bot.core.guard import GuardConfig, GuardState, HoldingChanged, StopRef, base36
from bot.core.trailing import Trail, TrailParams

D = Decimal
SYMBOL = "SOONUSDT"
PARAMS = TrailParams(
    initial_stop_pct=D("6"),
    activation_pct=D("1.5"),
    callback_pct=D("1"),
    tick=D("0.0001"),
    min_move_ticks=1,
    min_move_interval_ms=0,
)
CONFIG = GuardConfig(
    prefix="fs",
    params=PARAMS,
    on_immediate_trigger="close",
    triggering_timeout_ms=5000,
    confirm_timeout_ms=10000,
)
REPRICE = dataclasses.replace(CONFIG, on_immediate_trigger="reprice")

ENTRY = D("2.0333")
QTY = D(4)
LONG_STOP = D("1.9113")  # 2.0333 × 0.94 = 1.911302, rounded down
SHORT_STOP = D("2.1553")  # 2.0333 × 1.06 = 2.155298, rounded up
ACTIVATING_MARK = D("2.06801642")  # above activation 2.0637995
TRAILED_STOP = D("2.0473")  # 2.06801642 × 0.99 = 2.04733625..., rounded down

T0 = 1_762_790_551_092  # 2025-11-10 16:02:31.092 UTC: the entry
T_FILL = T0 + 100
T_ACCEPT = T0 + 300
T_MARK = T0 + 89_000  # the activating mark
T_LATER = T0 + 90_000
STRAY = f"fs-s-{SYMBOL}-old-7"  # a previous run's stop
T_PREV = T0 - 3_600_000  # a previous position of the same symbol opened then


def entry_id() -> str:
    return f"fs-e-{SYMBOL}-{base36(T0)}-0"


def stop_id(seq: int) -> str:
    return f"fs-s-{SYMBOL}-{base36(T0)}-{seq}"


def close_id(seq: int) -> str:
    return f"fs-c-{SYMBOL}-{base36(T0)}-{seq}"


S1, S2, S3 = stop_id(1), stop_id(2), stop_id(3)
PREV_S1 = f"fs-s-{SYMBOL}-{base36(T_PREV)}-1"  # the previous position's stops
PREV_S2 = f"fs-s-{SYMBOL}-{base36(T_PREV)}-2"


# ------------------------------------------------------------------ trails


def initial_long() -> Trail:
    return Trail("long", ENTRY, LONG_STOP, last_move_ms=T_FILL)


def initial_short() -> Trail:
    return Trail("short", ENTRY, SHORT_STOP, last_move_ms=T_FILL)


def activated_long(stop: Decimal = TRAILED_STOP, best: Decimal = ACTIVATING_MARK) -> Trail:
    return Trail("long", ENTRY, stop, activated=True, best=best, last_move_ms=T_MARK)


# ------------------------------------------------------------------ states


def flat(*stops: StopRef, **changes) -> GuardState:
    return dataclasses.replace(GuardState(SYMBOL, stops=stops), **changes)


def flat_with_strays() -> GuardState:
    """After a restart: the listing showed a stop of ours the book cannot place yet."""
    return flat(StopRef(STRAY, D("1.95"), "working", T0))


def flat_with_doomed() -> GuardState:
    """Went flat during a replacement: the old stop is being cancelled, the new one is still
    being placed and must be cancelled once it is known."""
    return flat(
        StopRef(PREV_S1, LONG_STOP, "cancelling", T_PREV),
        StopRef(PREV_S2, TRAILED_STOP, "placing", T_PREV, cancel_when_known=True),
    )


def doomed(stop_state: str = "placing") -> StopRef:
    """The previous position's stop, still in flight, to be cancelled once known."""
    return StopRef(PREV_S2, TRAILED_STOP, stop_state, T_PREV, cancel_when_known=True)


def restate(state: GuardState, client_id: str, stop_state: str) -> GuardState:
    """``state`` with one of its stops in another lifecycle state."""
    stops = tuple(
        dataclasses.replace(s, state=stop_state) if s.client_id == client_id else s
        for s in state.stops
    )
    return dataclasses.replace(state, stops=stops)


def entering(*stops: StopRef) -> GuardState:
    return GuardState(
        SYMBOL, phase="ENTERING", stops=stops, opened_ms=T0, seq=1, entry_id=entry_id()
    )


def _open(side: str, **changes) -> GuardState:
    base = GuardState(
        SYMBOL,
        side=side,
        quantity=QTY,
        trail=initial_long() if side == "long" else initial_short(),
        opened_ms=T0,
        entry_id=entry_id(),
    )
    return dataclasses.replace(base, **changes)


def unprotected(side: str = "long", stop_state: str = "placing", **changes) -> GuardState:
    """The first stop is being placed (or its outcome is unknown)."""
    level = LONG_STOP if side == "long" else SHORT_STOP
    stop = StopRef(S1, level, stop_state, T_FILL)
    return _open(side, phase="UNPROTECTED", stops=(stop,), seq=2, **changes)


def protected(side: str = "long", stop_state: str = "working", **changes) -> GuardState:
    """The initial stop works (``stop_state`` lets a row start from TRIGGERING etc.)."""
    level = LONG_STOP if side == "long" else SHORT_STOP
    stop = StopRef(S1, level, stop_state, T_ACCEPT)
    return _open(side, phase="PROTECTED", stops=(stop,), seq=2, **changes)


def replacing(trail: Trail | None = None, mark: Decimal = ACTIVATING_MARK) -> GuardState:
    """The trail moved: the new stop S2 is being placed while the old S1 still works."""
    return _open(
        "long",
        phase="PROTECTED",
        trail=trail or activated_long(),
        stops=(
            StopRef(S1, LONG_STOP, "working", T_ACCEPT),
            StopRef(S2, TRAILED_STOP, "placing", T_MARK),
        ),
        seq=3,
        mark=mark,
    )


def replaced() -> GuardState:
    """S2 was accepted: S1 is being cancelled."""
    return _open(
        "long",
        phase="PROTECTED",
        trail=activated_long(),
        stops=(
            StopRef(S1, LONG_STOP, "cancelling", T_ACCEPT),
            StopRef(S2, TRAILED_STOP, "working", T_MARK + 300),
        ),
        seq=3,
        mark=ACTIVATING_MARK,
    )


def closing(*stops: StopRef, **changes) -> GuardState:
    """A market close (C2) is in flight since T_LATER."""
    return _open(
        "long",
        phase="CLOSING",
        stops=stops,
        seq=3,
        close_id=close_id(2),
        close_since_ms=T_LATER,
        **changes,
    )


# ------------------------------------------------------------------ events


def holding(amount, entry=ENTRY, t_ms: int = T_FILL, source: str = "fill") -> Holding:
    return Holding(SYMBOL, D(amount), D(entry) if D(amount) else D(0), t_ms, source)


def changed(before, after, entry=ENTRY, t_ms: int = T_FILL, source: str = "fill"):
    """The book's amount went from ``before`` to ``after`` (entry ``entry``)."""
    old = (
        holding(before, ENTRY, T0, "fill") if D(before) else Holding(SYMBOL, D(0), D(0), 0, "none")
    )
    return HoldingChanged(BookChange(old, holding(after, entry, t_ms, source)), t_ms)


def accepted(client_id: str, t_ms: int = T_ACCEPT) -> m.OrderAccepted:
    return m.OrderAccepted(SYMBOL, client_id, t_ms)


def rejected(client_id: str, code: int, t_ms: int = T_ACCEPT) -> m.OrderRejected:
    return m.OrderRejected(SYMBOL, client_id, code, t_ms)


def unknown(client_id: str, t_ms: int = T_ACCEPT) -> m.OrderOutcomeUnknown:
    return m.OrderOutcomeUnknown(SYMBOL, client_id, t_ms)


def not_found(client_id: str, t_ms: int = T_ACCEPT) -> m.OrderNotFound:
    return m.OrderNotFound(SYMBOL, client_id, t_ms)


def status(client_id: str, value: str, t_ms: int = T_LATER) -> m.StopStatusChanged:
    return m.StopStatusChanged(SYMBOL, client_id, value, t_ms)


def cancelled(client_id: str, t_ms: int = T_LATER) -> m.StopCancelled:
    return m.StopCancelled(SYMBOL, client_id, t_ms)


def mark(price, t_ms: int = T_LATER) -> m.MarkPriced:
    return m.MarkPriced(SYMBOL, D(price), t_ms)


def timer(t_ms: int) -> m.TimerFired:
    return m.TimerFired(SYMBOL, t_ms)


def listed(*stops: tuple[str, str], t_ms: int = T_LATER) -> m.OpenStopsListed:
    return m.OpenStopsListed(SYMBOL, tuple((cid, D(level)) for cid, level in stops), t_ms)
