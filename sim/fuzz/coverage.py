"""What a campaign reached: Antithesis-style "sometimes" assertions over run records.

A fault that was scheduled proves nothing; one that *acted* does. For each run this module
reads the records and says which fault kinds took effect (a record of the effect inside the
fault's window: a dropped frame, a refused request, a killed process), which checkers judged a
non-trivial history (a position to cover, a stop that moved, an error to handle), and which of
the bot's key paths ran (-2021 handling, an unknown outcome, a restart, a stop in
TRIGGERING). :class:`Coverage` adds runs up; whatever stays at zero is a gap, and the report
says so instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sim.checkers import REGISTRY
from sim.scenario.model import FAULT_KINDS

Record = dict[str, Any]


def _rest(r: Record) -> bool:
    return r["kind"] == "venue.rest"


# kind -> does this record, inside the fault's window, show the fault acting?
EFFECTS: dict[str, Callable[[Record], bool]] = {
    "rest_latency": lambda r: r["kind"] == "link.delay" and r["link"].startswith("rest"),
    "rest_response_dropped": lambda r: r["kind"] == "link.drop" and r["link"].startswith("rest"),
    "rest_error_burst": lambda r: _rest(r) and r["fault"] == "rest_error_burst",
    "rest_unknown_outcome": lambda r: _rest(r) and r["fault"] == "rewritten" and r["status"] >= 500,
    "rest_position_omitted": lambda r: (
        _rest(r) and r["fault"] == "rewritten" and r["status"] == 200
    ),
    "user_stream_delayed": lambda r: r["kind"] == "link.delay" and r["link"].startswith("ws"),
    "user_stream_dropped": lambda r: r["kind"] == "link.drop" and r["link"].startswith("ws"),
    "user_stream_duplicated": lambda r: r["kind"] == "link.duplicate",
    "user_stream_held": lambda r: r["kind"] == "link.release" and r.get("count", 0) > 0,
    "stream_disconnected": lambda r: r["kind"] == "ws.reset",
    "listen_key_expired": lambda r: r["kind"] == "venue.listen_key_expired",
    "order_forced_2021": lambda r: _rest(r) and r["fault"] == "order_forced_2021",
    "algo_stuck_triggering": lambda r: (
        r["kind"] == "venue.truth"
        and any(a["status"] == "TRIGGERING" for a in r["open_algo_orders"])
    ),
    "bot_crashed": lambda r: r["kind"] == "bot.killed",
    "repository_write_lag": lambda r: r["kind"] == "bot.write_delayed",
}

# checker -> does the run give it something to judge?
NON_TRIVIAL: dict[str, Callable[[list[Record]], bool]] = {
    "stop_coverage": lambda rs: any(r["kind"] == "venue.truth" and r["positions"] for r in rs),
    "no_orphan_stops": lambda rs: _closed_with_stops(rs),
    "belief_matches_truth": lambda rs: (
        any(r["kind"] == "bot.belief" and r["amount"] not in ("0", "0.0") for r in rs)
        or _closed_with_stops(rs)
    ),
    "trailing_monotonic": lambda rs: _stop_moves(rs) > 0,
    "loss_bounded": lambda rs: (
        any(r["kind"] == "venue.fill" and r["reduce_only"] for r in rs) or _closed_with_stops(rs)
    ),
    "errors_handled": lambda rs: any(_rest(r) and r["code"] != 0 for r in rs),
    "rate_budget": lambda rs: sum(1 for r in rs if _rest(r)) >= 10,
    "no_duplicate_stops": lambda rs: _stop_moves(rs) > 0,
    "entries_on_time": lambda rs: any(
        r["kind"] == "bot.command" and r["command"] == "PlaceEntry" for r in rs
    ),
}

# the bot's key paths -> did the run take it?
PATHS: dict[str, Callable[[list[Record]], bool]] = {
    "-2021 handled": lambda rs: any(_rest(r) and r["code"] == -2021 for r in rs),
    "unknown outcome": lambda rs: any(
        r["kind"] == "rest.timeout"
        or (_rest(r) and r["fault"] == "rewritten" and r["status"] >= 500)
        for r in rs
    ),
    "restart": lambda rs: any(r["kind"] == "bot.killed" for r in rs),
    "TRIGGERING": lambda rs: any(
        r["kind"] == "venue.truth"
        and any(a["status"] == "TRIGGERING" for a in r["open_algo_orders"])
        for r in rs
    ),
    "stop replaced": lambda rs: _stop_moves(rs) > 0,
    "stop filled": lambda rs: any(
        r["kind"] == "venue.fill" and r["orig_type"] in ("STOP_MARKET", "STOP") for r in rs
    ),
}


def _stop_moves(records: Iterable[Record]) -> int:
    placed: dict[str, int] = {}
    for r in records:
        if r["kind"] == "bot.command" and r["command"] == "PlaceStop":
            placed[r["symbol"]] = placed.get(r["symbol"], 0) + 1
    return sum(max(0, n - 1) for n in placed.values())


def _closed_with_stops(records: Iterable[Record]) -> bool:
    had_stop = False
    for r in records:
        if r["kind"] == "bot.command" and r["command"] == "PlaceStop":
            had_stop = True
        if had_stop and r["kind"] == "venue.fill" and r["reduce_only"]:
            return True
    return False


def faults_fired(records: list[Record]) -> dict[str, int]:
    """Fault kind -> how many of its scheduled faults acted in this run."""
    windows: dict[int, tuple[str, int, int | None]] = {}  # id -> kind, start, stop
    for r in records:
        if r["kind"] == "fault.start":
            windows[r["id"]] = (r["fault"], r["t_ms"], None)
        elif r["kind"] == "fault.stop" and r["id"] in windows:
            kind, start, _ = windows[r["id"]]
            windows[r["id"]] = (kind, start, r["t_ms"])
    fired: dict[str, int] = {}
    for kind, start, stop in windows.values():
        acted = EFFECTS[kind]
        # an instantaneous fault's effect may land a moment after its instant
        end = (stop if stop is not None and stop > start else start) + 1000
        if any(start <= r["t_ms"] <= end and acted(r) for r in records):
            fired[kind] = fired.get(kind, 0) + 1
    return fired


@dataclass(slots=True)
class Coverage:
    """Counts over a campaign's runs (each run counts once per item it reached)."""

    runs: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    scheduled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    checkers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REGISTRY, 0))
    paths: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATHS, 0))

    def add(self, records: list[Record]) -> None:
        self.runs += 1
        for r in records:
            if r["kind"] == "fault.start":
                self.scheduled[r["fault"]] += 1
        for kind in faults_fired(records):
            self.faults[kind] += 1
        for name, reached in NON_TRIVIAL.items():
            self.checkers[name] += reached(records)
        for name, reached in PATHS.items():
            self.paths[name] += reached(records)

    def gaps(self) -> list[str]:
        out = [f"fault {k} never acted" for k, n in self.faults.items() if not n]
        out += [
            f"checker {k} never judged a non-trivial run" for k, n in self.checkers.items() if not n
        ]
        out += [f"bot path '{k}' never taken" for k, n in self.paths.items() if not n]
        return out

    def reached(self) -> tuple[int, int]:
        """(items reached, items in all): the one-number summary for the progress line."""
        counts = [*self.faults.values(), *self.checkers.values(), *self.paths.values()]
        return sum(1 for n in counts if n), len(counts)

    def report(self) -> str:
        lines = [f"coverage over {self.runs} runs (runs in which each acted / was reached):"]
        lines.append("  faults (acted / scheduled):")
        for kind in FAULT_KINDS:
            flag = "" if self.faults[kind] else "   <- GAP"
            lines.append(f"    {kind:<24} {self.faults[kind]:>6} / {self.scheduled[kind]:<6}{flag}")
        lines.append("  checkers (non-trivial histories):")
        for name, n in self.checkers.items():
            lines.append(f"    {name:<24} {n:>6}{'' if n else '   <- GAP'}")
        lines.append("  bot paths:")
        for name, n in self.paths.items():
            lines.append(f"    {name:<24} {n:>6}{'' if n else '   <- GAP'}")
        gaps = self.gaps()
        lines.append(f"  gaps: {len(gaps)}" + ("" if not gaps else " (" + "; ".join(gaps) + ")"))
        return "\n".join(lines)
