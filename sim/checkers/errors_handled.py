"""errors_handled: nothing crashed, and every refusal of a protective stop because the price
was already past it was followed by protection or a close.

Rule.

(a) No ``run.error`` and no ``bot.crash`` record (a ``bot.killed`` is a scheduled restart,
    not a crash).
(b) Every refusal of a stop — a ``venue.rest`` record with route ``POST /fapi/v1/algoOrder``
    and code -2021 or -4142, whether the venue or a fault answered — made while a position
    was open is followed, within ``bound_ms``, by the position being protected (an open stop
    that would close it, as in ``stop_coverage``) or flat, in the venue's truth: the state at
    the refusal itself counts (a stop placed new-before-old may be refused while the old one
    still protects). The refused order's symbol is not in the record: it is the symbol with a
    position open at that instant; with several, the symbol of the bot's latest ``PlaceStop``
    command among them; without such a command, every open symbol is judged. A refusal whose
    bound reaches past the run's end with nothing resolving it yet is unknown.
(c) ``bot.command`` records with command ``Note`` are the bot telling a human something: they
    are counted, never failures.

Other REST error codes are counted in ``metrics["rest_errors"]`` (e.g. ``-1001:2,-2021:1``):
whether the bot handled them is judged by the other checkers' outcomes.

Parameters: ``bound_ms`` (default 3000).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import (
    amount_of,
    as_ms,
    capped,
    excerpt,
    fmt,
    protecting_stops,
    settings,
    truth_excerpt,
)
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "errors_handled"
STOP_ROUTE = "POST /fapi/v1/algoOrder"
IMMEDIATE_TRIGGER_CODES = (-2021, -4142)
CRASH_KINDS = ("run.error", "bot.crash")


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    bound_ms = as_ms(NAME, "bound_ms", settings(NAME, params, {"bound_ms": 3000})["bound_ms"])
    crashes: list[dict[str, Any]] = []
    refusals: list[tuple[int, dict[str, Any], int, dict[str, Any] | None, str]] = []
    truth_list: list[tuple[int, dict[str, Any]]] = []
    codes: dict[int, int] = {}
    notes = 0
    truth_seq, truth = -1, None
    last_place_stop: dict[str, int] = {}  # symbol -> seq of the bot's latest PlaceStop
    for seq, record in enumerate(records):
        kind = record["kind"]
        if kind == "venue.truth":
            truth_seq, truth = seq, record
            truth_list.append((seq, record))
        elif kind in CRASH_KINDS:
            crashes.append(
                {
                    "t_ms": record["t_ms"],
                    "what": f"{kind}: {record.get('error', '')}",
                    "records": [excerpt(seq, record)],
                }
            )
        elif kind == "bot.command":
            if record.get("command") == "Note":
                notes += 1
            elif record.get("command") == "PlaceStop":
                last_place_stop[record["symbol"]] = seq
        elif kind == "venue.rest" and record["code"]:
            codes[record["code"]] = codes.get(record["code"], 0) + 1
            if record["route"] == STOP_ROUTE and record["code"] in IMMEDIATE_TRIGGER_CODES:
                for symbol in _refused_symbols(truth, last_place_stop):
                    refusals.append((seq, record, truth_seq, truth, symbol))

    unresolved: list[dict[str, Any]] = []
    undecided: list[dict[str, Any]] = []
    resolved: list[dict[str, Any]] = []
    for seq, record, t_seq, t_rec, symbol in refusals:
        item = _follow(seq, record, t_seq, t_rec, symbol, truth_list, bound_ms, ctx.end_ms)
        {"handled": resolved, "naked": unresolved, "undecided": undecided}[item["outcome"]].append(
            item
        )
    metrics: dict[str, int | str] = {
        "crashes": len(crashes),
        "stop_refusals": len(refusals),
        "refusals_unhandled": len(unresolved),
        "refusals_undecided": len(undecided),
        "notes": notes,
        "rest_errors": ",".join(f"{c}:{n}" for c, n in sorted(codes.items())),
    }
    failures = crashes + unresolved
    if failures:
        parts = []
        if crashes:
            parts.append(f"{len(crashes)} crash(es) ({crashes[0]['what']})")
        if unresolved:
            first = unresolved[0]
            parts.append(
                f"{len(unresolved)} stop refusal(s) left the position naked; first: "
                f"{first['symbol']} code {first['code']} at t={first['t_ms']}"
            )
        return Verdict(NAME, FAIL, "; ".join(parts), capped(failures + undecided, metrics), metrics)
    if undecided:
        summary = f"{len(undecided)} stop refusal(s) too close to the run's end to judge"
        return Verdict(NAME, UNKNOWN, summary, capped(undecided, metrics), metrics)
    if not refusals:
        summary = "no crash; no protective stop was refused while a position was open"
    else:
        summary = (
            f"no crash; {len(refusals)} stop refusal(s), each followed by protection or a close "
            f"within {bound_ms} ms"
        )
    return Verdict(NAME, PASS, summary, capped(resolved, metrics), metrics)


def _refused_symbols(truth: dict[str, Any] | None, last_place_stop: dict[str, int]) -> list[str]:
    open_symbols = sorted(s for s in (truth or {}).get("positions", {}) if amount_of(truth, s))
    if len(open_symbols) <= 1:
        return open_symbols
    placed = [s for s in open_symbols if s in last_place_stop]
    if placed:
        return [max(placed, key=lambda s: last_place_stop[s])]
    return open_symbols


def _follow(
    seq: int,
    record: dict[str, Any],
    t_seq: int,
    t_rec: dict[str, Any] | None,
    symbol: str,
    truth_list: list[tuple[int, dict[str, Any]]],
    bound_ms: int,
    end_ms: int,
) -> dict[str, Any]:
    t_ms, deadline = record["t_ms"], record["t_ms"] + bound_ms
    item = {
        "t_ms": t_ms,
        "until_ms": deadline,
        "symbol": symbol,
        "code": record["code"],
        "amount": fmt(amount_of(t_rec, symbol)),
    }
    refusal = excerpt(seq, record)
    after = bisect.bisect_right(truth_list, seq, key=lambda item: item[0])
    candidates = itertools.chain([(t_seq, t_rec)], itertools.islice(truth_list, after, None))
    last_seq, last_truth = t_seq, t_rec
    for s, truth in candidates:
        if s != t_seq and truth["t_ms"] > deadline:
            break
        last_seq, last_truth = s, truth
        if amount_of(truth, symbol) == 0 or protecting_stops(truth, symbol):
            flat = amount_of(truth, symbol) == 0
            at = truth["t_ms"] if s != t_seq else t_ms
            what = "closed" if flat else "protected"
            item.update(
                outcome="handled",
                what=f"stop refused (code {record['code']}), then {what} after {at - t_ms} ms",
                records=[refusal, truth_excerpt(s, truth, symbol)],
            )
            return item
    outcome = "undecided" if deadline > end_ms else "naked"
    what = f"stop refused (code {record['code']}) with the position open; " + (
        f"the run ended {end_ms - t_ms} ms later, still naked"
        if outcome == "undecided"
        else f"still naked and open {bound_ms} ms later"
    )
    item.update(
        outcome=outcome,
        what=what,
        records=[refusal, truth_excerpt(last_seq, last_truth, symbol)],
    )
    return item
