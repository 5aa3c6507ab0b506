"""REST faults through unmodified ccxt against FakeBinance: each takes effect while active
(what ccxt raises or returns, what the venue did), is gone after its heal, and is recorded
at its instants."""

from __future__ import annotations

import ccxt
import pytest

from tests.nemesis.harness import BTC, SOON, Run, fault, run_faults

STOP = {"stopPrice": 1.9, "reduceOnly": True}


async def go_long(run: Run, qty: int = 9, cid: str = "entry") -> None:
    await run.ex.create_order(SOON, "market", "buy", qty, None, {"clientOrderId": cid})


async def place_stop(run: Run, cid: str):
    return await run.ex.create_order(
        SOON, "STOP_MARKET", "sell", 3, None, {**STOP, "clientOrderId": cid}
    )


def algo_ids(run_or_venue) -> list[str]:
    venue = getattr(run_or_venue, "venue", run_or_venue)
    return [a.client_algo_id for a in venue.exchange.open_algo_orders()]


def position(venue, symbol: str = "SOONUSDT") -> str:
    return str(venue.exchange.account.position(symbol).amount)


def test_rest_latency_fixed_slows_one_route_both_ways_until_the_heal():
    faults = [fault("rest_latency", 1000, 5000, route="GET /fapi/v1/time", ms=400)]

    async def body(run: Run):
        _, before = await run.timed(run.ex.fetch_time())
        await run.until(1000)
        _, during = await run.timed(run.ex.fetch_time())
        _, other_route = await run.timed(run.ex.fapiPublicGetPing())
        await run.until(5000)
        _, after = await run.timed(run.ex.fetch_time())
        return before, during, other_route, after

    out = run_faults(body, faults, rest_ms=50)
    assert out.value == (100, 100 + 2 * 400, 100, 100)  # +400 ms up, +400 ms down
    assert out.fault_marks() == [
        ("fault.start", 0, "rest_latency", 1000),
        ("fault.stop", 0, "rest_latency", 5000),
    ]
    start = out.records("fault.start")[0]
    assert start["params"] == {
        "route": "GET /fapi/v1/time",
        "distribution": "fixed",
        "ms": 400,
        "spike_probability": 0,
    }


def _spiky_run(seed: int):
    faults = [
        fault(
            "rest_latency",
            0,
            60_000,
            index=3,
            distribution="uniform",
            lo_ms=100,
            hi_ms=200,
            spike_probability=0.3,
            spike_lo_ms=1000,
            spike_hi_ms=2000,
        )
    ]

    async def body(run: Run):
        return [(await run.timed(run.ex.fetch_time()))[1] for _ in range(20)]

    return run_faults(body, faults, seed=seed)


def test_rest_latency_uniform_with_spikes_draws_each_direction_from_the_faults_stream():
    out = _spiky_run(seed=7)
    extras_ms = [r["extra_us"] / 1000 for r in out.records("link.delay")]
    assert len(extras_ms) == 40  # 20 requests, each direction drawn on its own
    spikes = [x for x in extras_ms if x >= 1000]
    assert spikes and len(spikes) < 40
    assert all(100 <= x <= 200 or 1000 <= x <= 2000 for x in extras_ms)
    assert out.records("fault.start")[0]["params"]["spike_probability"] == "0.3"  # canonical
    again = _spiky_run(seed=7)
    assert again.value == out.value  # the same seed draws the same latencies
    assert again.sim.trace.sha256() == out.sim.trace.sha256()
    assert _spiky_run(seed=8).value != out.value


def test_rest_latency_lognormal_stays_positive_and_heals_at_the_heal_phase():
    faults = [fault("rest_latency", 0, distribution="lognormal", median_ms=300, sigma=0.5)]

    async def body(run: Run):
        during = [(await run.timed(run.ex.fetch_time()))[1] for _ in range(5)]
        await run.until(10_000)
        return during, (await run.timed(run.ex.fetch_time()))[1]

    out = run_faults(body, faults, heal_at_ms=8000)
    during, after = out.value
    assert all(d > 0 for d in during) and len(set(during)) == 5
    assert after == 0
    assert out.fault_marks()[-1] == ("fault.stop", 0, "rest_latency", 8000)


