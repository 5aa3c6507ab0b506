"""belief_matches_truth: after the faults heal, the bot's positions and stops equal the
exchange's within the convergence bound.

Rule. Judged at every ``bot.belief`` sample taken at or after ``ctx.converge_ms`` (the runner
samples at the convergence deadline and at the end; the latest life's sample wins when a
symbol was sampled twice at one instant), against the venue's truth as it stood when the
sample was taken (the last ``venue.truth`` record before it in the trace; none: the empty
exchange). For each symbol:

* the bot's ``amount`` equals the exchange's position amount (0 if the exchange lists none);
* every stop the bot holds as live (``working`` or ``triggering``) is an open algo order of
  the symbol at the exchange, by client id;
* every open algo order of the symbol at the exchange is one the bot knows: live, or in
  flight (``placing``, ``unknown``, ``cancelling``, ``fired``: a request whose answer has not
  arrived yet — such a stop may or may not be at the exchange).

Fails with the diff. Unknown when no sample was taken at or after ``ctx.converge_ms``, or
when one of ``ctx.symbols`` was never sampled then.

Parameters: none (the deadline is ``ctx.converge_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import amount_of, capped, excerpt, fmt, settings, truth_excerpt
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

NAME = "belief_matches_truth"
LIVE = ("working", "triggering")
IN_FLIGHT = ("placing", "unknown", "cancelling", "fired")


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    settings(NAME, params, {})
    # (t_ms, symbol) -> (seq, sample, seq of the truth then, truth then)
    samples: dict[tuple[int, str], tuple[int, dict, int, dict | None]] = {}
    truth_seq, truth = -1, None
    for seq, record in enumerate(records):
        if record["kind"] == "venue.truth":
            truth_seq, truth = seq, record
        elif record["kind"] == "bot.belief" and record["t_ms"] >= ctx.converge_ms:
            key = (record["t_ms"], record["symbol"])
            held = samples.get(key)
            if held is None or record.get("life", 0) >= held[1].get("life", 0):
                samples[key] = (seq, record, truth_seq, truth)
    sampled = sorted({symbol for _, symbol in samples})
    missing = [s for s in ctx.symbols if s not in sampled]
    metrics: dict[str, int | str] = {
        "samples": len(samples),
        "instants": len({t for t, _ in samples}),
        "symbols": len(sampled),
        "converge_ms": ctx.converge_ms,
    }
    if not samples:
        return Verdict(
            NAME,
            UNKNOWN,
            f"no bot.belief sample at or after the convergence deadline t={ctx.converge_ms}",
            (),
            metrics,
        )
    mismatches: list[dict[str, Any]] = []
    in_flight = 0
    for (t_ms, symbol), (seq, sample, t_seq, t_rec) in sorted(samples.items()):
        diff, flying = _diff(sample, t_rec, symbol)
        in_flight += flying
        if diff:
            mismatches.append(
                {
                    "t_ms": t_ms,
                    "symbol": symbol,
                    "what": "the bot's belief differs from the exchange",
                    **diff,
                    "records": [excerpt(seq, sample), truth_excerpt(t_seq, t_rec, symbol)],
                }
            )
    metrics["mismatches"] = len(mismatches)
    metrics["stops_in_flight"] = in_flight
    if mismatches:
        first = mismatches[0]
        summary = (
            f"{len(mismatches)} sample(s) after convergence differ from the exchange; first: "
            f"{first['symbol']} at t={first['t_ms']}: "
            + "; ".join(f"{k} {v}" for k, v in first.items() if k in _DIFF_KEYS)
        )
        return Verdict(NAME, FAIL, summary, capped(mismatches, metrics), metrics)
    if missing:
        summary = f"no bot.belief sample after convergence for {', '.join(missing)}"
        items = [{"t_ms": ctx.converge_ms, "symbol": s, "what": "never sampled"} for s in missing]
        return Verdict(NAME, UNKNOWN, summary, tuple(items), metrics)
    summary = (
        f"belief equals truth for {len(sampled)} symbol(s) at {metrics['instants']} instant(s) "
        f"from t={ctx.converge_ms}"
    )
    return Verdict(NAME, PASS, summary, (), metrics)


_DIFF_KEYS = ("bot_amount", "exchange_amount", "missing_at_exchange", "unknown_to_bot")


def _diff(
    sample: Mapping[str, Any], truth: Mapping[str, Any] | None, symbol: str
) -> tuple[dict[str, Any], int]:
    diff: dict[str, Any] = {}
    bot_amount = Decimal(sample["amount"])
    exchange_amount = amount_of(truth, symbol)
    if bot_amount != exchange_amount:
        diff["bot_amount"] = fmt(bot_amount)
        diff["exchange_amount"] = fmt(exchange_amount)
    bot_stops = {s["client_id"]: s["state"] for s in sample["stops"]}
    live = sorted(c for c, state in bot_stops.items() if state in LIVE)
    flying = sorted(c for c, state in bot_stops.items() if state in IN_FLIGHT)
    at_exchange = sorted(
        a["client_id"] for a in (truth or {}).get("open_algo_orders", []) if a["symbol"] == symbol
    )
    missing = [c for c in live if c not in at_exchange]
    unknown = [c for c in at_exchange if c not in live and c not in flying]
    if missing:
        diff["missing_at_exchange"] = missing
    if unknown:
        diff["unknown_to_bot"] = unknown
    if diff:
        diff["bot_stops"] = [dict(s) for s in sample["stops"]]
        diff["exchange_stops"] = at_exchange
    return diff, len(flying)
