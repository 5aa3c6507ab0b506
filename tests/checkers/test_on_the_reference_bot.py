"""Every checker on a real run: the reference bot, unchanged, with real ccxt on FakeBinance,
through one position's life (entry, initial stop, trailing, exit through the trailing stop).

The runner will write ``bot.belief`` samples; here the test takes them itself, from a simpy
callback that reads the live bot's :meth:`Bot.belief`, at the instants a runner would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import load_config
from sim.botrun import BotProcess, BotRun, run_bot
from sim.checkers import REGISTRY
from sim.checkers.context import CheckContext
from sim.checkers.run import run_checkers
from sim.runtime.units import iso_to_us
from sim.tape import waypoint_tape
from sim.transport.latency import Fixed
from sim.venue import VenueConfig

T0_MS = iso_to_us("2025-11-10T16:02:30Z") // 1000
SYM = "SOONUSDT"
D = Decimal
HEAL_MS = T0_MS + 20_000  # no faults: "healed" early, so convergence is judged mid-position
CONVERGE_MS = T0_MS + 30_000
SAMPLES_MS = (CONVERGE_MS, T0_MS + 45_000, T0_MS + 125_000, T0_MS + 149_000)


def rise_then_fall():
    waypoints = [
        (T0_MS, D("2.0333")),
        (T0_MS + 10_000, D("2.0333")),
        (T0_MS + 60_000, D("2.1000")),
        (T0_MS + 110_000, D("2.0000")),
        (T0_MS + 150_000, D("2.0000")),
    ]
    return waypoint_tape(SYM, D("0.0001"), waypoints, step_ms=1000)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    process = BotProcess()

    def sample_beliefs(sim, venue, session):
        def sample(_event):
            bot = process.bots[-1]
            sim.trace.record("bot.belief", symbol=SYM, life=len(process.bots), **bot.belief(SYM))

        for at_ms in SAMPLES_MS:
            sim.env.timeout(at_ms * 1000 - sim.env.now).callbacks.append(sample)

    spec = BotRun(
        bot_config=load_config("bot/examples/demo.toml"),
        tape=rise_then_fall(),
        repository_path=tmp_path_factory.mktemp("bot") / "bot.sqlite",
        start_us=T0_MS * 1000,
        horizon_s=150,
        venue_config=VenueConfig(symbols=(SYM,)),
        rest_latency=Fixed(150),
        ws_latency=Fixed(20),
        setup=sample_beliefs,
    )
    outcome = run_bot(spec, process)
    records = list(outcome.sim.trace.records())
    ctx = CheckContext(
        start_ms=T0_MS,
        end_ms=outcome.result.end_us // 1000,
        heal_ms=HEAL_MS,
        converge_ms=CONVERGE_MS,
        symbols=(SYM,),
        initial_stop_pct=D("6"),
    )
    return records, ctx


def test_the_run_is_not_trivial(run):
    records, _ = run
    kinds = [r["kind"] for r in records]
    assert kinds.count("venue.fill") == 2  # one entry, one exit
    assert kinds.count("bot.belief") == len(SAMPLES_MS)
    assert any(r["kind"] == "bot.belief" and D(r["amount"]) == 4 for r in records)


def test_every_checker_passes_on_the_reference_bot(run):
    records, ctx = run
    verdicts = run_checkers(records, dict.fromkeys(REGISTRY), ctx)
    assert {v.checker: v.status for v in verdicts} == dict.fromkeys(REGISTRY, "pass"), [
        v.to_dict() for v in verdicts if v.status != "pass"
    ]
    by_name = {v.checker: v for v in verdicts}
    assert by_name["stop_coverage"].metrics["positions"] == 1
    assert by_name["stop_coverage"].metrics["entry_windows"] == 1
    assert by_name["trailing_monotonic"].metrics["tightenings"] >= 10
    assert by_name["loss_bounded"].metrics["positions"] == 1
    assert by_name["no_duplicate_stops"].metrics["most_stops"] == 2  # replacements overlap
    assert by_name["belief_matches_truth"].metrics["samples"] == len(SAMPLES_MS)
    assert by_name["rate_budget"].metrics["requests"] > 0


def test_a_tighter_entry_window_than_one_stop_round_trip_fails_the_same_run(run):
    records, ctx = run
    (verdict,) = run_checkers(records, {"stop_coverage": {"entry_window_ms": 0}}, ctx)
    assert verdict.status == "fail" and verdict.evidence[0]["entry_window"]
