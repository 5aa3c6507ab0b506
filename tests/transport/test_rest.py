"""REST through real ccxt over simulated links: timing, timeouts with unknown outcome, hosts."""

from __future__ import annotations

import asyncio

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from sim.runtime import BotTaskCrashed, SimDeadlock
from sim.transport import ByEndpoint, Drop, Fixed, UnsimulatedHost, for_kinds
from tests.transport.helpers import (
    SYMBOL,
    T0_MS,
    T0_US,
    TIMEOUT_MS,
    ccxt_config,
    now_ms,
    records,
    world,
)


def test_fetch_time_takes_the_up_leg_then_the_down_leg():
    w = world(rest_latency=Fixed(250))

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        try:
            started = now_ms()
            server_ms = await ex.fetch_time()
            return started, now_ms(), server_ms
        finally:
            await ex.close()

    started, returned, server_ms = w.sim.run(main()).value
    assert (started, returned) == (0, 500)
    [(arrival_us, request)] = w.venue.requests
    assert arrival_us == T0_US + 250_000
    assert (request.method, request.path, request.raw_query, request.body) == (
        "GET",
        "/fapi/v1/time",
        "",
        b"",
    )
    assert server_ms == T0_MS + 250  # the venue answered at arrival
    assert [r["t"] for r in records(w.sim, "link.deliver")] == [250, 500]


def test_lost_response_times_out_exactly_at_ccxt_timeout_while_the_request_took_effect():
    w = world(rest_latency=Fixed(250))
    w.session.rest.down.add_rule(for_kinds(Drop(), "GET /fapi/v1/time"))

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        try:
            await ex.fetch_time()
        except ccxt.RequestTimeout as exc:
            return now_ms(), str(exc)
        finally:
            await ex.close()

    raised_ms, message = w.sim.run(main()).value
    assert raised_ms == TIMEOUT_MS
    assert "GET https://fapi.binance.com/fapi/v1/time" in message
    assert [(t - T0_US, r.path) for t, r in w.venue.requests] == [(250_000, "/fapi/v1/time")]
    assert [r["t"] for r in records(w.sim, "link.drop", link="rest:down")] == [250]
    assert [r["t"] for r in records(w.sim, "rest.timeout", ref=1)] == [TIMEOUT_MS]


def test_a_late_response_is_dropped_and_traced_and_the_next_call_is_unaffected():
    w = world(rest_latency=ByEndpoint(Fixed(10), {("GET", "/fapi/v1/exchangeInfo"): Fixed(1500)}))

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        try:
            with pytest.raises(ccxt.RequestTimeout):
                await ex.load_markets()
            timed_out = now_ms()
            server_ms = await ex.fetch_time()
            await asyncio.sleep(5)
            return timed_out, server_ms
        finally:
            await ex.close()

    timed_out, server_ms = w.sim.run(main()).value
    assert timed_out == TIMEOUT_MS
    assert server_ms == T0_MS + TIMEOUT_MS + 10
    [late] = records(w.sim, "rest.late")
    assert (late["t"], late["ref"], late["msg"], late["status"]) == (
        3000,
        1,
        "GET /fapi/v1/exchangeInfo",
        200,
    )


def test_load_markets_parses_the_stub_exchange_info():
    w = world(rest_latency=Fixed(20))

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        try:
            markets = await ex.load_markets()
            return now_ms(), {
                s: (m["swap"], m["settle"], m["limits"]["cost"]["min"]) for s, m in markets.items()
            }
        finally:
            await ex.close()

    done_ms, markets = w.sim.run(main()).value
    assert done_ms == 40
    assert markets == {SYMBOL: (True, "USDT", 5.0)}
    assert [r.path for _, r in w.venue.requests] == ["/fapi/v1/exchangeInfo"]


def test_venue_sees_raw_query_and_headers_as_ccxt_sent_them():
    w = world()

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session, apiKey="k" * 64, secret="s" * 64))
        try:
            await ex.fapiPublicGetTime({"odd": "a,b c"})
            await ex.fapiPrivatePostListenKey()
        finally:
            await ex.close()

    w.sim.run(main())
    (_, get), (_, post) = w.venue.requests
    assert get.raw_query == "odd=a%2Cb%20c"
    assert get.url == "https://fapi.binance.com/fapi/v1/time?odd=a%2Cb%20c"
    assert (post.method, post.path, post.headers["X-MBX-APIKEY"]) == (
        "POST",
        "/fapi/v1/listenKey",
        "k" * 64,
    )
    assert [get.request_id, post.request_id] == [1, 2]


def test_unsimulated_rest_host_raises_a_clear_error():
    w = world(strict_hosts=False)

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        ex.urls["api"]["fapiPublic"] = "https://testnet.binancefuture.com/fapi/v1"
        try:
            with pytest.raises(UnsimulatedHost) as caught:
                await ex.fetch_time()
            return str(caught.value)
        finally:
            await ex.close()

    message = w.sim.run(main()).value
    assert "https://testnet.binancefuture.com/fapi/v1/time" in message
    assert "https://fapi.binance.com" in message
    assert w.venue.requests == []


def test_unsimulated_host_fails_the_run_even_if_the_bot_swallows_the_error():
    w = world()

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        ex.urls["api"]["fapiPublic"] = "https://example.com/fapi/v1"
        try:
            await ex.fetch_time()
        except Exception:
            pass  # a careless bot
        finally:
            await ex.close()

    with pytest.raises(BotTaskCrashed) as caught:
        w.sim.run(main())
    assert isinstance(caught.value.__cause__, UnsimulatedHost)
    assert "https://example.com/fapi/v1/time" in str(caught.value)


def test_a_bot_that_gives_up_first_leaves_the_request_in_flight():
    w = world(rest_latency=Fixed(250))

    async def main():
        ex = ccxt_async.binanceusdm(ccxt_config(w.session))
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ex.fetch_time(), 0.3)
            await asyncio.sleep(1)
        finally:
            await ex.close()

    w.sim.run(main())
    assert [t - T0_US for t, _ in w.venue.requests] == [250_000]
    assert [(r["t"], r["ref"]) for r in records(w.sim, "rest.abandoned")] == [(300, 1)]
    assert [(r["t"], r["ref"]) for r in records(w.sim, "rest.late")] == [(500, 1)]


def test_a_request_nobody_answers_is_named_in_the_deadlock_report():
    w = world(venue_options={"tape_every_s": None})
    w.session.rest.down.add_rule(for_kinds(Drop(), "GET /fapi/v1/time"))

    async def main():
        async with w.session.get("https://fapi.binance.com/fapi/v1/time") as response:
            return response.status

    with pytest.raises(SimDeadlock) as caught:
        w.sim.run(main())
    assert "REST GET /fapi/v1/time (awaiting response)" in str(caught.value)
