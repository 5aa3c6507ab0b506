"""The stateful test (``sim.fuzz.machine``): its step-by-step judgement is sound (the history
before the cursor is the same whether the run stops there or goes on), it passes the
reference bot, and it catches a variant, whose world files as a replayable scenario."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.fuzz.campaign import file_find, run_program
from sim.fuzz.machine import machine_for
from sim.fuzz.program import Jump, PricePath, Program
from sim.nemesis import validate_params
from sim.scenario.model import EntrySpec, Fault

SMALL = settings(
    max_examples=6,
    stateful_step_count=10,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _records_before(program: Program, cursor_ms: int) -> list[dict]:
    from sim.fuzz.program import START_MS

    lines = run_program(program).outcome.sim.trace.lines
    skip = ("run.phase", "bot.belief")  # the runner's own marks, at the phases it was given
    return [
        r
        for r in map(json.loads, lines)
        if r["t_ms"] < START_MS + cursor_ms and r["kind"] not in skip
    ]


def test_a_prefix_run_has_the_full_runs_history_up_to_the_cursor():
    fault = lambda kind, at, until, **p: Fault(kind, at, until, validate_params(kind, p))  # noqa: E731
    path = PricePath(
        "SOONUSDT", Decimal("2.0333"), Decimal("0.0001"), seed=4, vol_bps=10,
        jumps=(Jump(12_400, -80), Jump(31_000, 120)),
    )  # fmt: skip
    faults = [
        fault("rest_latency", 2_000, 20_000, ms=120),
        fault("user_stream_dropped", 9_000, None, events=["ACCOUNT_UPDATE"], count=1),
        fault("bot_crashed", 15_000, None, restart_after_ms=500),
        fault("order_forced_2021", 24_000, 40_000, count=1),  # after the cursor
    ]
    program = Program(
        paths=(path,),
        entries=(
            EntrySpec(3_300, "SOONUSDT", "long", Decimal(5)),
            EntrySpec(23_500, "SOONUSDT", "short", Decimal(5)),  # after the cursor
        ),
        faults=tuple(Fault(f.kind, f.at_ms, f.until_ms, f.params, i) for i, f in enumerate(faults)),
        config={"reconcile": {"interval_ms": 5000}, "protection": {"activation_pct": "0.2"}},
        safety_ms=45_000,
    )
    cursor_ms = 21_000
    before = _records_before(program, cursor_ms)
    assert len(before) > 100 and any(r["kind"] == "bot.killed" for r in before)
    assert _records_before(program.prefix(cursor_ms), cursor_ms) == before


def test_the_reference_bot_passes_the_stateful_test():
    machine = machine_for("reference")
    run_state_machine_as_test(machine, settings=settings(SMALL, phases=[Phase.generate]))
    assert machine.failures == []


def test_the_stateful_test_catches_a_variant_and_its_world_files_as_a_scenario(tmp_path):
    machine = machine_for("software-stop")
    try:
        run_state_machine_as_test(
            machine, settings=settings(SMALL, max_examples=30, phases=[Phase.generate])
        )
    except AssertionError as failure:
        assert "software-stop fails stop_coverage" in str(failure)
    else:
        raise AssertionError("the machine never caught software-stop")
    program, failing, summary = machine.failures[-1]
    find = file_find(program, "software-stop", failing, summary, tmp_path, "the stateful test")
    assert find.reproduced and find.path.exists()