@pytest.mark.parametrize("count", [0, 1])
def test_rest_response_dropped_the_order_fills_but_ccxt_times_out(count):
    faults = [fault("rest_response_dropped", 0, 30_000, route="POST /fapi/v1/order", count=count)]

    async def body(run: Run):
        await run.ex.load_markets()
        first, first_ms = await run.timed(go_long(run, 3, "a"))
        filled_after_first = position(run.venue)
        second, _ = await run.timed(go_long(run, 3, "b"))
        await run.until(30_000)
        healed, _ = await run.timed(go_long(run, 3, "c"))
        return first, first_ms, filled_after_first, second, healed

    out = run_faults(body, faults, rest_ms=50)
    first, first_ms, filled_after_first, second, healed = out.value
    assert isinstance(first, ccxt.RequestTimeout)
    assert first_ms == 10_000  # ccxt's timeout: the answer never came
    assert filled_after_first == "3"  # ...but the order took effect
    if count == 1:
        assert second is None  # only the first answer was lost
    else:
        assert isinstance(second, ccxt.RequestTimeout)
    assert healed is None
    assert position(out.venue) == "9"
    drops = out.records("link.drop")
    assert [(d["link"], d["msg"]) for d in drops] == [("rest:down", "POST /fapi/v1/order")] * (
        1 if count == 1 else 2
    )
    assert out.fault_marks() == [
        ("fault.start", 0, "rest_response_dropped", 0),
        ("fault.stop", 0, "rest_response_dropped", 30_000),
    ]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, ccxt.DDoSProtection),
        (418, ccxt.DDoSProtection),
        (500, ccxt.ExchangeNotAvailable),
        (502, ccxt.ExchangeNotAvailable),
        (503, ccxt.ExchangeNotAvailable),
    ],
)
def test_rest_error_burst_answers_instead_of_the_venue_with_no_effect(status, error):
    faults = [fault("rest_error_burst", 1000, 5000, route="POST /fapi/v1/order", status=status)]

    async def body(run: Run):
        await run.ex.load_markets()
        await run.until(1000)
        refused, _ = await run.timed(go_long(run, 3, "a"))
        still_flat = position(run.venue)
        positions, _ = await run.timed(run.ex.fetch_positions([SOON]))  # other routes work
        await run.until(5000)
        healed, _ = await run.timed(go_long(run, 3, "b"))
        return refused, still_flat, positions, healed

    out = run_faults(body, faults, rest_ms=50)
    refused, still_flat, positions, healed = out.value
    assert isinstance(refused, error)
    assert still_flat == "0" and positions == []
    assert healed is None and position(out.venue) == "3"
    [answered] = [r for r in out.records("venue.rest") if r["fault"] == "rest_error_burst"]
    assert (answered["status"], answered["effect"]) == (status, False)
    if status in (418, 429):
        assert answered["code"] == -1003
    if status == 418:
        assert "IP banned until 1762790556000" in str(refused)  # T0 + 5 s, the heal
    assert out.fault_marks() == [
        ("fault.start", 0, "rest_error_burst", 1000),
        ("fault.stop", 0, "rest_error_burst", 5000),
    ]


@pytest.mark.parametrize(
    ("status", "error"), [(503, ccxt.ExchangeNotAvailable), (504, ccxt.RequestTimeout)]
)
def test_rest_unknown_outcome_the_stop_exists_though_the_client_got_a_5xx(status, error):
    faults = [fault("rest_unknown_outcome", 1000, 5000, status=status)]  # count=1

    async def body(run: Run):
        await go_long(run)
        await run.until(1000)
        unknown, _ = await run.timed(place_stop(run, "sl-1"))
        exists = algo_ids(run)
        second, _ = await run.timed(place_stop(run, "sl-2"))  # the count is used up
        await run.until(5000)
        healed, _ = await run.timed(place_stop(run, "sl-3"))
        return unknown, exists, second, healed

    out = run_faults(body, faults, rest_ms=50)
    unknown, exists, second, healed = out.value
    assert isinstance(unknown, error)
    if status == 503:
        assert "Unknown error, please check your request or try again later." in str(unknown)
    assert exists == ["sl-1"]  # it took effect
    assert second["clientOrderId"] == "sl-2" and healed["clientOrderId"] == "sl-3"
    assert algo_ids(out.venue) == ["sl-1", "sl-2", "sl-3"]
    rewritten = [r for r in out.records("venue.rest") if r["fault"] == "rewritten"]
    assert [(r["route"], r["status"], r["effect"]) for r in rewritten] == [
        ("POST /fapi/v1/algoOrder", status, True)
    ]
    assert [m[3] for m in out.fault_marks()] == [1000, 5000]


