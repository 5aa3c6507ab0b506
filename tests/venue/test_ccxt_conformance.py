"""Unmodified ccxt 4.5.90 against FakeBinance on the virtual clock: unified results.

Each test is one ccxt call (or a short sequence) as a bot makes it, asserting what ccxt
returns, not what the fake sent: this is the contract the bot relies on.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import pytest

from tests.venue.harness import BTC, SOON, T0_MS, elapsed_ms, run_ccxt


async def _long(ex, qty=4, cid="entry-1"):
    return await ex.create_order(SOON, "market", "buy", qty, None, {"clientOrderId": cid})


def test_load_markets_has_binances_filters():
    async def body(ex, venue, sim):
        return await ex.load_markets()

    markets, *_ = run_ccxt(body)
    soon, btc = markets[SOON], markets[BTC]
    assert (soon["type"], soon["settle"], soon["linear"], soon["active"]) == (
        "swap",
        "USDT",
        True,
        True,
    )
    assert soon["precision"]["price"] == 0.0001 and soon["precision"]["amount"] == 1
    assert soon["limits"]["cost"]["min"] == 5
    assert btc["precision"]["price"] == 0.1 and btc["precision"]["amount"] == 0.001


def test_fetch_time_balance_and_leverage():
    async def body(ex, venue, sim):
        server_ms = await ex.fetch_time()
        balance = await ex.fetch_balance()
        leverage = await ex.set_leverage(10, SOON)
        return server_ms, balance["USDT"], leverage

    (server_ms, usdt, leverage), *_ = run_ccxt(body, rest_ms=100)
    assert server_ms == T0_MS + 100  # stamped when the request arrived
    assert usdt == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    assert leverage["leverage"] == 10 and leverage["symbol"] == "SOONUSDT"


@pytest.mark.parametrize(("side", "expected_side"), [("buy", "long"), ("sell", "short")])
def test_market_order_and_positions_long_and_short(side, expected_side):
    async def body(ex, venue, sim):
        order = await ex.create_order(SOON, "market", side, 4, None, {"clientOrderId": "e1"})
        positions = await ex.fetch_positions([SOON])
        return order, positions

    (order, positions), *_ = run_ccxt(body)
    assert (order["status"], order["filled"], order["average"], order["clientOrderId"]) == (
        "closed",
        4.0,
        2.0333,
        "e1",
    )
    assert len(positions) == 1
    pos = positions[0]
    assert (pos["symbol"], pos["contracts"], pos["side"], pos["entryPrice"]) == (
        SOON,
        4.0,
        expected_side,
        2.0333,
    )


def test_create_order_completes_after_the_round_trip_and_takes_effect_on_arrival():
    async def body(ex, venue, sim):
        await ex.load_markets()
        stream = asyncio.create_task(ex.watch_orders(SOON))  # the user data stream
        await asyncio.sleep(5)
        started = elapsed_ms(sim)
        order = await _long(ex)
        finished = elapsed_ms(sim)
        pushed = await stream
        return started, finished, order, await ex.fetch_positions([SOON]), pushed

    (started, finished, order, positions, pushed), *_ = run_ccxt(body, rest_ms=250, ws_ms=30)
    arrival_ms = T0_MS + started + 250
    assert finished - started == 500
    assert order["timestamp"] == arrival_ms  # the fill's time is the arrival
    assert positions[0]["info"]["updateTime"] == arrival_ms
    assert pushed[0]["info"]["T"] == arrival_ms  # ORDER_TRADE_UPDATE, stamped on arrival


@pytest.mark.parametrize(
    ("params", "amount"),
    [
        ({"stopPrice": 1.9113, "closePosition": True}, None),
        ({"triggerPrice": 1.9113, "closePosition": True}, None),
        ({"stopLossPrice": 1.9113, "reduceOnly": True}, 4),
    ],
    ids=["stopPrice", "triggerPrice", "stopLossPrice"],
)
def test_stop_market_goes_to_the_algo_service(params, amount):
    async def body(ex, venue, sim):
        await _long(ex)
        order_type = "market" if "stopLossPrice" in params else "STOP_MARKET"
        stop = await ex.create_order(
            SOON, order_type, "sell", amount, None, {**params, "clientOrderId": "sl-1"}
        )
        regular = await ex.fetch_open_orders(SOON)
        triggers = await ex.fetch_open_orders(SOON, params={"trigger": True})
        return stop, regular, triggers

    (stop, regular, triggers), _, venue, _ = run_ccxt(body)
    assert stop["id"] == "4000001" and stop["clientOrderId"] == "sl-1"
    assert (stop["type"], stop["status"], stop["triggerPrice"]) == ("market", "open", 1.9113)
    assert stop["info"]["orderType"] == "STOP_MARKET"
    assert regular == []  # stops are invisible without {'trigger': True}
    assert [o["id"] for o in triggers] == ["4000001"]
    assert venue.exchange.open_algo_orders()[0].client_algo_id == "sl-1"


def test_trailing_stop_market():
    async def body(ex, venue, sim):
        await _long(ex, 100)
        return await ex.create_order(
            SOON,
            "market",
            "sell",
            100,
            None,
            {
                "trailingPercent": 1,
                "trailingTriggerPrice": 2.0638,
                "reduceOnly": True,
                "clientOrderId": "ts-1",
            },
        )

    order, _, venue, _ = run_ccxt(body)
    assert order["info"]["orderType"] == "TRAILING_STOP_MARKET"
    assert order["info"]["callbackRate"] == "1" and order["info"]["activatePrice"] == "2.0638"
    algo = venue.exchange.open_algo_orders()[0]
    assert (algo.callback_rate, str(algo.activate_price)) == (1, "2.0638")


def test_cancel_regular_and_algo_orders_and_fetch_them_back():
    async def body(ex, venue, sim):
        await _long(ex)
        limit = await ex.create_order(SOON, "limit", "buy", 10, 1.9, {"clientOrderId": "l-1"})
        stop = await ex.create_order(
            SOON, "STOP_MARKET", "sell", None, None, {"stopPrice": 1.9113, "closePosition": True}
        )
        cancelled_limit = await ex.cancel_order(limit["id"], SOON)
        cancelled_stop = await ex.cancel_order(stop["id"], SOON, {"trigger": True})
        fetched = await ex.fetch_order(stop["id"], SOON, {"trigger": True})
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order(stop["id"], SOON)  # without trigger: the order endpoint
        return (
            cancelled_limit,
            cancelled_stop,
            fetched,
            await ex.fetch_open_orders(SOON, params={"trigger": True}),
        )

    (limit, stop, fetched, still_open), *_ = run_ccxt(body)
    assert limit["status"] == "canceled"
    assert stop["id"] == "4000001"
    assert fetched["status"] == "canceled" and still_open == []


def test_fetch_mark_price():
    async def body(ex, venue, sim):
        return await ex.fetch_mark_price(SOON)

    ticker, *_ = run_ccxt(body)
    assert ticker["markPrice"] == 2.0333 and ticker["symbol"] == SOON


def test_watch_mark_price_streams_every_second():
    async def body(ex, venue, sim):
        seen = []
        for _ in range(3):
            ticker = await ex.watch_mark_price(SOON)
            seen.append((ticker["markPrice"], ticker["timestamp"], elapsed_ms(sim)))
            venue.set_price("SOONUSDT", venue.exchange.mark("SOONUSDT") + Decimal("0.0010"))
        return seen

    seen, *_ = run_ccxt(body, ws_ms=40)
    assert [s[0] for s in seen] == [2.0333, 2.0343, 2.0353]
    assert [s[1] - T0_MS for s in seen] == [1000, 2000, 3000]  # E: the whole second
    assert [s[2] for s in seen] == [1040, 2040, 3040]  # + the link latency


def test_watch_orders_sees_algo_updates_and_the_child_fill():
    async def collect(ex):
        seen = []
        while not any(state == "FINISHED" for _, _, state in seen):
            batch = await ex.watch_orders(SOON)
            seen += [(o["id"], o["status"], o["info"].get("X")) for o in batch]
        return seen

    async def body(ex, venue, sim):
        await _long(ex)
        watcher = asyncio.create_task(collect(ex))
        await asyncio.sleep(2)  # the user data stream is open
        await ex.create_order(
            SOON,
            "STOP_MARKET",
            "sell",
            None,
            None,
            {"stopPrice": 1.9113, "closePosition": True, "clientOrderId": "sl-1"},
        )
        await asyncio.sleep(1)
        venue.set_price("SOONUSDT", Decimal("1.9000"))
        return await watcher

    seen, *_ = run_ccxt(body, ws_ms=20)
    algo = [(status, state) for order_id, status, state in seen if order_id == "4000001"]
    assert algo == [
        ("open", "NEW"),
        ("open", "TRIGGERING"),
        ("closed", "TRIGGERED"),
        ("closed", "FINISHED"),
    ]
    child = [(status, state) for order_id, status, state in seen if order_id != "4000001"]
    assert child == [("open", "NEW"), ("closed", "FILLED")]


def test_watch_positions_snapshot_then_stream():
    async def body(ex, venue, sim):
        await _long(ex)
        snapshot = await ex.watch_positions([SOON])  # first call: the REST snapshot
        pending = asyncio.create_task(ex.watch_positions([SOON]))  # opens the socket
        await asyncio.sleep(2)
        await ex.create_order(SOON, "market", "sell", 4, None, {"clientOrderId": "x-1"})
        return snapshot, await pending

    (snapshot, update), *_ = run_ccxt(body, ws_ms=20)
    assert snapshot[0]["contracts"] == 4.0 and snapshot[0]["side"] == "long"
    assert update[-1]["contracts"] == 0.0


def test_fetch_balance_with_an_open_position_counts_unrealized_pnl():
    async def body(ex, venue, sim):
        await _long(ex)
        venue.set_price("SOONUSDT", Decimal("2.0833"))  # +0.05 on 4 contracts
        return await ex.fetch_balance()

    balance, *_ = run_ccxt(body)
    # REST total is the margin balance, unrealized PnL included (binance-usdm.md §6.5)
    assert balance["USDT"]["total"] == pytest.approx(10000 - 4 * 2.0333 * 0.0005 + 0.2)
