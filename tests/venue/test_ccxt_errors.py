"""Every refusal reaches the bot as the ccxt exception the real Binance host gives
(binance-usdm.md §5.1, column "real host"), through unmodified ccxt."""

from __future__ import annotations

import ccxt
import pytest

from sim.exchange.model import ExchangeConfig
from sim.venue import VenueConfig
from tests.venue.harness import BTC, SOON, run_ccxt

BOTH = ("SOONUSDT", "BTCUSDT")


async def long_soon(ex):
    await ex.create_order(SOON, "market", "buy", 4, None, {"clientOrderId": "e1"})


def order_raw(**fields):
    """The implicit API: a request ccxt signs and sends as given (no client-side rounding)."""

    async def call(ex):
        await ex.load_markets()
        await ex.fapiPrivatePostOrder({"newClientOrderId": "raw-1", **fields})

    return call


def stop_sell(trigger):
    async def call(ex):
        await long_soon(ex)
        await ex.create_order(
            SOON, "STOP_MARKET", "sell", None, None, {"stopPrice": trigger, "closePosition": True}
        )

    return call


async def duplicate_client_id(ex):
    await ex.create_order(SOON, "limit", "buy", 10, 1.9, {"clientOrderId": "dup"})
    await ex.create_order(SOON, "limit", "buy", 10, 1.8, {"clientOrderId": "dup"})


async def two_stops(ex):
    await long_soon(ex)
    for trigger in (1.9, 1.8):
        await ex.create_order(
            SOON, "STOP_MARKET", "sell", None, None, {"stopPrice": trigger, "closePosition": True}
        )


async def keepalive_without_key(ex):
    await ex.load_markets()
    await ex.fapiPrivatePutListenKey()


async def unserved_endpoint(ex):
    await ex.load_markets()
    await ex.fapiPublicGetDepth({"symbol": "SOONUSDT"})


CASES = [
    ("-2021", stop_sell(2.1), {}, ccxt.OrderImmediatelyFillable),
    ("-4142", stop_sell(2.1), {"immediate_trigger": "reject_4142"}, ccxt.OrderImmediatelyFillable),
    ("-4164", lambda ex: ex.create_order(SOON, "market", "buy", 2), {}, ccxt.InvalidOrder),
    ("-2019", lambda ex: ex.create_order(BTC, "market", "buy", 5), {}, ccxt.InsufficientFunds),
    (
        "-2022",
        lambda ex: ex.create_order(SOON, "market", "sell", 4, None, {"reduceOnly": True}),
        {},
        ccxt.InvalidOrder,
    ),
    ("-4116", duplicate_client_id, {}, ccxt.InvalidOrder),
    (
        "-4045",
        two_stops,
        {"max_open_algo_orders": 1, "close_position_exclusive": False},
        ccxt.OperationRejected,
    ),
    # ccxt 4.5.90 has no entry for -4130: it arrives as a plain ExchangeError
    ("-4130", two_stops, {}, ccxt.ExchangeError),
    ("-2011", lambda ex: ex.cancel_order("8000000999", SOON), {}, ccxt.OrderNotFound),
    (
        "-2011-algo",
        lambda ex: ex.cancel_order("4000999", SOON, {"trigger": True}),
        {},
        ccxt.OrderNotFound,
    ),
    ("-2013", lambda ex: ex.fetch_order("8000000999", SOON), {}, ccxt.OrderNotFound),
    (
        "-1121",
        order_raw(symbol="NOPEUSDT", side="BUY", type="MARKET", quantity="1"),
        {},
        ccxt.BadSymbol,
    ),
    (
        "-4120",
        order_raw(
            symbol="SOONUSDT", side="SELL", type="STOP_MARKET", quantity="4", stopPrice="1.9"
        ),
        {},
        ccxt.InvalidOrder,
    ),
    (
        "-1111",
        order_raw(symbol="SOONUSDT", side="BUY", type="MARKET", quantity="4.5"),
        {},
        ccxt.BadRequest,
    ),
    (
        "-4014",
        order_raw(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity="0.01",
            price="96000.05",
            timeInForce="GTC",
        ),
        {},
        ccxt.BadRequest,
    ),
    (
        "-5021",
        lambda ex: ex.create_order(SOON, "limit", "buy", 10, 1.9, {"timeInForce": "FOK"}),
        {},
        ccxt.OrderNotFillable,
    ),
    (
        "-5022",
        lambda ex: ex.create_order(SOON, "limit", "buy", 10, 2.1, {"postOnly": True}),
        {},
        ccxt.OrderNotFillable,
    ),
    ("-1125", keepalive_without_key, {}, ccxt.AuthenticationError),
    ("404", unserved_endpoint, {}, ccxt.ExchangeNotAvailable),
]


@pytest.mark.parametrize(
    ("code", "call", "exchange_config", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_binance_errors_raise_the_ccxt_exception_of_the_real_host(
    code, call, exchange_config, expected
):
    async def body(ex, venue, sim):
        with pytest.raises(ccxt.BaseError) as err:
            await call(ex)
        return err.value

    config = VenueConfig(symbols=BOTH, exchange=ExchangeConfig(**exchange_config))
    raised, *_ = run_ccxt(body, venue_config=config)
    assert type(raised) is expected, f"{code}: {type(raised).__name__}: {raised}"
    if code.startswith("-"):
        assert f'"code":{code.split("-algo")[0]}' in str(raised)


@pytest.mark.parametrize(
    ("ccxt_config", "venue_kwargs", "expected", "needle"),
    [
        ({"secret": "wrong-secret"}, {}, ccxt.AuthenticationError, "-1022"),
        ({"api_key": "unknown-key"}, {}, ccxt.AuthenticationError, "-2015"),
        ({}, {"clock_skew_ms": 30_000}, ccxt.InvalidNonce, "-1021"),
        ({}, {"clock_skew_ms": -30_000}, ccxt.InvalidNonce, "-1021"),
    ],
    ids=["bad-signature", "unknown-key", "clock-behind", "clock-ahead"],
)
def test_authentication_and_timestamps(ccxt_config, venue_kwargs, expected, needle):
    async def body(ex, venue, sim):
        with pytest.raises(ccxt.BaseError) as err:
            await ex.fetch_balance()
        return err.value

    config = VenueConfig(symbols=BOTH, **venue_kwargs)
    raised, *_ = run_ccxt(body, venue_config=config, ccxt_config=ccxt_config)
    assert type(raised) is expected and needle in str(raised)


def test_load_time_difference_repairs_a_skewed_clock():
    async def body(ex, venue, sim):
        with pytest.raises(ccxt.InvalidNonce):
            await ex.fetch_balance()
        await ex.load_time_difference()
        return (await ex.fetch_balance())["USDT"]["total"]

    total, *_ = run_ccxt(body, venue_config=VenueConfig(symbols=BOTH, clock_skew_ms=30_000))
    assert total == 10000.0
