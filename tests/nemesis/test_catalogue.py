"""The catalogue as data: every kind has a class and a params spec, params are completed
with defaults, and a wrong schedule fails before the run with an error that says what
was expected and how to fix it. And the schedule itself: when starts and heals happen."""

from __future__ import annotations

import pytest

from sim.botrun import BotProcess
from sim.nemesis import (
    FAULTS,
    FaultParamError,
    Nemesis,
    check_fault_times,
    is_instantaneous,
    params_of,
    validate_params,
)
from sim.scenario.model import FAULT_KINDS
from tests.nemesis.harness import Run, fault, run_faults

REQUIRED = {
    "rest_latency": {"ms": 100},
    "rest_position_omitted": {"symbol": "SOONUSDT"},
    "user_stream_delayed": {"delay_ms": 100},
    "algo_stuck_triggering": {"symbol": "SOONUSDT"},
    "repository_write_lag": {"delay_ms": 100},
}


def test_every_kind_of_the_scenario_model_has_one_class_and_a_params_spec():
    assert sorted(FAULTS) == sorted(FAULT_KINDS)
    for kind in FAULT_KINDS:
        assert FAULTS[kind].kind == kind
        params = validate_params(kind, REQUIRED.get(kind, {}))
        assert set(params) <= set(params_of(kind))
    assert [k for k in FAULT_KINDS if is_instantaneous(k)] == [
        "stream_disconnected",
        "listen_key_expired",
        "bot_crashed",
    ]


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        (
            "rest_unknown_outcome",
            {},
            {"route": "POST /fapi/v1/algoOrder", "status": 503, "count": 1},
        ),
        ("rest_error_burst", {"status": 418}, {"route": "", "status": 418}),
        (
            "user_stream_held",
            {"events": ["ACCOUNT_UPDATE", "ALGO_UPDATE"]},  # normalised to one order
            {"events": ("ALGO_UPDATE", "ACCOUNT_UPDATE"), "order": "by_type"},
        ),
        (
            "user_stream_dropped",
            {"events": "ACCOUNT_UPDATE"},
            {"events": ("ACCOUNT_UPDATE",), "count": 0},
        ),
        ("order_forced_2021", None, {"route": "POST /fapi/v1/algoOrder", "count": 0}),
        ("bot_crashed", {}, {"restart_after_ms": 1000}),
        ("stream_disconnected", {}, {"streams": "user"}),
        ("listen_key_expired", {}, {}),
        (
            "rest_latency",
            {"distribution": "lognormal", "median_ms": 40, "sigma": 0.5},
            {
                "route": "",
                "distribution": "lognormal",
                "median_ms": 40,
                "sigma": 0.5,
                "spike_probability": 0,
            },
        ),
    ],
)
def test_params_are_completed_with_defaults(kind, given, expected):
    assert validate_params(kind, given) == expected


@pytest.mark.parametrize(
    ("kind", "params", "fragments"),
    [
        ("rest_error_burst", {"statuss": 429}, ["param 'statuss'", "unknown param", "'status'"]),
        ("user_stream_delayed", {"delay_ms": "2s"}, ["integer number of milliseconds", "'2s'"]),
        ("user_stream_delayed", {"delay_ms": True}, ["integer number of milliseconds"]),
        ("user_stream_delayed", {"delay_ms": -5}, ["delay_ms", ">= 0"]),
        ("user_stream_delayed", {}, ["param 'delay_ms'", "missing required", "add delay_ms"]),
        ("rest_position_omitted", {}, ["param 'symbol'", "missing required", "SOONUSDT"]),
        ("rest_position_omitted", {"symbol": "SOON/USDT:USDT"}, ["Binance symbol id"]),
        ("rest_error_burst", {"status": 404}, ["one of 429 | 418 | 500 | 502 | 503", "404"]),
        ("rest_unknown_outcome", {"count": 1.5}, ["integer >= 0"]),
        (
            "order_forced_2021",
            {"route": "POST /fapi/v1/orders"},
            ["did you mean 'POST /fapi/v1/order'"],
        ),
        ("order_forced_2021", {"route": "post /fapi/v1/order"}, ["METHOD /path", "capitals"]),
        ("user_stream_dropped", {"events": ["ACCOUNT_UPDATES"]}, ["unknown event type"]),
        ("user_stream_dropped", {"events": []}, ["non-empty list"]),
        ("user_stream_held", {"order": "random"}, ["'by_type' | 'reversed'"]),
        ("rest_latency", {}, ["param 'ms'", "distribution 'fixed' needs ms"]),
        (
            "rest_latency",
            {"distribution": "uniform", "lo_ms": 5},
            ["param 'hi_ms'", "needs lo_ms and hi_ms"],
        ),
        ("rest_latency", {"distribution": "uniform", "lo_ms": 5, "hi_ms": 1}, ["below lo_ms"]),
        (
            "rest_latency",
            {"ms": 5, "median_ms": 3},
            ["param 'median_ms'", "for distribution 'lognormal'"],
        ),
        ("rest_latency", {"ms": 5, "spike_probability": 0.1}, ["spike_lo_ms"]),
        ("rest_latency", {"ms": 5, "spike_probability": 2}, ["in [0, 1]"]),
        ("rest_latency", {"ms": 5, "spike_lo_ms": 100}, ["unused while spike_probability is 0"]),
        ("rest_latency", {"distribution": "lognormal", "median_ms": 0, "sigma": 1}, ["> 0"]),
        ("bot_crashed", ["restart_after_ms"], ["params must be a table"]),
    ],
)
def test_bad_params_fail_with_the_param_what_was_expected_and_the_fix(kind, params, fragments):
    with pytest.raises(FaultParamError) as caught:
        validate_params(kind, params)
    message = str(caught.value)
    assert message.startswith(f"fault {kind!r}")
    for fragment in fragments:
        assert fragment in message
    assert "Fix: " in message


