"""The public strategies draw valid worlds: every program is a scenario the loader accepts
unchanged, its prices sit on the tick grid, its entries meet the venue's filters, and its
fault schedule is in time order with valid params (no simulation is run here)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.fuzz import strategies as fs
from sim.fuzz.program import STEP_MS, Gap, Jump, PricePath
from sim.nemesis import validate_params
from sim.scenario.dump import dump_scenario
from sim.scenario.load import load_scenario
from sim.scenario.model import FAULT_KINDS
from sim.tape import write_tape

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(fs.programs(safety_ms=60_000))
def test_a_program_is_a_scenario_the_loader_reads_back_unchanged(tmp_path_factory, program):
    folder = tmp_path_factory.mktemp("found")
    path = folder / "fuzz-x.toml"
    tape = folder / "fuzz-x.tape.csv"
    write_tape(program.tape(), tape)
    scenario = program.scenario(path=path, tape_file=tape)
    path.write_text(dump_scenario(scenario))
    assert load_scenario(path) == dataclasses.replace(scenario, path=path.absolute())


@FAST
@given(fs.programs(safety_ms=60_000))
def test_prices_are_on_the_tick_grid_and_time_ordered(program):
    points = program.tape()
    assert points, "a program always has prices"
    assert [(p.t_ms, p.symbol) for p in points] == sorted((p.t_ms, p.symbol) for p in points)
    for path in program.paths:
        mine = [p for p in points if p.symbol == path.symbol]
        assert mine[0].t_ms == program.tape()[0].t_ms  # every symbol is priced from the start
        jumps = {j.at_ms for j in path.jumps}  # a jump between steps has a point of its own
        for p in mine:
            assert p.mark > 0 and p.mark % path.tick == 0
            offset = p.t_ms - mine[0].t_ms
            assert offset % STEP_MS == 0 or offset in jumps


@FAST
@given(fs.programs(safety_ms=60_000))
def test_entries_meet_the_filters_and_faults_are_a_valid_schedule(program):
    for e in program.entries:
        _, step, min_notional = fs.symbol_filters(e.symbol)
        assert e.quantity % step == 0
        assert e.quantity * fs.START_PRICES[e.symbol] >= min_notional
        assert 0 < e.at_ms < program.safety_ms
    assert [f.index for f in program.faults] == list(range(len(program.faults)))
    assert [f.at_ms for f in program.faults] == sorted(f.at_ms for f in program.faults)
    for f in program.faults:
        assert validate_params(f.kind, f.params) == f.params
        assert 0 <= f.at_ms < program.safety_ms
        if f.until_ms is not None:
            assert f.at_ms < f.until_ms <= program.safety_ms


@FAST
@given(
    st.lists(st.sampled_from(FAULT_KINDS), min_size=1, max_size=3, unique=True).flatmap(
        lambda kinds: st.tuples(
            st.just(kinds), fs.fault_schedules(("SOONUSDT",), safety_ms=60_000, kinds=kinds)
        )
    )
)
def test_fault_schedules_draw_only_the_kinds_asked_for(drawn):
    kinds, schedule = drawn
    assert {f.kind for f in schedule} <= set(kinds)


def test_jumps_gaps_and_scripted_points_shape_the_path():
    base = PricePath("SOONUSDT", Decimal("2.0000"), Decimal("0.0001"))
    flat = base.points(0, 10_000)
    assert {p.mark for p in flat} == {Decimal("2.0000")}
    jumped = dataclasses.replace(base, jumps=(Jump(3000, 100),)).points(0, 10_000)
    assert [p.mark for p in jumped][2:4] == [Decimal("2.0000"), Decimal("2.0200")]
    between = dataclasses.replace(base, jumps=(Jump(3400, -100),)).points(0, 10_000)
    assert [(p.t_ms, p.mark) for p in between][3:5] == [
        (3000, Decimal("2.0000")),
        (3400, Decimal("1.9800")),
    ]
    gapped = dataclasses.replace(base, gaps=(Gap(3000, 4000, -100),)).points(0, 10_000)
    assert [p.t_ms for p in gapped] == [0, 1000, 2000, 7000, 8000, 9000, 10000]
    assert gapped[3].mark == Decimal("1.9800")  # the feed resumes elsewhere
    scripted = dataclasses.replace(base, scripted=((5000, -250),)).points(0, 10_000)
    assert scripted[5].mark == Decimal("1.9500")


@settings(max_examples=1, database=None)
@given(st.data())
def test_an_unknown_fault_kind_is_refused_by_name(data):
    schedules = fs.fault_schedules(("SOONUSDT",), safety_ms=60_000, kinds=("rest_nap",))
    with pytest.raises(ValueError, match="unknown fault kind 'rest_nap'; known: rest_latency"):
        data.draw(schedules)
