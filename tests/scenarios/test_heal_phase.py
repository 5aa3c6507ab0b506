"""A fault written without ``until`` heals at the heal phase (``phases.heal_at``), as the
scenario format says: the runner hands the Nemesis the phase as an offset from the start.
(It once passed it as an epoch instant, added to the start again, so such faults never
healed; the fuzzer's stateful test found it.)"""

from __future__ import annotations

import json
from decimal import Decimal

from sim.fuzz.campaign import run_program
from sim.fuzz.program import START_MS, PricePath, Program
from sim.nemesis import validate_params
from sim.scenario.model import EntrySpec, Fault


def test_a_fault_without_until_heals_at_the_heal_phase():
    params = validate_params("algo_stuck_triggering", {"symbol": "SOONUSDT"})
    program = Program(
        paths=(PricePath("SOONUSDT", Decimal("2.0333"), Decimal("0.0001")),),
        entries=(EntrySpec(1_000, "SOONUSDT", "long", Decimal(5)),),
        faults=(Fault("algo_stuck_triggering", 2_000, None, params, 0),),
        safety_ms=7_000,
    )
    records = [json.loads(line) for line in run_program(program).outcome.sim.trace.lines]
    stops = [r for r in records if r["kind"] == "fault.stop"]
    assert [(r["fault"], r["t_ms"] - START_MS) for r in stops] == [("algo_stuck_triggering", 7_000)]
    heal = next(r for r in records if r["kind"] == "run.phase" and r["phase"] == "heal")
    assert heal["t_ms"] - START_MS == 7_000