def test_an_unknown_kind_lists_the_catalogue():
    with pytest.raises(FaultParamError, match=r"unknown fault kind.*rest_latency, rest_response"):
        validate_params("rest_latencyy", {})


@pytest.mark.parametrize(
    ("the_fault", "fragment"),
    [
        (fault("bot_crashed", 10, 20), "instantaneous. Fix: remove until"),
        (fault("rest_error_burst", 5000, 5000), "not after it starts at +5000 ms"),
        (fault("rest_error_burst", 70_000), "heal at +60000 ms (the heal phase)"),
        (fault("rest_error_burst", 0, 90_000), "after the heal phase"),
        (fault("rest_error_burst", -1, 10), "offset >= 0"),
    ],
)
def test_bad_times_are_refused(the_fault, fragment):
    with pytest.raises(FaultParamError, match=r"param 'at'|param 'until'") as caught:
        check_fault_times(the_fault, heal_at_ms=60_000)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("faults", "fragment"),
    [
        ([fault("bot_crashed", 10)], "needs the bot's process"),
        ([fault("repository_write_lag", 10, delay_ms=5)], "needs the bot's process"),
        ([fault("algo_stuck_triggering", 10, symbol="ETHUSDT")], "does not list 'ETHUSDT'"),
        ([fault("rest_position_omitted", 10, symbol="ETHUSDT")], "BTCUSDT, SOONUSDT"),
        (
            [fault("listen_key_expired", 10), fault("stream_disconnected", 20)],
            "fault id 0 is used twice",
        ),
    ],
)
def test_a_schedule_the_world_cannot_run_fails_when_the_nemesis_is_built(faults, fragment):
    async def body(run: Run):
        return None

    with pytest.raises(FaultParamError) as caught:
        run_faults(body, faults)
    assert fragment in str(caught.value)


def test_process_faults_act_on_the_process_and_overlapping_lags_take_the_largest():
    process = BotProcess()  # no bot runs: the crash finds no life to end; lags are set

    async def body(run: Run):
        seen = []
        for at_ms in (150, 250, 350, 600):
            await run.until(at_ms)
            seen.append(process.write_lag_ms)
        return seen

    faults = [
        fault("repository_write_lag", 100, 500, delay_ms=7, index=0),
        fault("repository_write_lag", 200, 300, delay_ms=9, index=1),
        fault("bot_crashed", 200, index=2),
    ]
    out = run_faults(body, faults, process=process)
    assert out.value == [7, 9, 7, 0]
    assert [m[3] for m in out.fault_marks()] == [100, 200, 200, 200, 300, 500]


def test_starts_and_heals_happen_at_their_instants_heals_first_then_ids():
    faults = [
        fault("rest_error_burst", 1000, index=0),  # heals at the heal phase
        fault("rest_response_dropped", 3000, 4000, index=2),
        fault("listen_key_expired", 3000, index=1),
        fault("order_forced_2021", 0, 3000, index=3),
    ]

    async def body(run: Run):
        await run.until(3500)
        during = sorted(run.nemesis.active)
        await run.until(5000)
        return during, sorted(run.nemesis.active)

    out = run_faults(body, faults, heal_at_ms=4000)
    assert out.fault_marks() == [
        ("fault.start", 3, "order_forced_2021", 0),  # due at arming: in effect at once
        ("fault.start", 0, "rest_error_burst", 1000),
        ("fault.stop", 3, "order_forced_2021", 3000),  # heals before starts at an instant
        ("fault.start", 1, "listen_key_expired", 3000),
        ("fault.stop", 1, "listen_key_expired", 3000),
        ("fault.start", 2, "rest_response_dropped", 3000),
        ("fault.stop", 0, "rest_error_burst", 4000),  # the heal phase
        ("fault.stop", 2, "rest_response_dropped", 4000),
    ]
    assert out.value == ([0, 2], [])  # all healed
    assert out.venue.interceptors == [] and out.session.rest.down.rule_count == 0
    start = out.records("fault.start")[1]
    assert start["params"] == {"route": "", "status": 429}


def test_a_nemesis_is_armed_once():
    async def body(run: Run):
        with pytest.raises(RuntimeError, match="armed once"):
            run.nemesis.arm()

    run_faults(body, [fault("listen_key_expired", 10)])


def test_arming_after_a_fault_was_due_is_refused():
    from sim.runtime import Simulation
    from sim.transport.session import SimSession
    from sim.venue import FakeBinance, VenueConfig
    from tests.nemesis.harness import T0_MS, T0_US

    sim = Simulation(seed=1, start_us=T0_US + 5_000_000, horizon_s=10)
    venue = FakeBinance(sim, VenueConfig(symbols=("SOONUSDT",)))
    nemesis = Nemesis(
        sim, venue, SimSession(sim, venue), None, [fault("listen_key_expired", 1000)], T0_MS, 60_000
    )
    with pytest.raises(ValueError, match="before now"):
        nemesis.arm()
