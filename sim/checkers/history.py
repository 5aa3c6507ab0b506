"""Reading a run's records the way every checker needs to: the exchange's truth over time,
which of its algo orders protect a position, the checker's parameters, and evidence.

Invariant: the only input is the list of records (``sim/RECORDS.md``); a record is referred
to in evidence by ``seq``, its index in that list, so a person can find it in the trace file
(line ``seq + 1``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sim.checkers.coverage import PROTECTIVE_TYPES

ZERO = Decimal(0)
ACTIVE_STATUSES = ("NEW", "TRIGGERING")  # an algo order that can still fire
MAX_EVIDENCE = 20  # items kept per verdict; the rest are counted in metrics


# ------------------------------------------------------------------ parameters


def settings(
    checker: str, params: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """The checker's parameters: ``defaults`` overridden by ``params``. An unknown name is a
    scenario error (a typo would silently weaken a check), so it raises."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults)) or "none"
        raise ValueError(
            f"checker {checker!r}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"known: {known}"
        )
    return {**defaults, **params}


def as_ms(checker: str, name: str, value: Any, unit: str = "milliseconds") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"checker {checker!r}: parameter {name!r} must be a whole number of "
            f"{unit} >= 0, got {value!r}"
        )
    return value


def as_decimal(checker: str, name: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if isinstance(value, bool) or not number.is_finite() or number < 0:
        raise ValueError(
            f"checker {checker!r}: parameter {name!r} must be a number >= 0 "
            f'(e.g. "0.5"), got {value!r}'
        )
    return number


# ------------------------------------------------------------------ the exchange's truth


def truths(records: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(seq, record)`` of every ``venue.truth`` record, in order."""
    for seq, record in enumerate(records):
        if record["kind"] == "venue.truth":
            yield seq, record


def truth_missing(records: list[dict[str, Any]]) -> bool:
    """Fills happened but the venue recorded no ground truth (``trace_truth`` off): a
    checker of the exchange's state cannot decide."""
    kinds = {r["kind"] for r in records}
    return "venue.truth" not in kinds and "venue.fill" in kinds


def amount_of(truth: Mapping[str, Any] | None, symbol: str) -> Decimal:
    if truth is None:
        return ZERO
    return Decimal(truth["positions"].get(symbol, {}).get("amount", "0"))


def live_stops(
    truth: Mapping[str, Any] | None, symbol: str, side: str | None = None
) -> list[dict[str, Any]]:
    """The open algo orders of ``symbol`` that are stops and can still fire (``NEW`` or
    ``TRIGGERING``), on ``side`` if given (``BUY``/``SELL``)."""
    if truth is None:
        return []
    return [
        a
        for a in truth["open_algo_orders"]
        if a["symbol"] == symbol
        and a["type"] in PROTECTIVE_TYPES
        and a["status"] in ACTIVE_STATUSES
        and (side is None or a["side"] == side)
    ]


def closing_side(amount: Decimal) -> str:
    return "SELL" if amount > 0 else "BUY"


def protecting_stops(truth: Mapping[str, Any] | None, symbol: str) -> list[dict[str, Any]]:
    """The stops that would close the position ``symbol`` holds in ``truth`` (empty if flat):
    the same rule as :func:`sim.checkers.coverage.protected`."""
    amount = amount_of(truth, symbol)
    if amount == 0:
        return []
    return [
        a
        for a in live_stops(truth, symbol, closing_side(amount))
        if a["close_position"] or Decimal(a["qty"]) > 0
    ]


def symbols_of(records: list[dict[str, Any]], wanted: tuple[str, ...] = ()) -> list[str]:
    """``wanted`` if given, else every symbol the venue's truth mentions, sorted."""
    if wanted:
        return list(wanted)
    found: set[str] = set()
    for _, truth in truths(records):
        found.update(truth["positions"])
        found.update(a["symbol"] for a in truth["open_algo_orders"])
    return sorted(found)


# ------------------------------------------------------------------ evidence


def truth_excerpt(seq: int, truth: Mapping[str, Any] | None, symbol: str) -> dict[str, Any]:
    """A ``venue.truth`` record cut down to one symbol (``seq`` -1: the empty state before
    the first record)."""
    if truth is None:
        return {"seq": -1, "kind": "venue.truth", "t_ms": None, "position": None, "algos": []}
    return {
        "seq": seq,
        "kind": "venue.truth",
        "t_ms": truth["t_ms"],
        "position": truth["positions"].get(symbol),
        "algos": [a for a in truth["open_algo_orders"] if a["symbol"] == symbol],
    }


def excerpt(seq: int, record: Mapping[str, Any]) -> dict[str, Any]:
    return {"seq": seq, **record}


def capped(
    items: list[dict[str, Any]], metrics: dict[str, int | str]
) -> tuple[dict[str, Any], ...]:
    """At most :data:`MAX_EVIDENCE` items; how many were left out goes to metrics."""
    if len(items) > MAX_EVIDENCE:
        metrics["evidence_omitted"] = len(items) - MAX_EVIDENCE
    return tuple(items[:MAX_EVIDENCE])


def fmt(value: Decimal) -> str:
    """A decimal for people and traces: no exponent, no trailing zeros."""
    text = f"{value.normalize():f}" if value else "0"
    return text
