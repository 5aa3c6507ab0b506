"""no_duplicate_stops: never more protective stops at once than the replace protocol allows.

Rule. From the venue's ground truth (``venue.truth``): at every record, each symbol has at
most ``max_stops`` open stops (algo orders of a stop type, ``NEW`` or ``TRIGGERING``, either
side). The reference bot replaces a stop by placing the new one before cancelling the old one,
with one placement in flight at most: two stops for a moment, never three (hence the default
2). Evidence: each interval in which a symbol held too many, with the most it held and the
records that opened and closed the interval.

Parameters: ``max_stops`` (default 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import (
    as_ms,
    capped,
    live_stops,
    settings,
    truth_excerpt,
    truth_missing,
    truths,
)
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "no_duplicate_stops"


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    s = settings(NAME, params, {"max_stops": 2})
    max_stops = as_ms(NAME, "max_stops", s["max_stops"], "stops")
    if truth_missing(records):
        return Verdict(NAME, UNKNOWN, "fills were recorded but no venue.truth: cannot judge")
    over: dict[str, dict[str, Any]] = {}  # symbol -> the open violation
    violations: list[dict[str, Any]] = []
    most = 0
    for seq, truth in truths(records):
        symbols = sorted({a["symbol"] for a in truth["open_algo_orders"]} | set(over))
        for symbol in symbols:
            stops = live_stops(truth, symbol)
            most = max(most, len(stops))
            item = over.get(symbol)
            if len(stops) > max_stops:
                if item is None:
                    item = over[symbol] = {
                        "t_ms": truth["t_ms"],
                        "symbol": symbol,
                        "what": f"more than {max_stops} open stops",
                        "most": 0,
                        "client_ids": [],
                        "records": [truth_excerpt(seq, truth, symbol)],
                    }
                if len(stops) > item["most"]:
                    item["most"] = len(stops)
                    item["client_ids"] = [a["client_id"] for a in stops]
            elif item is not None:
                item["until_ms"] = truth["t_ms"]
                item["records"].append(truth_excerpt(seq, truth, symbol))
                violations.append(over.pop(symbol))
    for symbol in sorted(over):
        item = over[symbol]
        item["until_ms"] = ctx.end_ms
        item["what"] += " (still at the end)"
        violations.append(item)
    metrics: dict[str, int | str] = {"most_stops": most, "violations": len(violations)}
    if violations:
        worst = max(violations, key=lambda v: v["most"])
        summary = (
            f"{len(violations)} interval(s) with more than {max_stops} stops; worst: "
            f"{worst['symbol']} held {worst['most']} at t={worst['t_ms']}"
        )
        return Verdict(NAME, FAIL, summary, capped(violations, metrics), metrics)
    summary = f"at most {most} open stop(s) per symbol (limit {max_stops})"
    return Verdict(NAME, PASS, summary, (), metrics)