def symbols_of(positions) -> list[str]:
    return sorted(p["symbol"] for p in positions)


@pytest.mark.parametrize("calls", [0, 2])
def test_rest_position_omitted_leaves_the_symbol_out_of_position_risk(calls):
    faults = [fault("rest_position_omitted", 1000, 5000, symbol="SOONUSDT", calls=calls)]

    async def body(run: Run):
        await go_long(run)
        await run.ex.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "btc"})
        await run.until(1000)
        v3 = symbols_of(await run.ex.fetch_positions())  # GET /fapi/v3/positionRisk
        v2 = symbols_of(await run.ex.fapiPrivateV2GetPositionRisk())  # every symbol's row
        third = symbols_of(await run.ex.fetch_positions())
        await run.until(5000)
        return (v3, v2, third), symbols_of(await run.ex.fetch_positions())

    out = run_faults(body, faults, rest_ms=50)
    (v3, v2, third), after = out.value
    assert v3 == [BTC] and v2 == ["BTCUSDT"]
    assert third == ([BTC] if calls == 0 else [BTC, SOON])  # calls=2: only two answers
    assert after == [BTC, SOON]
    assert position(out.venue) == "9"  # the position was there all along
    rewritten = [r["route"] for r in out.records("venue.rest") if r["fault"] == "rewritten"]
    assert rewritten[:2] == ["GET /fapi/v3/positionRisk", "GET /fapi/v2/positionRisk"]
    assert len(rewritten) == (3 if calls == 0 else 2)
    assert [m[3] for m in out.fault_marks()] == [1000, 5000]


def test_rest_position_omitted_leaves_the_symbol_out_of_account_positions():
    faults = [fault("rest_position_omitted", 1000, 5000, symbol="SOONUSDT")]

    async def body(run: Run):
        await go_long(run)
        await run.ex.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "btc"})
        await run.until(1000)
        during = symbols_of((await run.ex.fapiPrivateV3GetAccount())["positions"])
        await run.until(5000)
        return during, symbols_of((await run.ex.fapiPrivateV3GetAccount())["positions"])

    out = run_faults(body, faults, rest_ms=50)
    assert out.value == (["BTCUSDT"], ["BTCUSDT", "SOONUSDT"])


@pytest.mark.parametrize("count", [0, 1])
def test_order_forced_2021_refuses_new_stops_without_effect(count):
    faults = [fault("order_forced_2021", 1000, 5000, count=count)]

    async def body(run: Run):
        await go_long(run)
        await run.until(1000)
        refused, _ = await run.timed(place_stop(run, "sl-1"))
        after_refusal = algo_ids(run)
        second, _ = await run.timed(place_stop(run, "sl-2"))
        await run.until(5000)
        healed, _ = await run.timed(place_stop(run, "sl-3"))
        return refused, after_refusal, second, healed

    out = run_faults(body, faults, rest_ms=50)
    refused, after_refusal, second, healed = out.value
    assert isinstance(refused, ccxt.OrderImmediatelyFillable)
    assert "Order would immediately trigger." in str(refused)
    assert after_refusal == []  # no effect
    if count == 1:
        assert second["clientOrderId"] == "sl-2"
    else:
        assert isinstance(second, ccxt.OrderImmediatelyFillable)
    assert healed["clientOrderId"] == "sl-3"
    refusals = [r for r in out.records("venue.rest") if r["fault"] == "order_forced_2021"]
    assert {(r["status"], r["code"], r["effect"]) for r in refusals} == {(400, -2021, False)}
    assert [m[3] for m in out.fault_marks()] == [1000, 5000]
