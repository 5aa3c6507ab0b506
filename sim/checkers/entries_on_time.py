"""entries_on_time: every scheduled entry was sent, and not much later than scheduled.

A liveness property (the others are mostly safety): a bot that is safe because it does
nothing — it never got to know what was open, so it never entered — fails here.

Rule. The scheduled entries come from the scenario (``ctx.entries``: ``(at_ms, symbol)``),
not from the records. For each, in time order, the first ``bot.command`` record with command
``PlaceEntry`` for its symbol at or after ``at_ms`` and not claimed by an earlier entry is
its sending. It must come within ``bound_ms`` of ``at_ms``: later is a failure (how late
is the evidence), none at all is a failure if the run went on past ``at_ms + bound_ms``,
and unknown otherwise. Retries of the same entry (same client id) are not counted twice.

An entry for a symbol that is not flat is not owed: the bot opens positions, it does not add
to them. So an entry is exempt (not judged, and it claims no sending) when the exchange held
a position in its symbol at any time from ``busy_ms`` before it up to its time
(``venue.truth``: the bot may still be closing it), or when an earlier entry for the symbol
was sent no more than ``busy_ms`` before it, or after it (the bot is busy opening that one).
Exempt entries are counted in ``metrics["exempt"]``.

Parameters: ``bound_ms`` (default 10000: a start-up reconciliation through a few failed
attempts, well under the 60 s periodic one), ``busy_ms`` (default 5000).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import as_ms, capped, excerpt, settings
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "entries_on_time"


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    s = settings(NAME, params, {"bound_ms": 10_000, "busy_ms": 5000})
    bound_ms = as_ms(NAME, "bound_ms", s["bound_ms"])
    busy_ms = as_ms(NAME, "busy_ms", s["busy_ms"])
    held: dict[str, list[tuple[int, bool]]] = {}  # symbol -> (t, holding) at each change
    sent: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}  # symbol -> (t, seq, record)
    seen_ids: set[str] = set()
    for seq, record in enumerate(records):
        if record["kind"] == "venue.truth":
            for symbol in sorted({*ctx.symbols, *record["positions"], *held}):
                holding = symbol in record["positions"]
                changes = held.setdefault(symbol, [(ctx.start_ms, False)])
                if changes[-1][1] != holding:
                    changes.append((record["t_ms"], holding))
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
    exempt = 0

    def busy(symbol: str, at_ms: int) -> bool:
        changes = held.get(symbol, [])
        for i, (t_ms, holding) in enumerate(changes):
            until_ms = changes[i + 1][0] if i + 1 < len(changes) else at_ms + 1
            if holding and t_ms <= at_ms and until_ms >= at_ms - busy_ms:
                return True
        return False

    last_sent_ms: dict[str, int] = {}
    for at_ms, symbol in sorted(ctx.entries):
        if busy(symbol, at_ms) or last_sent_ms.get(symbol, -(10**15)) >= at_ms - busy_ms:
            exempt += 1  # decided before claiming a sending: that one may be a later entry's
            continue
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
        last_sent_ms[symbol] = t_ms
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
        "exempt": exempt,
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
