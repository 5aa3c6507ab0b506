"""A fuzz program: one generated world, as plain frozen data that Hypothesis draws and shrinks.

A :class:`Program` is what ``sim.fuzz.strategies`` generates: price paths, entries, a fault
schedule and bot settings. It turns into a :class:`~sim.scenario.model.Scenario` (the same
thing a hand-written scenario file holds), so a fuzz run *is* a scenario run, and a find is
filed with ``sim.scenario.dump`` plus the tape as CSV, and replays through ``futsim replay``.

The program also states its **envelope**: the checkers' thresholds for the world it made. A
correct bot cannot place a stop faster than REST answers, nor fill better than a gap in the
tape allows, so the bounds grow with the slowest REST the program injects and with the
largest move its tape makes in the time a stop needs to act. Everything else is the
checkers' defaults.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sim.runtime.units import iso_to_us
from sim.scenario.load import REPO_ROOT
from sim.scenario.model import (
    BotSpec,
    EntrySpec,
    ExchangeSpec,
    Expectations,
    Fault,
    Phases,
    Scenario,
    TapeSpec,
)
from sim.tape import TapePoint

START_MS = iso_to_us("2025-11-10T16:00:00Z") // 1000
BOT_CONFIG = Path("bot/examples/demo.toml")
STEP_MS = 1000
HUNDRED = Decimal(100)
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Jump:
    at_ms: int  # offset from the start
    bps: int  # the move, in basis points of the price then


@dataclass(frozen=True, slots=True)
class Gap:
    at_ms: int
    length_ms: int  # no price at all for this long (the feed is silent)
    bps: int  # where the price resumes, relative to where it stopped


@dataclass(frozen=True, slots=True)
class PricePath:
    """A symbol's mark price on its tick grid, one point per ``STEP_MS``: a seeded walk
    (``drift_bps`` and ``vol_bps`` per step) with jumps, feed gaps and scripted points
    (``(at_ms, bps from the start price)``) on top."""

    symbol: str
    start: Decimal
    tick: Decimal
    seed: int = 0
    drift_bps: float = 0.0
    vol_bps: float = 0.0
    jumps: tuple[Jump, ...] = ()
    gaps: tuple[Gap, ...] = ()
    scripted: tuple[tuple[int, int], ...] = ()

    def points(self, start_ms: int, duration_ms: int) -> list[TapePoint]:
        """The tape: a point every ``STEP_MS`` from 0 to ``duration_ms`` (offsets), plus one
        at each jump that falls between two steps (a fast market moves between ticks of the
        feed). A jump on a step adds to that step's move; jumps at one instant add up."""
        rng = random.Random(f"{self.seed}:{self.symbol}")
        jumps: dict[int, int] = {}
        for j in self.jumps:
            if 0 < j.at_ms <= duration_ms:
                jumps[j.at_ms] = jumps.get(j.at_ms, 0) + j.bps
        scripted = {at - at % STEP_MS: bps for at, bps in self.scripted}
        gaps = {g.at_ms - g.at_ms % STEP_MS: g for g in self.gaps}
        times = sorted({*range(0, duration_ms + 1, STEP_MS), *jumps})
        floor = self.tick * 10
        price = self.start
        out: list[TapePoint] = []
        silent_until = -1
        resume_bps = 0
        for at in times:
            on_step = at % STEP_MS == 0
            move = rng.gauss(self.drift_bps, self.vol_bps) if at and on_step else 0.0
            move += jumps.get(at, 0)
            price = price * (1 + Decimal(str(round(move, 4))) / BPS)
            if at in scripted:
                price = self.start * (1 + Decimal(scripted[at]) / BPS)
            if at and at in gaps and silent_until < at:  # the tape's first point always is
                silent_until = at + gaps[at].length_ms
                resume_bps = gaps[at].bps
                continue
            if at < silent_until:
                continue
            if resume_bps:
                price = price * (1 + Decimal(resume_bps) / BPS)
                resume_bps = 0
            price = max(floor, (price / self.tick).to_integral_value(ROUND_HALF_EVEN) * self.tick)
            out.append(TapePoint(start_ms + at, self.symbol, price, price))
        return out


