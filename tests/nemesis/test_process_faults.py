"""Faults on the bot's process, with the reference bot unchanged (sim.botrun.run_bot): a
crash with a restart, and repository writes that land late."""

from __future__ import annotations

from decimal import Decimal

import simpy

from bot.config import load_config
from bot.repository import Repository
from sim.botrun import BotProcess, BotRun, run_bot
from sim.checkers.coverage import truth_records
from sim.nemesis import Nemesis
from sim.runtime.units import iso_to_us
from sim.tape import waypoint_tape
from sim.transport.latency import Fixed
from sim.venue import VenueConfig
from tests.nemesis.harness import fault

T0_MS = iso_to_us("2025-11-10T16:02:30Z") // 1000  # the demo config enters at +1092 ms
REST_MS = 150
D = Decimal


def tape():
    """Flat, up 3.3 % (the trailing stop follows), then down through it: one position life."""
    points = [
        (T0_MS, D("2.0333")),
        (T0_MS + 70_000, D("2.0333")),
        (T0_MS + 120_000, D("2.1000")),
        (T0_MS + 200_000, D("2.0000")),
        (T0_MS + 240_000, D("2.0000")),
    ]
    return waypoint_tape("SOONUSDT", D("0.0001"), points, step_ms=1000)


def run_with(tmp_path, faults, *, heal_at_ms=200_000, probe=None):
    process = BotProcess()
    nemeses = []

    def setup(sim, venue, session):
        nemesis = Nemesis(sim, venue, session, process, faults, T0_MS, heal_at_ms)
        nemesis.arm()
        nemeses.append(nemesis)
        if probe is not None:
            sim.env.process(probe(sim.env, venue))

    outcome = run_bot(
        BotRun(
            bot_config=load_config("bot/examples/demo.toml"),
            tape=tape(),
            repository_path=tmp_path / "bot.sqlite",
            start_us=T0_MS * 1000,
            horizon_s=240,
            venue_config=VenueConfig(symbols=("SOONUSDT",)),
            rest_latency=Fixed(REST_MS),
            ws_latency=Fixed(20),
            setup=setup,
        ),
        process,
    )
    return outcome, process


def records(outcome, kind):
    return [r for r in outcome.sim.trace.records() if r["kind"] == kind]


def marks(outcome):
    return [
        (r["kind"], r["fault"], r["t_ms"] - T0_MS)
        for r in outcome.sim.trace.records()
        if r["kind"] in ("fault.start", "fault.stop")
    ]


def test_bot_crashed_kills_the_process_and_a_new_life_starts_after_the_pause(tmp_path):
    crash, pause = 100_000, 1000  # mid-position, trailing
    outcome, _ = run_with(tmp_path, [fault("bot_crashed", crash, restart_after_ms=pause)])
    assert len(outcome.bots) == 2  # a new life
    [killed] = records(outcome, "bot.killed")
    assert (killed["t_ms"] - T0_MS, killed["life"]) == (crash, 1)
    arrivals = [r["t_ms"] - T0_MS for r in records(outcome, "venue.rest")]
    # dead for the pause: nothing new reaches the venue (what was in flight lands by +150)
    assert [t for t in arrivals if crash + REST_MS < t < crash + pause + REST_MS] == []
    assert min(t for t in arrivals if t > crash + REST_MS) > crash + pause + REST_MS
    # the new life is a normal bot again: it protects the position and exits through the stop
    lives = {r["life"] for r in records(outcome, "bot.command")}
    assert lives == {1, 2}
    truth = truth_records(outcome.sim.trace.lines)
    assert truth[-1]["positions"] == {} and truth[-1]["open_algo_orders"] == []
    assert marks(outcome) == [
        ("fault.start", "bot_crashed", crash),
        ("fault.stop", "bot_crashed", crash),
    ]


def test_repository_write_lag_makes_reads_stale_until_the_writes_land(tmp_path):
    lag_ms, heal_ms = 3000, 10_000
    landed: dict[int, tuple[int, int]] = {}  # journal seq -> (its t_ms, first seen)
    stale_reads: list[int] = []  # instants the exchange had a position the journal lacked

    def probe(env: simpy.Environment, venue):
        yield env.timeout(500_000)
        with Repository(tmp_path / "bot.sqlite") as repository:
            while True:
                now_ms = env.now // 1000
                rows = repository.positions_journal("SOONUSDT")
                for row in rows:
                    landed.setdefault(row.seq, (row.t_ms - T0_MS, now_ms - T0_MS))
                holds = venue.exchange.account.position("SOONUSDT").amount != 0
                if holds and not any(row.amount for row in rows):
                    stale_reads.append(now_ms - T0_MS)
                if now_ms - T0_MS >= 230_000:
                    return
                yield env.timeout(100_000)

    faults = [fault("repository_write_lag", 0, heal_ms, delay_ms=lag_ms)]
    outcome, process = run_with(tmp_path, faults, probe=probe)
    opened, closed = (landed[seq] for seq in sorted(landed))
    written_ms, seen_ms = opened
    assert written_ms < heal_ms
    assert lag_ms <= seen_ms - written_ms <= lag_ms + 200  # landed 3 s late
    assert stale_reads and stale_reads[0] < written_ms + lag_ms  # reads were stale meanwhile
    written_ms, seen_ms = closed
    assert written_ms > heal_ms and seen_ms - written_ms <= 200  # after the heal: at once
    assert process.write_lag_ms == 0 and process.repository.delay_ms == 0
    assert marks(outcome) == [
        ("fault.start", "repository_write_lag", 0),
        ("fault.stop", "repository_write_lag", heal_ms),
    ]
