"""Stop levels: the initial stop-loss and the trailing stop, as pure arithmetic.

A long's stop sits below the market and only ever rises; a short's sits above and only ever
falls. Levels are on the symbol's tick grid, rounded *away from the market* (a long's down,
a short's up), so rounding never tightens a stop beyond what was asked. Trailing starts once
the mark reaches ``entry * (1 ± activation %)``; from then on the wanted level is
``best * (1 ∓ callback %)``, where ``best`` is the most favourable mark since activation.
A move happens only if it is at least ``min_move_ticks`` and ``min_move_interval_ms`` after
the previous one (rate limits). A wanted level the mark has already crossed is reported as
``crossed``: placing it would be refused with -2021, and the stop would have fired anyway.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class TrailParams:
    initial_stop_pct: Decimal
    activation_pct: Decimal
    callback_pct: Decimal
    tick: Decimal
    min_move_ticks: int = 1
    min_move_interval_ms: int = 0


@dataclass(frozen=True, slots=True)
class Trail:
    side: str  # "long" | "short"
    entry: Decimal
    stop: Decimal  # the level protection should be at
    activated: bool = False
    best: Decimal | None = None  # most favourable mark since activation
    last_move_ms: int = 0
    crossed: bool = False  # the wanted level is at or beyond the mark


def to_tick(price: Decimal, tick: Decimal, side: str) -> Decimal:
    """Round a stop level to the tick grid away from the market."""
    rounding = ROUND_FLOOR if side == "long" else ROUND_CEILING
    return (price / tick).to_integral_value(rounding=rounding) * tick


def activation_price(side: str, entry: Decimal, params: TrailParams) -> Decimal:
    factor = params.activation_pct / HUNDRED
    return entry * (1 + factor) if side == "long" else entry * (1 - factor)


def initial_trail(side: str, entry: Decimal, params: TrailParams, now_ms: int) -> Trail:
    factor = params.initial_stop_pct / HUNDRED
    level = entry * (1 - factor) if side == "long" else entry * (1 + factor)
    return Trail(
        side=side, entry=entry, stop=to_tick(level, params.tick, side), last_move_ms=now_ms
    )


def beyond(side: str, stop: Decimal, mark: Decimal) -> bool:
    """Whether ``mark`` is at or past ``stop`` (the stop would fire / be refused)."""
    return mark <= stop if side == "long" else mark >= stop


def on_mark(trail: Trail, mark: Decimal, now_ms: int, params: TrailParams) -> Trail:
    """The trail after one mark price. ``stop`` changes only as a ratchet, in steps of at
    least ``min_move_ticks``, no sooner than ``min_move_interval_ms`` after the last move."""
    long = trail.side == "long"
    activated, best = trail.activated, trail.best
    if not activated:
        threshold = activation_price(trail.side, trail.entry, params)
        if (mark >= threshold) if long else (mark <= threshold):
            activated, best = True, mark
    elif best is not None:
        best = max(best, mark) if long else min(best, mark)
    stop, last_move_ms = trail.stop, trail.last_move_ms
    if activated and best is not None:
        rate = params.callback_pct / HUNDRED
        wanted = to_tick(best * (1 - rate) if long else best * (1 + rate), params.tick, trail.side)
        step = (wanted - stop) if long else (stop - wanted)
        due = now_ms - last_move_ms >= params.min_move_interval_ms
        if step >= params.min_move_ticks * params.tick and due:
            stop, last_move_ms = wanted, now_ms
    return dataclasses.replace(
        trail,
        activated=activated,
        best=best,
        stop=stop,
        last_move_ms=last_move_ms,
        crossed=beyond(trail.side, stop, mark),
    )