@dataclass(frozen=True, slots=True)
class Program:
    """One generated world. Times are offsets from :data:`START_MS`, in ms."""

    paths: tuple[PricePath, ...]
    entries: tuple[EntrySpec, ...]
    faults: tuple[Fault, ...]
    # the bot's config, over bot/examples/demo.toml: section -> keys (protection, reconcile)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    immediate_trigger: str = "reject"
    rest_latency_ms: int = 50
    ws_latency_ms: int = 10
    safety_ms: int = 60_000  # faults act until here (the heal phase)
    converge_ms: int = 30_000
    tail_ms: int = 10_000  # after the convergence deadline, so its samples are in the run
    seed: int = 1

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(p.symbol for p in self.paths)

    @property
    def duration_ms(self) -> int:
        return self.safety_ms + self.converge_ms + self.tail_ms

    def tape(self) -> list[TapePoint]:
        points = [pt for p in self.paths for pt in p.points(START_MS, self.duration_ms)]
        return sorted(points, key=lambda p: (p.t_ms, p.symbol))

    # ------------------------------------------------------------------ the envelope
    def slowest_rest_ms(self) -> int:
        """The slowest one-way REST latency the program can produce."""
        slowest = 0
        for f in self.faults:
            if f.kind == "rest_latency":
                p = f.params
                highest = max(p.get(k, 0) or 0 for k in ("ms", "hi_ms", "spike_hi_ms", "median_ms"))
                if p.get("distribution") == "lognormal":  # its tail: four standard deviations
                    highest = max(highest, p["median_ms"] * math.exp(4 * p["sigma"]))
                slowest = max(slowest, int(highest))
        return self.rest_latency_ms + slowest

    def _restart_ms(self) -> int:
        """A crash: the process is down, then a new one loads markets, reconciles, listens."""
        downs = [f.params["restart_after_ms"] for f in self.faults if f.kind == "bot_crashed"]
        return max(downs) + 12 * self.slowest_rest_ms() + 1000 if downs else 0

    def _refusals_ms(self) -> int:
        """Refused stop placements: a burst backed off (no order route answers), a stuck
        trigger's timeout (the bot closes itself), forced -2021s (closed or repriced, a round
        trip each)."""
        burst = self._longest("rest_error_burst", reads=False)
        triggering = 0  # a stop sits in TRIGGERING only while a fault holds it there
        if self._longest("algo_stuck_triggering"):
            triggering = int(self.config.get("protection", {}).get("triggering_timeout_ms", 5000))
        forced = 3 * 2 * self.slowest_rest_ms() if self._longest("order_forced_2021") else 0
        # an answer lost (or replaced by a 5xx) is an unknown outcome: the bot waits out its
        # request timeout, then looks the order up; each lost answer costs one timeout
        timeout_ms = int(self.config.get("execution", {}).get("request_timeout_ms", 5000))
        lost = sum(
            timeout_ms
            * (f.params["count"] or 1 + ((f.until_ms or self.safety_ms) - f.at_ms) // 1000)
            for f in self.faults
            if f.kind in ("rest_response_dropped", "rest_unknown_outcome")
        )
        # a burst is backed off exponentially: its end is met up to one capped backoff late
        return max(burst + 5000 if burst else 0, triggering) + forced + lost

    def _blind_ms(self) -> int:
        """How long the bot may not know that a position closed: a fill whose user-stream
        frames were lost (or held) is learnt from REST, which it believes only after its
        lag bound. Until then an entry for that symbol meets a bot that believes it is
        still in the position, and is not sent."""
        silent = ("user_stream_dropped", "user_stream_held", "user_stream_delayed")
        if not any(f.kind in silent for f in self.faults):
            return 0
        interval = int(self.config.get("reconcile", {}).get("interval_ms", 60_000))
        # and REST's absence of a position is believed only rest_lag_bound_ms after the
        # last evidence of it (the incident: REST lags), one more reconciliation later
        lag_bound = int(self.config.get("protection", {}).get("rest_lag_bound_ms", 10_000))
        return 2 * interval + lag_bound + 4 * self.slowest_rest_ms()

    def entry_window_ms(self) -> int:
        """How long a new position may stand naked: the entry's round trip and the stop's,
        plus what the faults add (a bot cannot place a stop faster than REST answers)."""
        return 4 * self.slowest_rest_ms() + 250 + self._restart_ms() + self._refusals_ms()

    def act_ms(self) -> int:
        """How long a correct bot may need to act on news (a cancel, a close, an entry):
        a few REST round trips, a restart, refusals."""
        return 8 * self.slowest_rest_ms() + self._restart_ms() + self._refusals_ms() + 2000

    def _longest(self, kind: str, *, reads: bool | None = None) -> int:
        """The longest fault of ``kind``; ``reads``: only those on GET routes (True), or
        only those that can refuse an order (False)."""
        return max(
            (
                (f.until_ms or self.safety_ms) - f.at_ms
                for f in self.faults
                if f.kind == kind
                and (reads is None or str(f.params.get("route", "")).startswith("GET ") == reads)
            ),
            default=0,
        )

    def max_move_pct(self, window_ms: int) -> Decimal:
        """The largest move of any symbol within ``window_ms`` (or from one tape point to
        the next), in percent."""
        worst = Decimal(0)
        by_symbol: dict[str, list[TapePoint]] = {}
        for point in self.tape():
            by_symbol.setdefault(point.symbol, []).append(point)
        for points in by_symbol.values():
            for i, a in enumerate(points):
                for k, b in enumerate(points[i + 1 :]):
                    if k and b.t_ms - a.t_ms > window_ms:  # the next point always counts: a
                        break  # gap in the feed is one move, however long it lasted
                    worst = max(worst, abs(b.mark - a.mark) / a.mark * HUNDRED)
        return worst

    def checkers(self) -> dict[str, dict[str, Any]]:
        act = self.act_ms()
        # a stop fires and fills, or the bot closes: the price moves for as long as that takes
        # (what a new position may stand naked covers the same round trips and refusals)
        window = self.entry_window_ms()
        slippage = (self.max_move_pct(window) + Decimal("0.5")).quantize(Decimal("0.01"))
        return {
            "stop_coverage": {"entry_window_ms": self.entry_window_ms()},
            # a stop stuck in TRIGGERING cannot be cancelled until its fault heals
            "no_orphan_stops": {"settle_ms": 5000 + act + self._longest("algo_stuck_triggering")},
            "belief_matches_truth": {},
            "trailing_monotonic": {},
            "loss_bounded": {"slippage_pct": str(slippage)},
            "errors_handled": {"bound_ms": 3000 + act},
            "rate_budget": {},
            "no_duplicate_stops": {},
            # entries wait for the first reconciliation, which waits out a read outage
            "entries_on_time": {
                "bound_ms": 10_000 + act + self._longest("rest_error_burst", reads=True),
                "busy_ms": 5000 + self._blind_ms(),
            },
        }

    def prefix(self, cursor_ms: int) -> Program:
        """What happens before ``cursor_ms``, as a program that ends there: entries and
        fault starts before it; faults still active heal at it; no convergence time.
        Its records before ``cursor_ms`` are this program's, record for record (the rest
        of the program is scheduled later, and same-instant order is by creation)."""
        faults = [f for f in self.faults if f.at_ms < cursor_ms]
        return dataclasses.replace(
            self,
            entries=tuple(e for e in self.entries if e.at_ms < cursor_ms),
            faults=tuple(
                dataclasses.replace(
                    f,
                    until_ms=None if f.until_ms is None or f.until_ms > cursor_ms else f.until_ms,
                    index=i,
                )
                for i, f in enumerate(faults)
            ),
            safety_ms=cursor_ms,
            converge_ms=0,
            tail_ms=0,
        )

    # ------------------------------------------------------------------ as a scenario
    def scenario(
        self,
        *,
        path: Path,
        variant: str = "reference",
        why: str = "",
        tape_file: Path | None = None,
        must_fail: tuple[str, ...] = (),
    ) -> Scenario:
        """The program as a scenario: the reference bot must pass it; ``variant`` (when it
        is not the reference) must fail ``must_fail``."""
        overrides: dict[str, dict[str, Any]] = {"bot": {"symbols": list(self.symbols)}}
        overrides.update({section: dict(keys) for section, keys in self.config.items()})
        variants = {variant: must_fail} if variant != "reference" and must_fail else {}
        return Scenario(
            path=path.absolute(),
            id=path.stem,
            why=why or "A world generated by futsim fuzz.",
            source="futsim fuzz",
            seed=self.seed,
            start_ms=START_MS,
            duration_ms=self.duration_ms,
            exchange=ExchangeSpec(
                symbols=self.symbols,
                immediate_trigger=self.immediate_trigger,
                rest_latency_ms=self.rest_latency_ms,
                ws_latency_ms=self.ws_latency_ms,
            ),
            tape=TapeSpec(file=tape_file),
            bot=BotSpec(config=REPO_ROOT / BOT_CONFIG, overrides=overrides, variant="reference"),
            entries=self.entries,
            faults=self.faults,  # in time order, each with its position as its index
            phases=Phases(heal_at_ms=self.safety_ms, converge_within_ms=self.converge_ms),
            expect=Expectations(checkers=self.checkers(), variants=variants),
        )
