"""entries_on_time: every scheduled entry was sent, and not much later than scheduled.

A liveness property (the others are mostly safety): a bot that is safe because it does
nothing — it never got to know what was open, so it never entered — fails here.

Rule. The scheduled entries come from the scenario (``ctx.entries``: ``(at_ms, symbol)``),
not from the records. For each, in time order, the first ``bot.command`` record with command
``PlaceEntry`` for its symbol at or after ``at_ms`` and not claimed by an earlier entry is
its sending. It must come within ``bound_ms`` of ``at_ms``: later is a failure (how late
is the evidence), none at all is a failure if the run went on past ``at_ms + bound_ms``,
and unknown otherwise. Retries of the same entry (same client id) are not counted twice.

Parameters: ``bound_ms`` (default 10000: a start-up reconciliation through a few failed
attempts, well under the 60 s periodic one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import as_ms, capped, excerpt, settings
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "entries_on_time"


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    bound_ms = as_ms(NAME, "bound_ms", settings(NAME, params, {"bound_ms": 10_000})["bound_ms"])
    sent: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}  # symbol -> (t, seq, record)
    seen_ids: set[str] = set()
    for seq, record in enumerate(records):
        if record["kind"] == "bot.command" and record.get("command") == "PlaceEntry":
            client_id = record.get("client_id", "")
            if client_id in seen_ids:
                continue  # the same entry asked again
            seen_ids.add(client_id)
            sent.setdefault(record["symbol"], []).append((record["t_ms"], seq, record))
    late: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    undecided = 0
    worst_ms = 0
    for at_ms, symbol in sorted(ctx.entries):
        candidates = sent.get(symbol, [])
        found = next((c for c in candidates if c[0] >= at_ms), None)
        if found is None:
            if ctx.end_ms < at_ms + bound_ms:
                undecided += 1
            else:
                missing.append(
                    {
                        "t_ms": at_ms,
                        "until_ms": ctx.end_ms,
                        "symbol": symbol,
                        "what": f"the entry scheduled for {symbol} was never sent",
                        "records": [],
                    }
                )
            continue
        candidates.remove(found)
        t_ms, seq, record = found
        delay_ms = t_ms - at_ms
        worst_ms = max(worst_ms, delay_ms)
        if delay_ms > bound_ms:
            late.append(
                {
                    "t_ms": at_ms,
                    "until_ms": t_ms,
                    "symbol": symbol,
                    "what": f"{symbol} entry sent {delay_ms} ms after its time",
                    "records": [excerpt(seq, record)],
                }
            )
    metrics: dict[str, int | str] = {
        "entries": len(ctx.entries),
        "worst_delay_ms": worst_ms,
        "bound_ms": bound_ms,
    }
    failures = missing + late
    if failures:
        parts = []
        if missing:
            parts.append(f"{len(missing)} entry(ies) never sent")
        if late:
            parts.append(f"{len(late)} sent later than {bound_ms} ms")
        first = failures[0]
        return Verdict(
            NAME,
            FAIL,
            f"{'; '.join(parts)}; first: {first['what']}",
            capped(failures, metrics),
            metrics,
        )
    if undecided:
        return Verdict(
            NAME,
            UNKNOWN,
            f"{undecided} entry(ies) not sent yet when the run ended within {bound_ms} ms of "
            "their time",
            (),
            metrics,
        )
    return Verdict(
        NAME,
        PASS,
        f"{len(ctx.entries)} entry(ies) sent, worst {worst_ms} ms after its time "
        f"(bound {bound_ms} ms)",
        (),
        metrics,
    )
