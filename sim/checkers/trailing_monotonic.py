"""trailing_monotonic: a position's stop only ever moves in the protective direction.

Rule. From the venue's ground truth (``venue.truth``), per symbol, while a position is open:
its *stop level* is the most protective of its open stops on the closing side (``NEW`` or
``TRIGGERING``; for a long the highest ``SELL`` trigger, for a short the lowest ``BUY``
trigger). Taking the most protective of all live stops is what makes a replacement by
place-new-then-cancel-old invisible: while both exist, the level is the new (tighter) one.
Between consecutive records that have a level, the level must never move against the
position (a long's down, a short's up). An interval with no stop at all (a naked window,
``stop_coverage``'s concern) is skipped: the level after it is compared with the level before
it, so cancel-old-then-place-lower still fails. The position going flat, or flipping side,
starts afresh.

Evidence: the pair of truth records between which the level loosened.

Parameters: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import (
    amount_of,
    capped,
    closing_side,
    fmt,
    live_stops,
    settings,
    symbols_of,
    truth_excerpt,
    truth_missing,
    truths,
)
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "trailing_monotonic"


@dataclass(slots=True)
class _Held:
    long: bool
    level: Decimal | None = None
    seq: int = -1
    truth: dict[str, Any] | None = None


def level_of(truth: Mapping[str, Any], symbol: str, amount: Decimal) -> Decimal | None:
    triggers = [Decimal(a["trigger"]) for a in live_stops(truth, symbol, closing_side(amount))]
    if not triggers:
        return None
    return max(triggers) if amount > 0 else min(triggers)


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    settings(NAME, params, {})
    if truth_missing(records):
        return Verdict(NAME, UNKNOWN, "fills were recorded but no venue.truth: cannot judge")
    symbols = symbols_of(records, ctx.symbols)
    held: dict[str, _Held] = {}
    violations: list[dict[str, Any]] = []
    positions = tightenings = 0
    for seq, truth in truths(records):
        for symbol in symbols:
            amount = amount_of(truth, symbol)
            current = held.get(symbol)
            if amount == 0:
                held.pop(symbol, None)
                continue
            if current is None or current.long != (amount > 0):
                positions += 1
                current = held[symbol] = _Held(long=amount > 0)
            level = level_of(truth, symbol, amount)
            if level is None:
                continue
            before = current.level
            if before is not None and level != before:
                loosened = level < before if current.long else level > before
                if loosened:
                    violations.append(
                        {
                            "t_ms": current.truth["t_ms"] if current.truth else truth["t_ms"],
                            "until_ms": truth["t_ms"],
                            "symbol": symbol,
                            "what": "the stop moved against the position",
                            "side": "long" if current.long else "short",
                            "level_before": fmt(before),
                            "level_after": fmt(level),
                            "records": [
                                truth_excerpt(current.seq, current.truth, symbol),
                                truth_excerpt(seq, truth, symbol),
                            ],
                        }
                    )
                else:
                    tightenings += 1
            current.level, current.seq, current.truth = level, seq, truth
    metrics: dict[str, int | str] = {
        "positions": positions,
        "tightenings": tightenings,
        "violations": len(violations),
    }
    if violations:
        first = violations[0]
        summary = (
            f"{len(violations)} loosening(s); first: {first['symbol']} {first['side']} stop "
            f"{first['level_before']} -> {first['level_after']} at t={first['until_ms']}"
        )
        return Verdict(NAME, FAIL, summary, capped(violations, metrics), metrics)
    if positions == 0:
        return Verdict(NAME, PASS, "no position was ever open: no stop to trail", (), metrics)
    summary = f"{positions} position(s); the stop moved {tightenings} time(s), never back"
    return Verdict(NAME, PASS, summary, (), metrics)
