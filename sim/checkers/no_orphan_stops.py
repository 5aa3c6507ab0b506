"""no_orphan_stops: no stop stays open for a symbol whose position is flat (after settling).

Rule. From the venue's ground truth (``venue.truth``): a symbol is flat from the start of the
run (``ctx.start_ms``) until its first position, and again from the record where its
position returns to zero. A stop (an open algo order of a stop type, ``NEW`` or
``TRIGGERING``, either side) is *orphaned* from the later of the instant its symbol went flat
and the instant it first appeared. It fails the check if it is still open, with the symbol
still flat, more than ``settle_ms`` after it was orphaned — judged at every truth record and
at the run's end (``ctx.end_ms``). A stop orphaned less than ``settle_ms`` before the end
cannot be judged: the verdict is unknown if nothing else failed.

Parameters: ``settle_ms`` (default 5000).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import (
    amount_of,
    as_ms,
    capped,
    live_stops,
    settings,
    truth_excerpt,
    truth_missing,
    truths,
)
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "no_orphan_stops"


@dataclass(slots=True)
class _Orphan:
    symbol: str
    algo: dict[str, Any]
    flat_since_ms: int
    since_ms: int
    seq: int  # the truth record that made it an orphan
    truth: dict[str, Any]


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    settle_ms = as_ms(NAME, "settle_ms", settings(NAME, params, {"settle_ms": 5000})["settle_ms"])
    if truth_missing(records):
        return Verdict(NAME, UNKNOWN, "fills were recorded but no venue.truth: cannot judge")
    flat_since: dict[str, int] = {}  # absent: holding a position
    ever_open: set[str] = set()
    seen_ms: dict[int, int] = {}  # algo id -> first seen
    orphans: dict[int, _Orphan] = {}
    violations: list[dict[str, Any]] = []
    orphaned = 0

    def end_orphan(
        orphan: _Orphan, until_ms: int, seq: int, truth: dict[str, Any] | None, ended: str
    ) -> None:
        if until_ms - orphan.since_ms > settle_ms:
            violations.append(_evidence(orphan, until_ms, seq, truth, settle_ms, ended))

    for seq, truth in truths(records):
        t_ms = truth["t_ms"]
        stops = {
            algo["id"]: algo
            for symbol in sorted({a["symbol"] for a in truth["open_algo_orders"]})
            for algo in live_stops(truth, symbol)
        }
        # what this record ends: a stop gone, or its symbol holding a position again
        for algo_id, orphan in list(orphans.items()):
            if algo_id not in stops:
                end_orphan(orphan, t_ms, seq, truth, "then gone")
            elif amount_of(truth, orphan.symbol) != 0:
                end_orphan(orphan, t_ms, seq, truth, "until a new position opened under it")
            else:
                continue
            del orphans[algo_id]
        # the state from this record on
        symbols = set(truth["positions"]) | set(flat_since) | {a["symbol"] for a in stops.values()}
        for symbol in sorted(symbols):
            if amount_of(truth, symbol) != 0:
                flat_since.pop(symbol, None)
                ever_open.add(symbol)
            elif symbol not in flat_since:
                flat_since[symbol] = t_ms if symbol in ever_open else ctx.start_ms
        for algo_id, algo in stops.items():
            seen_ms.setdefault(algo_id, t_ms)
            symbol = algo["symbol"]
            if symbol in flat_since and algo_id not in orphans:
                orphaned += 1
                since = max(flat_since[symbol], seen_ms[algo_id])
                orphans[algo_id] = _Orphan(symbol, algo, flat_since[symbol], since, seq, truth)
        seen_ms = {a: t for a, t in seen_ms.items() if a in stops}

    pending = []
    for orphan in orphans.values():
        if ctx.end_ms - orphan.since_ms > settle_ms:
            end_orphan(orphan, ctx.end_ms, -1, None, "still open at the end")
        else:
            pending.append(orphan)
    metrics: dict[str, int | str] = {
        "orphaned_stops": orphaned,
        "violations": len(violations),
        "pending_at_end": len(pending),
    }
    if violations:
        worst = max(violations, key=lambda v: v["orphan_ms"])
        summary = (
            f"{len(violations)} stop(s) left open on a flat symbol beyond {settle_ms} ms; worst: "
            f"{worst['symbol']} {worst['client_id']} for {worst['orphan_ms']} ms"
        )
        return Verdict(NAME, FAIL, summary, capped(violations, metrics), metrics)
    if pending:
        items = [
            {
                "t_ms": o.since_ms,
                "until_ms": ctx.end_ms,
                "symbol": o.symbol,
                "client_id": o.algo["client_id"],
                "what": f"still open on a flat symbol at the end, less than {settle_ms} ms on",
                "records": [truth_excerpt(o.seq, o.truth, o.symbol)],
            }
            for o in pending
        ]
        summary = f"{len(pending)} stop(s) on a flat symbol when the run ended before settle_ms"
        return Verdict(NAME, UNKNOWN, summary, capped(items, metrics), metrics)
    if orphaned == 0:
        return Verdict(NAME, PASS, "no stop was ever open on a flat symbol", (), metrics)
    summary = f"{orphaned} stop(s) on a flat symbol, each gone within {settle_ms} ms"
    return Verdict(NAME, PASS, summary, (), metrics)


def _evidence(
    orphan: _Orphan,
    until_ms: int,
    seq: int,
    truth: dict[str, Any] | None,
    settle_ms: int,
    ended: str,
) -> dict[str, Any]:
    records = [truth_excerpt(orphan.seq, orphan.truth, orphan.symbol)]
    if truth is not None:
        records.append(truth_excerpt(seq, truth, orphan.symbol))
    return {
        "t_ms": orphan.since_ms,
        "until_ms": until_ms,
        "symbol": orphan.symbol,
        "client_id": orphan.algo["client_id"],
        "side": orphan.algo["side"],
        "trigger": orphan.algo["trigger"],
        "flat_since_ms": orphan.flat_since_ms,
        "orphan_ms": until_ms - orphan.since_ms,
        "what": f"stop open on a flat symbol for more than {settle_ms} ms ({ended})",
        "records": records,
    }
