"""Replay a scenario: build its world, run the bot (or a variant) through its faults, judge
the records, and write the run folder.

A run goes safety → heal → convergence (DESIGN.md, principle 6): the faults act during
safety; at ``phases.heal_at`` every one has healed; ``phases.converge_within`` later the bot's
view must match the exchange's. The runner samples the bot's belief at the heal instant, at
the convergence deadline and at the end (``bot.belief`` records), and marks the phases
(``run.phase``).

The run folder holds ``trace.jsonl`` (and ``trace.parquet``), ``truth.json`` (the exchange at
the end), ``verdicts.json``, ``summary.json`` and ``report.html``. Every run prints the one
command that replays it.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import Entry, load_config, parse_config
from sim.botrun import BotProcess, BotRun, BotRunOutcome, run_bot
from sim.checkers.context import CheckContext
from sim.checkers.run import run_checkers
from sim.checkers.verdict import FAIL, PASS, Verdict
from sim.exchange.model import ExchangeConfig
from sim.nemesis import Nemesis
from sim.runtime.entropy import Streams
from sim.scenario.model import Scenario
from sim.tape import TapePoint, WalkSpec, generate_tape, load_tape, waypoint_tape
from sim.transport.latency import Fixed
from sim.variants import VARIANTS
from sim.venue import VenueConfig, load_exchange_info

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class RunReport:
    scenario: Scenario
    variant: str
    seed: int
    verdicts: tuple[Verdict, ...]
    expected_failures: tuple[str, ...]  # checkers that must fail for this variant
    expectations_met: bool
    trace_sha256: str
    run_dir: Path | None
    replay: str
    outcome: BotRunOutcome
    error: str = ""  # the run could not finish (a deadlock, a crashed bot task, ...)

    @property
    def all_passed(self) -> bool:
        """Every checker passed and the run finished: what a healthy bot must achieve."""
        return not self.error and all(v.status == PASS for v in self.verdicts)

    def summary(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "scenario": s.id,
            "why": s.why,
            "path": str(s.path),
            "seed": self.seed,
            "variant": self.variant,
            "trace_sha256": self.trace_sha256,
            "start_ms": s.start_ms,
            "end_ms": s.start_ms + s.duration_ms,
            "expectations_met": self.expectations_met,
            "all_passed": self.all_passed,
            "verdicts": {v.checker: v.status for v in self.verdicts},
            "expected_failures": list(self.expected_failures),
            "error": self.error,
            "replay": self.replay,
        }


def replay_command(scenario: Scenario, seed: int, variant: str) -> str:
    try:
        path = scenario.path.resolve().relative_to(Path.cwd())
    except ValueError:
        path = scenario.path
    parts = ["futsim", "replay", str(path), "--seed", str(seed)]
    if variant != "reference":
        parts += ["--variant", variant]
    return shlex.join(parts)


# ------------------------------------------------------------------ the world
def build_tape(scenario: Scenario) -> list[TapePoint]:
    """The scenario's prices: its tape file, or its scripted waypoints (straight lines in
    between, the last price held to the end) and seeded walks, with a symbol's waypoints
    pinned on its walk when it has both."""
    spec = scenario.tape
    if spec.file is not None:
        return load_tape(spec.file)
    info = load_exchange_info(VenueConfig().exchange_info, scenario.exchange.symbols)
    ticks = {
        s["symbol"]: Decimal(
            next(f["tickSize"] for f in s["filters"] if f["filterType"] == "PRICE_FILTER")
        )
        for s in info["symbols"]
    }
    start, end = scenario.start_ms, scenario.start_ms + scenario.duration_ms
    walked = {w.symbol for w in spec.walks}
    points: list[TapePoint] = []
    for symbol in sorted({w.symbol for w in spec.waypoints} - walked):
        waypoints = [(start + w.at_ms, w.price) for w in spec.waypoints if w.symbol == symbol]
        if waypoints[-1][0] < end:  # hold the last price to the end of the run
            waypoints.append((end, waypoints[-1][1]))
        points += waypoint_tape(symbol, ticks[symbol], waypoints, step_ms=spec.step_ms)
    if spec.walks:
        walks = [
            WalkSpec(w.symbol, w.start, ticks[w.symbol], w.vol_ticks, w.spread_ticks)
            for w in spec.walks
        ]
        pins = {(w.symbol, start + w.at_ms): w.price for w in spec.waypoints if w.symbol in walked}
        points += generate_tape(
            walks,
            start_ms=start,
            duration_ms=scenario.duration_ms,
            step_ms=spec.step_ms,
            rng=Streams(scenario.seed)["prices"],
            scripted=pins,
        )
    return sorted(points, key=lambda p: (p.t_ms, p.symbol))


def build_bot_config(scenario: Scenario, repository: Path):
    base = load_config(
        ROOT / scenario.bot.config if not scenario.bot.config.is_absolute() else scenario.bot.config
    )
    data = base.to_dict()
    for section, keys in scenario.bot.overrides.items():
        data.setdefault(section, {}).update(keys)
    data["repository"] = {"path": str(repository)}
    if scenario.entries:  # the scenario's entries replace the file's (as the loader does)
        data.setdefault("signals", {})["entries"] = []
    config = parse_config(data, str(scenario.path))
    if scenario.entries:
        entries = tuple(
            Entry(scenario.start_ms + e.at_ms, e.symbol, e.side, e.quantity)
            for e in scenario.entries
        )
        config = dataclasses.replace(
            config, signals=dataclasses.replace(config.signals, kind="schedule", entries=entries)
        )
    return config


# ------------------------------------------------------------------ running
def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    variant: str | None = None,
    out_dir: Path | None = None,
    tape: list[TapePoint] | None = None,
) -> RunReport:
    """Run ``scenario`` (with ``seed`` and ``variant`` instead of its own, if given).
    ``tape``: the prices, when the caller already holds them (the fuzzer does; a scenario
    file names them in ``[tape]``)."""
    seed = scenario.seed if seed is None else seed
    variant = variant or scenario.bot.variant
    if variant not in VARIANTS:
        raise ValueError(f"unknown bot variant {variant!r}; known: {', '.join(VARIANTS)}")
    with tempfile.TemporaryDirectory(prefix="futsim-") as scratch:
        report = _run(scenario, seed, variant, Path(scratch), tape)
        if out_dir is not None:
            write_run_folder(report, out_dir)
            report = dataclasses.replace(report, run_dir=out_dir)
    return report


def _run(
    scenario: Scenario, seed: int, variant: str, scratch: Path, tape: list[TapePoint] | None
) -> RunReport:
    ex = scenario.exchange
    start_ms, heal_ms = scenario.start_ms, scenario.start_ms + scenario.phases.heal_at_ms
    converge_ms = heal_ms + scenario.phases.converge_within_ms
    end_ms = start_ms + scenario.duration_ms
    process = BotProcess()

    def setup(sim, venue, session) -> None:
        Nemesis(
            sim,
            venue,
            session,
            process,
            scenario.faults,
            start_ms=start_ms,
            heal_at_ms=scenario.phases.heal_at_ms,  # an offset, as the Nemesis takes it
        ).arm()

        def at(t_ms: int, phase: str) -> None:
            def mark(_event) -> None:
                sim.trace.record("run.phase", phase=phase)
                if phase != "safety":
                    _record_beliefs(sim, process, scenario.exchange.symbols)

            sim.env.timeout(max(0, t_ms * 1000 - sim.env.now)).callbacks.append(mark)

        at(start_ms, "safety")
        at(heal_ms, "heal")
        at(converge_ms, "convergence")
        at(end_ms - 1, "end")

    spec = BotRun(
        bot_config=build_bot_config(scenario, scratch / "bot.sqlite"),
        tape=build_tape(scenario) if tape is None else tape,
        repository_path=scratch / "bot.sqlite",
        start_us=start_ms * 1000,
        horizon_s=scenario.duration_ms / 1000,
        seed=seed,
        venue_config=VenueConfig(
            symbols=ex.symbols,
            exchange=ExchangeConfig(
                immediate_trigger=ex.immediate_trigger,
                slippage_ticks_max=ex.slippage_ticks_max,
                initial_wallet=ex.initial_wallet,
            ),
        ),
        rest_latency=Fixed(ex.rest_latency_ms),
        ws_latency=Fixed(ex.ws_latency_ms),
        variant=variant,
        setup=setup,
    )
    outcome = run_bot(spec, process)
    error = outcome.error
    records = [json.loads(line) for line in outcome.sim.trace.lines]
    ctx = CheckContext(
        start_ms=start_ms,
        end_ms=end_ms,
        heal_ms=heal_ms,
        converge_ms=converge_ms,
        symbols=tuple(scenario.exchange.symbols),
        initial_stop_pct=spec.bot_config.protection.initial_stop_pct,
        entries=tuple((e.at_ms, e.symbol) for e in spec.bot_config.signals.entries),
    )
    verdicts = tuple(run_checkers(records, scenario.expect.checkers, ctx))
    expected_failures = tuple(scenario.expect.variants.get(variant, ()))
    met = _expectations_met(verdicts, variant, expected_failures)
    return RunReport(
        scenario=scenario,
        variant=variant,
        seed=seed,
        verdicts=verdicts,
        expected_failures=expected_failures,
        expectations_met=met,
        trace_sha256=outcome.sim.trace.sha256(),
        run_dir=None,
        replay=replay_command(scenario, seed, variant),
        outcome=outcome,
        error=error,
    )


def _expectations_met(
    verdicts: tuple[Verdict, ...], variant: str, expected_failures: tuple[str, ...]
) -> bool:
    status = {v.checker: v.status for v in verdicts}
    if variant == "reference":
        return all(s == PASS for s in status.values())
    if not expected_failures:  # a variant the scenario says nothing about: not judged
        return False
    return all(status.get(name) == FAIL for name in expected_failures)


def _record_beliefs(sim, process: BotProcess, symbols) -> None:
    if not process.bots:
        return
    bot = process.bots[-1]
    for symbol in symbols:
        belief = bot.belief(symbol)
        sim.trace.record("bot.belief", symbol=symbol, life=len(process.bots), **belief)


# ------------------------------------------------------------------ the run folder
def write_run_folder(report: RunReport, out_dir: Path) -> Path:
    from sim.report import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    trace = report.outcome.sim.trace
    trace.write_jsonl(out_dir / "trace.jsonl")
    trace.to_polars().write_parquet(out_dir / "trace.parquet")
    truth = report.outcome.venue.exchange.truth()
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    (out_dir / "verdicts.json").write_text(
        json.dumps([v.to_dict() for v in report.verdicts], indent=2, sort_keys=True) + "\n"
    )
    (out_dir / "summary.json").write_text(
        json.dumps(report.summary(), indent=2, sort_keys=True) + "\n"
    )
    render_report(out_dir)
    return out_dir
