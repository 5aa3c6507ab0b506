"""The exchange model's rules, one behaviour per test: orders, errors, triggers, account."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from sim.exchange.errors import BinanceError
from sim.exchange.events import AccountUpdated, AlgoUpdated, OrderUpdated
from sim.exchange.model import AlgoRequest, OrderRequest
from tests.exchange.specs import D, make_exchange


def buy(ex, qty, symbol="SOONUSDT", t_ms=1, **kw):
    return ex.place_order(t_ms, OrderRequest(symbol, "BUY", "MARKET", quantity=D(qty), **kw))


def shape(events):
    out = []
    for e in events:
        if isinstance(e, OrderUpdated):
            out.append(("ORDER", e.execution, e.order.status))
        elif isinstance(e, AlgoUpdated):
            out.append(("ALGO", e.algo.status))
        else:
            out.append(("ACCOUNT",))
    return out


def code_of(call):
    with pytest.raises(BinanceError) as err:
        call()
    return err.value.code


def test_market_buy_fills_at_the_contract_price_books_position_fee_and_events():
    ex = make_exchange()
    order, events = buy(ex, "4", client_id="entry-1")
    assert (order.status, order.executed_qty, order.avg_price) == ("FILLED", D(4), D("2.0333"))
    assert shape(events) == [("ORDER", "NEW", "NEW"), ("ORDER", "TRADE", "FILLED"), ("ACCOUNT",)]
    fee = D("4") * D("2.0333") * D("0.0005")
    assert ex.account.wallet == D("10000") - fee.quantize(D("0.00000001"))
    pos = ex.account.position("SOONUSDT")
    assert (pos.amount, pos.entry_price) == (D(4), D("2.0333"))
    account_event = events[-1]
    assert isinstance(account_event, AccountUpdated)
    assert account_event.positions[0].amount == D(4)


def test_entry_price_averages_and_a_flip_reopens_at_the_fill_price():
    ex = make_exchange()
    buy(ex, "10")
    ex.update_price(2, "SOONUSDT", D("2.1333"))
    buy(ex, "10", t_ms=2)
    assert ex.account.position("SOONUSDT").entry_price == D("2.08330000")
    ex.update_price(3, "SOONUSDT", D("2.2000"))
    _, events = ex.place_order(3, OrderRequest("SOONUSDT", "SELL", "MARKET", quantity=D(30)))
    pos = ex.account.position("SOONUSDT")
    assert (pos.amount, pos.entry_price) == (D(-10), D("2.2000"))
    assert events[1].fill.realized_pnl == (D("2.2000") - D("2.0833")) * 20
    ex.update_price(4, "SOONUSDT", D("2.1000"))
    _, events = buy(ex, "10", t_ms=4)  # covering the short lower is a gain
    assert events[1].fill.realized_pnl == D("1.0")
    assert ex.account.position("SOONUSDT").amount == 0


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (OrderRequest("NOPEUSDT", "BUY", "MARKET", quantity=D(1)), -1121),
        (OrderRequest("SOONUSDT", "SELL", "STOP_MARKET", quantity=D(4)), -4120),
        (OrderRequest("SOONUSDT", "BUY", "MARKET", quantity=D("4.5")), -1111),
        (OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("0.0015")), -1111),
        (
            OrderRequest(
                "BTCUSDT",
                "BUY",
                "LIMIT",
                quantity=D("0.01"),
                price=D("96000.05"),
                time_in_force="GTC",
            ),
            -4014,
        ),
        (
            OrderRequest(
                "BTCUSDT",
                "BUY",
                "LIMIT",
                quantity=D("0.01"),
                price=D("96000.001"),
                time_in_force="GTC",
            ),
            -1111,
        ),
        (
            OrderRequest(
                "SOONUSDT", "BUY", "LIMIT", quantity=D(4), price=D("2.00005"), time_in_force="GTC"
            ),
            -1111,
        ),
        (OrderRequest("SOONUSDT", "BUY", "MARKET", quantity=D(2)), -4164),
        (OrderRequest("SOONUSDT", "BUY", "MARKET", quantity=D(0)), -4003),
        (OrderRequest("SOONUSDT", "BUY", "MARKET", quantity=D(4), client_id="bad id!"), -4015),
        (OrderRequest("SOONUSDT", "SELL", "MARKET", quantity=D(4), reduce_only=True), -2022),
        (OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D(5)), -2019),
        (OrderRequest("SOONUSDT", "BUY", "LIMIT", quantity=D(4), time_in_force="GTC"), -1102),
        (
            OrderRequest(
                "SOONUSDT", "BUY", "LIMIT", quantity=D(4), price=D("2.1"), time_in_force="GTX"
            ),
            -5022,
        ),
        (
            OrderRequest(
                "SOONUSDT", "BUY", "LIMIT", quantity=D(4), price=D("2.0"), time_in_force="FOK"
            ),
            -5021,
        ),
    ],
    ids=[
        "symbol",
        "conditional-type",
        "qty-precision",
        "qty-precision-btc",
        "price-off-tick",
        "price-precision",
        "price-precision-soon",
        "min-notional",
        "zero-qty",
        "client-id",
        "reduce-only",
        "margin",
        "missing-price",
        "post-only",
        "fok",
    ],
)
def test_bad_orders_are_refused_with_binance_codes_and_change_nothing(request_, code):
    ex = make_exchange()
    before = ex.truth()
    assert code_of(lambda: ex.place_order(1, request_)) == code
    assert ex.truth() == before


def test_quantity_off_the_step_grid_is_refused():
    ex = make_exchange()
    ex.specs["BTCUSDT"] = dataclasses.replace(ex.specs["BTCUSDT"], step_size=D("0.002"))
    request = OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("0.003"))
    with pytest.raises(BinanceError, match="Qty not increased by step size") as err:
        ex.place_order(1, request)
    assert err.value.code == -4023


def test_resting_limit_fills_at_its_price_when_crossed_and_ioc_expires():
    ex = make_exchange()
    order, events = ex.place_order(
        1,
        OrderRequest(
            "SOONUSDT", "BUY", "LIMIT", quantity=D(10), price=D("2.0000"), time_in_force="GTC"
        ),
    )
    assert order.status == "NEW" and shape(events) == [("ORDER", "NEW", "NEW")]
    assert ex.update_price(2, "SOONUSDT", D("2.0100")) == []
    events = ex.update_price(3, "SOONUSDT", D("1.9950"))
    assert shape(events) == [("ORDER", "TRADE", "FILLED"), ("ACCOUNT",)]
    assert events[0].fill.price == D("2.0000") and events[0].fill.maker
    ioc, events = ex.place_order(
        4,
        OrderRequest(
            "SOONUSDT", "BUY", "LIMIT", quantity=D(10), price=D("1.9000"), time_in_force="IOC"
        ),
    )
    assert ioc.status == "EXPIRED" and shape(events)[-1] == ("ORDER", "EXPIRED", "EXPIRED")


def test_cancel_and_query_unknown_orders():
    ex = make_exchange()
    order, _ = ex.place_order(
        1,
        OrderRequest(
            "SOONUSDT",
            "BUY",
            "LIMIT",
            quantity=D(10),
            price=D("2.0000"),
            time_in_force="GTC",
            client_id="rest-1",
        ),
    )
    assert (
        code_of(
            lambda: ex.place_order(
                1,
                OrderRequest(
                    "SOONUSDT",
                    "BUY",
                    "LIMIT",
                    quantity=D(10),
                    price=D("1.9000"),
                    time_in_force="GTC",
                    client_id="rest-1",
                ),
            )
        )
        == -4116
    )
    cancelled, events = ex.cancel_order(2, "SOONUSDT", None, "rest-1")
    assert cancelled.status == "CANCELED" and shape(events) == [("ORDER", "CANCELED", "CANCELED")]
    assert code_of(lambda: ex.cancel_order(3, "SOONUSDT", order.order_id, None)) == -2011
    assert code_of(lambda: ex.find_order("SOONUSDT", 12345, None)) == -2013
    assert ex.find_order("SOONUSDT", order.order_id, None).status == "CANCELED"


# ---------------------------------------------------------------- algo orders
def stop(side="SELL", trigger="1.9113", **kw):
    kw.setdefault("close_position", True)
    return AlgoRequest("SOONUSDT", side, "STOP_MARKET", trigger_price=D(trigger), **kw)


def test_close_position_stop_fires_on_the_first_crossing_and_flattens():
    ex = make_exchange()
    buy(ex, "4")
    algo, events = ex.place_algo_order(2, stop(client_algo_id="sl-1"))
    assert algo.status == "NEW" and shape(events) == [("ALGO", "NEW")]
    assert ex.update_price(3, "SOONUSDT", D("1.9114")) == []
    events = ex.update_price(4, "SOONUSDT", D("1.9000"))
    assert shape(events) == [
        ("ALGO", "TRIGGERING"),
        ("ALGO", "TRIGGERED"),
        ("ORDER", "NEW", "NEW"),
        ("ORDER", "TRADE", "FILLED"),
        ("ACCOUNT",),
        ("ALGO", "FINISHED"),
    ]
    child = events[2].order
    assert events[1].algo.actual_order_id == child.order_id
    assert (child.orig_type, child.quantity, child.reduce_only) == ("STOP_MARKET", D(4), True)
    assert events[3].fill.price == D("1.9000")  # a gap through the stop fills at the tape
    assert ex.account.position("SOONUSDT").amount == 0
    assert ex.open_algo_orders() == []


def test_working_type_selects_the_price_that_fires():
    ex = make_exchange()
    buy(ex, "4")
    ex.place_algo_order(2, stop(working_type="MARK_PRICE", trigger="2.0000"))
    # contract price crosses, mark does not: a MARK_PRICE stop must not fire
    assert ex.update_price(3, "SOONUSDT", mark=D("2.0100"), last=D("1.9900")) == []
    events = ex.update_price(4, "SOONUSDT", mark=D("1.9990"), last=D("2.0050"))
    assert shape(events)[0] == ("ALGO", "TRIGGERING")


@pytest.mark.parametrize(
    ("policy", "expect"), [("reject", -2021), ("reject_4142", -4142), ("accept_and_fire", None)]
)
def test_a_stop_that_would_trigger_at_once(policy, expect):
    ex = make_exchange(immediate_trigger=policy)
    buy(ex, "4")
    request = stop(trigger="2.0400")  # a SELL stop above the price: crossed already
    if expect is not None:
        assert code_of(lambda: ex.place_algo_order(2, request)) == expect
        assert ex.open_algo_orders() == []
    else:
        _, events = ex.place_algo_order(2, request)
        assert shape(events)[:3] == [("ALGO", "NEW"), ("ALGO", "TRIGGERING"), ("ALGO", "TRIGGERED")]
        assert ex.account.position("SOONUSDT").amount == 0


def test_close_position_stop_with_nothing_to_close_is_cancelled_with_the_reason():
    ex = make_exchange()
    ex.place_algo_order(1, stop())
    events = ex.update_price(2, "SOONUSDT", D("1.9000"))
    assert shape(events) == [("ALGO", "TRIGGERING"), ("ALGO", "CANCELED")]
    assert events[-1].algo.reason == "Reduce Only reject"


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (AlgoRequest("SOONUSDT", "SELL", "MARKET", quantity=D(4)), -1116),
        (AlgoRequest("SOONUSDT", "SELL", "STOP_MARKET", close_position=True), -1102),
        (
            AlgoRequest(
                "SOONUSDT",
                "SELL",
                "STOP_MARKET",
                trigger_price=D("1.9"),
                close_position=True,
                quantity=D(4),
            ),
            -1106,
        ),
        (
            AlgoRequest(
                "SOONUSDT",
                "SELL",
                "STOP_MARKET",
                trigger_price=D("1.9"),
                close_position=True,
                reduce_only=True,
            ),
            -1106,
        ),
        (AlgoRequest("SOONUSDT", "SELL", "STOP", trigger_price=D("1.9"), quantity=D(4)), -1102),
        (AlgoRequest("SOONUSDT", "SELL", "TRAILING_STOP_MARKET", quantity=D(4)), -1102),
        (
            AlgoRequest(
                "SOONUSDT", "SELL", "TRAILING_STOP_MARKET", quantity=D(4), callback_rate=D(25)
            ),
            -1116,
        ),
        (
            AlgoRequest(
                "SOONUSDT", "SELL", "STOP_MARKET", trigger_price=D("1.91135"), close_position=True
            ),
            -1111,
        ),
    ],
    ids=[
        "regular-type",
        "no-trigger",
        "qty-with-close",
        "reduce-with-close",
        "stop-no-price",
        "trailing-no-rate",
        "trailing-rate-range",
        "trigger-precision",
    ],
)
def test_bad_algo_orders_are_refused(request_, code):
    ex = make_exchange()
    assert code_of(lambda: ex.place_algo_order(1, request_)) == code


def test_a_second_close_position_stop_of_the_same_kind_and_side_is_refused():
    ex = make_exchange()
    buy(ex, "4")
    ex.place_algo_order(2, stop(trigger="1.9113", client_algo_id="sl-1"))
    assert code_of(lambda: ex.place_algo_order(3, stop(trigger="1.95"))) == -4130
    # a take-profit with closePosition, or a reduce-only stop, may stand beside it
    ex.place_algo_order(
        4,
        AlgoRequest(
            "SOONUSDT", "SELL", "TAKE_PROFIT_MARKET", trigger_price=D("2.2"), close_position=True
        ),
    )
    ex.place_algo_order(
        5, stop(trigger="1.95", close_position=False, quantity=D(4), reduce_only=True)
    )
    ex.cancel_algo_order(6, None, "sl-1")
    ex.place_algo_order(7, stop(trigger="1.96"))  # once the first is gone, a new one stands
    # and where the venue is configured not to enforce it, two coexist
    relaxed = make_exchange(close_position_exclusive=False)
    buy(relaxed, "4")
    relaxed.place_algo_order(2, stop(trigger="1.9113"))
    relaxed.place_algo_order(3, stop(trigger="1.95"))
    assert len(relaxed.open_algo_orders()) == 2


def test_algo_cancel_duplicate_ids_and_the_200_order_limit():
    ex = make_exchange(max_open_algo_orders=3, close_position_exclusive=False)
    buy(ex, "4")
    for i in range(3):
        ex.place_algo_order(2, stop(trigger=f"1.{9000 - i}", client_algo_id=f"sl-{i}"))
    assert code_of(lambda: ex.place_algo_order(3, stop(client_algo_id="sl-9"))) == -4045
    assert code_of(lambda: ex.cancel_algo_order(3, None, "nope")) == -2011
    cancelled, events = ex.cancel_algo_order(3, None, "sl-1")
    assert cancelled.status == "CANCELED" and shape(events) == [("ALGO", "CANCELED")]
    assert code_of(lambda: ex.place_algo_order(4, stop(client_algo_id="sl-0"))) == -4116
    ex.place_algo_order(4, stop(client_algo_id="sl-1"))  # reusable once cancelled
    assert [a.client_algo_id for a in ex.open_algo_orders()] == ["sl-0", "sl-2", "sl-1"]
    assert len(ex.cancel_all_algo_orders(5, "SOONUSDT")) == 3


def test_trailing_stop_activates_tracks_the_best_price_and_fires_on_the_callback():
    ex = make_exchange()
    buy(ex, "100")
    algo, _ = ex.place_algo_order(
        2,
        AlgoRequest(
            "SOONUSDT",
            "SELL",
            "TRAILING_STOP_MARKET",
            quantity=D(100),
            reduce_only=True,
            activate_price=D("2.0638"),
            callback_rate=D(1),
        ),
    )
    assert not algo.activated
    assert ex.update_price(3, "SOONUSDT", D("2.0613")) == []
    events = ex.update_price(4, "SOONUSDT", D("2.0680"))
    assert shape(events) == [("ALGO", "NEW")] and events[0].algo.activated
    assert ex.update_price(5, "SOONUSDT", D("2.1000")) == []  # new high: the level ratchets
    assert ex.update_price(6, "SOONUSDT", D("2.0800")) == []  # above 2.1 * 0.99 = 2.079
    events = ex.update_price(7, "SOONUSDT", D("2.0790"))
    assert shape(events)[0] == ("ALGO", "TRIGGERING")
    assert ex.account.position("SOONUSDT").amount == 0


def test_triggers_can_be_held_in_triggering_and_released():
    ex = make_exchange()
    buy(ex, "4")
    ex.place_algo_order(2, stop())
    ex.hold_triggers("SOONUSDT")
    events = ex.update_price(3, "SOONUSDT", D("1.9000"))
    assert shape(events) == [("ALGO", "TRIGGERING")]
    assert ex.account.position("SOONUSDT").amount == 4  # still exposed
    assert ex.update_price(4, "SOONUSDT", D("1.8000")) == []
    events = ex.release_triggers(5, "SOONUSDT")
    assert shape(events)[:3] == [
        ("ALGO", "TRIGGERED"),
        ("ORDER", "NEW", "NEW"),
        ("ORDER", "TRADE", "FILLED"),
    ]
    assert events[2].fill.price == D("1.8000")


def test_price_protect_suppresses_the_trigger_while_mark_and_contract_diverge():
    ex = make_exchange()
    buy(ex, "4")
    ex.place_algo_order(2, stop(trigger="2.0000", price_protect=True))
    assert ex.update_price(3, "SOONUSDT", mark=D("2.2000"), last=D("1.9900")) == []  # 9.5 %
    events = ex.update_price(4, "SOONUSDT", mark=D("2.0200"), last=D("1.9950"))  # 1.2 %
    assert shape(events)[0] == ("ALGO", "TRIGGERING")


def test_ground_truth_is_canonical():
    ex = make_exchange()
    buy(ex, "4")
    ex.place_algo_order(2, stop(client_algo_id="sl-1"))
    truth = ex.truth()
    assert truth["positions"] == {"SOONUSDT": {"amount": "4", "entry": "2.03330000"}}
    assert truth["open_algo_orders"][0]["client_id"] == "sl-1"
    assert all(isinstance(v, str) for v in (truth["wallet"],))
    assert Decimal(truth["wallet"]) < Decimal("10000")
