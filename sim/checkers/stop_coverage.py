"""stop_coverage: while the exchange holds a position, a working stop that would close it
exists on the exchange.

Rule. From the venue's ground truth (``venue.truth``), every *naked window* — an interval in
which a symbol's position was non-zero and no open algo stop on the closing side (``NEW`` or
``TRIGGERING``, ``closePosition`` or with a quantity) existed — is measured
(:func:`sim.checkers.coverage.naked_windows`). The window that opens together with a position
(the entry window: the stop cannot exist before the fill) counts only for its part beyond
``entry_window_ms``; every other window counts whole. The check fails if a window's counted
time exceeds ``max_naked_ms``, or, when ``max_naked_notional_ms`` is given, if its counted
time × the position's notional (|amount| × the last ``venue.price`` mark at the window's
start, or the entry price without a mark) exceeds it. A window still open at the run's end
ends at ``ctx.end_ms``.

Parameters: ``max_naked_ms`` (default 0), ``entry_window_ms`` (default
``ctx.entry_window_ms``), ``max_naked_notional_ms`` (default none: no notional bound).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.coverage import NakedWindow, naked_windows
from sim.checkers.history import (
    ZERO,
    as_decimal,
    as_ms,
    capped,
    fmt,
    protecting_stops,
    settings,
    truth_excerpt,
    truth_missing,
    truths,
)
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "stop_coverage"


def _marks(records: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[Decimal]]]:
    marks: dict[str, tuple[list[int], list[Decimal]]] = {}
    for record in records:
        if record["kind"] == "venue.price":
            times, values = marks.setdefault(record["symbol"], ([], []))
            times.append(record["t_ms"])
            values.append(Decimal(record["mark"]))
    return marks


def _mark_at(marks, symbol: str, t_ms: int) -> Decimal | None:
    times, values = marks.get(symbol, ([], []))
    at = bisect.bisect_right(times, t_ms)
    return values[at - 1] if at else None


def _boundary(
    truth_list: list[tuple[int, dict[str, Any]]], symbol: str, t_ms: int, naked: bool
) -> tuple[int, dict[str, Any] | None]:
    """The truth record at ``t_ms`` that opened (``naked``) or closed the window."""
    first = bisect.bisect_left(truth_list, t_ms, key=lambda item: item[1]["t_ms"])
    for seq, truth in truth_list[first:]:
        if truth["t_ms"] > t_ms:
            break
        amount = Decimal(truth["positions"].get(symbol, {}).get("amount", "0"))
        is_naked = amount != 0 and not protecting_stops(truth, symbol)
        if is_naked == naked:
            return seq, truth
    return -1, None


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    s = settings(
        NAME,
        params,
        {"max_naked_ms": 0, "entry_window_ms": ctx.entry_window_ms, "max_naked_notional_ms": None},
    )
    max_naked_ms = as_ms(NAME, "max_naked_ms", s["max_naked_ms"])
    entry_window_ms = as_ms(NAME, "entry_window_ms", s["entry_window_ms"])
    notional_bound = (
        None
        if s["max_naked_notional_ms"] is None
        else as_decimal(NAME, "max_naked_notional_ms", s["max_naked_notional_ms"])
    )
    if truth_missing(records):
        return Verdict(NAME, UNKNOWN, "fills were recorded but no venue.truth: cannot judge")
    truth_list = list(truths(records))
    opened = _positions_opened(truth_list)
    windows = naked_windows([t for _, t in truth_list], ctx.end_ms)
    marks = _marks(records)

    violations: list[dict[str, Any]] = []
    allowed: list[dict[str, Any]] = []
    total_ms = worst_ms = 0
    total_notional_ms = ZERO
    for window in windows:
        item = _judge(window, truth_list, marks, entry_window_ms, max_naked_ms, notional_bound)
        counted = item["counted_ms"]
        total_ms += counted
        worst_ms = max(worst_ms, counted)
        total_notional_ms += Decimal(item["notional_ms"])
        (violations if item["violation"] else allowed).append(item)

    metrics: dict[str, int | str] = {
        "positions": opened,
        "naked_windows": len(windows),
        "entry_windows": sum(1 for w in windows if w.first),
        "naked_ms_total": total_ms,
        "naked_ms_max": worst_ms,
        "naked_notional_ms_total": fmt(total_notional_ms),
        "violations": len(violations),
    }
    evidence = capped(violations + allowed, metrics)
    if violations:
        worst = max(violations, key=lambda v: v["counted_ms"])
        summary = (
            f"{len(violations)} naked window(s) beyond the bound; worst: {worst['symbol']} "
            f"naked {worst['counted_ms']} ms (amount {worst['amount']}) from t={worst['t_ms']}"
        )
        return Verdict(NAME, FAIL, summary, evidence, metrics)
    if opened == 0:
        return Verdict(NAME, PASS, "no position was ever open: nothing to cover", (), metrics)
    summary = (
        f"{opened} position(s) covered; {len(windows)} naked window(s), all within bounds "
        f"(entry window {entry_window_ms} ms, max {max_naked_ms} ms)"
    )
    return Verdict(NAME, PASS, summary, evidence, metrics)


def _judge(
    window: NakedWindow,
    truth_list: list[tuple[int, dict[str, Any]]],
    marks,
    entry_window_ms: int,
    max_naked_ms: int,
    notional_bound: Decimal | None,
) -> dict[str, Any]:
    counted = window.duration_ms
    if window.first:
        counted = max(0, counted - entry_window_ms)
    start_seq, start_truth = _boundary(truth_list, window.symbol, window.start_ms, naked=True)
    end_seq, end_truth = _boundary(truth_list, window.symbol, window.end_ms, naked=False)
    mark = _mark_at(marks, window.symbol, window.start_ms)
    price_source = "mark"
    if mark is None:
        entry = (start_truth or {}).get("positions", {}).get(window.symbol, {}).get("entry", "0")
        mark, price_source = Decimal(entry), "entry"
    notional = abs(Decimal(window.amount)) * mark
    notional_ms = notional * counted
    violation = counted > max_naked_ms or (
        notional_bound is not None and notional_ms > notional_bound
    )
    records = [truth_excerpt(start_seq, start_truth, window.symbol)]
    if end_truth is not None:
        records.append(truth_excerpt(end_seq, end_truth, window.symbol))
    what = "naked beyond the bound" if violation else "naked within the bound"
    if window.first:
        what += " (entry window)"
    return {
        "t_ms": window.start_ms,
        "until_ms": window.end_ms,
        "symbol": window.symbol,
        "what": what,
        "violation": violation,
        "entry_window": window.first,
        "open_at_end": end_truth is None,
        "duration_ms": window.duration_ms,
        "counted_ms": counted,
        "amount": window.amount,
        "price": fmt(mark),
        "price_source": price_source,
        "notional": fmt(notional),
        "notional_ms": fmt(notional_ms),
        "records": records,
    }


def _positions_opened(truth_list: list[tuple[int, dict[str, Any]]]) -> int:
    """How many times a symbol went from flat to holding a position."""
    held: dict[str, bool] = {}
    opened = 0
    for _, truth in truth_list:
        now = {s for s, p in truth["positions"].items() if Decimal(p["amount"]) != 0}
        for symbol in sorted(now):
            if not held.get(symbol):
                opened += 1
        held = dict.fromkeys(now, True)
    return opened
