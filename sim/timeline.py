"""A run's story in the terminal: what the exchange held, what the bot did, what broke.

One line per event that matters to a person reading an incident: position changes, stops
appearing and disappearing at the exchange, fills, faults starting and healing, refused
requests, the bot's notes, and naked windows; plus the mark price at the turns of the path.
Times are offsets from the scenario's start.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sim.checkers.coverage import naked_windows, truth_records


def _at(t_ms: int, start_ms: int) -> str:
    return f"+{(t_ms - start_ms) / 1000:9.3f}s"


def _stops(record: dict[str, Any]) -> dict[str, str]:
    return {
        f"{a['side']} {a['type']} {a['trigger']}": a["client_id"]
        for a in record["open_algo_orders"]
    }


def _price_turns(records: list[dict[str, Any]]) -> set[int]:
    """Indexes of price records where the path changes direction (and the first/last)."""
    by_symbol: dict[str, list[tuple[int, Decimal]]] = {}
    for i, r in enumerate(records):
        if r["kind"] == "venue.price":
            by_symbol.setdefault(r["symbol"], []).append((i, Decimal(r["mark"])))
    keep: set[int] = set()
    for series in by_symbol.values():
        keep.update({series[0][0], series[-1][0]})
        for (_, a), (i, b), (_, c) in zip(series, series[1:], series[2:], strict=False):
            if (b - a) * (c - b) < 0:
                keep.add(i)
    return keep


def timeline(lines: Iterable[str], start_ms: int, end_ms: int) -> list[str]:
    import json

    records = [json.loads(line) for line in lines]
    turns = _price_turns(records)
    out: list[str] = []
    positions: dict[str, str] = {}
    stops: dict[str, str] = {}
    for i, r in enumerate(records):
        kind, at = r["kind"], _at(r["t_ms"], start_ms)
        if kind == "venue.price" and i in turns:
            out.append(f"{at}  price   {r['symbol']} mark {r['mark']}")
        elif kind == "venue.truth":
            held = {s: p["amount"] for s, p in r["positions"].items()}
            for symbol in sorted(set(held) | set(positions)):
                if held.get(symbol) != positions.get(symbol):
                    amount = held.get(symbol, "0")
                    entry = r["positions"].get(symbol, {}).get("entry", "")
                    out.append(
                        f"{at}  position {symbol} {amount}"
                        + (f" @ {Decimal(entry).normalize()}" if entry else "")
                    )
            positions = held
            now = _stops(r)
            for stop in sorted(set(now) - set(stops)):
                out.append(f"{at}  stop +  {stop}")
            for stop in sorted(set(stops) - set(now)):
                out.append(f"{at}  stop -  {stop}")
            stops = now
        elif kind == "venue.fill":
            out.append(
                f"{at}  fill    {r['symbol']} {r['side']} {r['qty']} @ {r['price']}"
                f" ({r['orig_type']}, pnl {r['realized_pnl']})"
            )
        elif kind == "venue.rest" and r.get("code"):
            tag = " (fault)" if not r.get("effect", True) else ""
            out.append(f"{at}  REFUSED {r['route']}: {r['code']}{tag}")
        elif kind in ("fault.start", "fault.stop"):
            verb = "starts" if kind == "fault.start" else "heals "
            out.append(f"{at}  FAULT   {r['fault']} {verb}")
        elif kind == "bot.command" and r["command"] == "Note":
            out.append(f"{at}  bot     {r['symbol']} {r['note']}: {r['detail'][:90]}")
        elif kind in ("bot.killed", "run.error"):
            out.append(f"{at}  {kind.upper()} {r.get('error', '')} {r.get('detail', '')[:120]}")
    for window in naked_windows(truth_records(_lines(records)), end_ms):
        until = "the end" if window.end_ms >= end_ms else _at(window.end_ms, start_ms).strip()
        out.append(
            f"{_at(window.start_ms, start_ms)}  NAKED   {window.symbol} "
            f"{window.amount} unprotected until {until} ({window.duration_ms} ms)"
        )
    return sorted(out, key=lambda line: float(line.split("s", 1)[0].strip().lstrip("+")))


def _lines(records: list[dict[str, Any]]) -> list[str]:
    import json

    return [json.dumps(r) for r in records if r["kind"] == "venue.truth"]
