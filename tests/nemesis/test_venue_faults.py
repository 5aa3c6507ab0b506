"""Venue faults through ccxt and raw user-data connections: a listenKey that expires now,
and algo orders stuck in TRIGGERING until the heal."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt

from tests.nemesis.harness import SOON, Run, fault, order_label, run_faults

REST_MS, WS_MS = 50, 20


async def buy(run: Run, cid: str, qty: int = 3) -> None:
    await run.ex.create_order(SOON, "market", "buy", qty, None, {"clientOrderId": cid})


async def stop_below(run: Run, cid: str, level: float = 1.9, qty: int = 3):
    return await run.ex.create_order(
        SOON,
        "STOP_MARKET",
        "sell",
        qty,
        None,
        {"stopPrice": level, "reduceOnly": True, "clientOrderId": cid},
    )


def test_listen_key_expired_ends_the_stream_now_and_a_new_key_works():
    faults = [fault("listen_key_expired", 2000)]

    async def body(run: Run):
        await run.ex.load_markets()
        old_key = await run.listen_key()
        async with run.stream(old_key) as old:
            await run.until(3000)
            valid_after = run.venue.listen_keys.is_valid(old_key, run.venue.now_ms())
            await buy(run, "unheard")
            keepalive, _ = await run.timed(run.ex.fapiPrivatePutListenKey())
            new_key = await run.listen_key()  # the client's own recovery
            async with run.stream(new_key) as new:
                await buy(run, "heard")
                await asyncio.sleep(1)
        return old.events(), valid_after, keepalive, new_key != old_key, new.events()

    out = run_faults(body, faults, rest_ms=REST_MS, ws_ms=WS_MS)
    old_events, valid_after, keepalive, fresh, new_events = out.value
    assert old_events == [(2020, "listenKeyExpired")]  # then nothing: "unheard" is lost
    assert not valid_after
    assert isinstance(keepalive, ccxt.AuthenticationError) and "-1125" in str(keepalive)
    assert fresh
    assert [e for _, e in new_events] == [
        "ORDER_TRADE_UPDATE",
        "ORDER_TRADE_UPDATE",
        "ACCOUNT_UPDATE",
    ]
    assert [r["t_ms"] for r in out.records("venue.listen_key_expired")] == [
        out.records("fault.start")[0]["t_ms"]
    ]
    assert out.fault_marks() == [
        ("fault.start", 0, "listen_key_expired", 2000),
        ("fault.stop", 0, "listen_key_expired", 2000),
    ]


def test_algo_stuck_triggering_holds_a_fired_stop_until_the_heal_then_it_fills():
    faults = [fault("algo_stuck_triggering", 1000, 5000, symbol="SOONUSDT")]

    def status(run_or_out):
        algos = run_or_out.venue.exchange.open_algo_orders("SOONUSDT")
        return [a.status for a in algos]

    async def body(run: Run):
        await run.ex.load_markets()
        await buy(run, "entry")
        await stop_below(run, "sl-1")
        key = await run.listen_key()
        async with run.stream(key) as stream:
            await run.until(2000)
            run.venue.set_price("SOONUSDT", Decimal("1.8"))  # through the stop
            await run.until(4000)
            stuck = status(run), str(run.venue.exchange.account.position("SOONUSDT").amount)
            triggers = await run.ex.fetch_open_orders(SOON, params={"trigger": True})
            await run.until(6000)
            # healed: a new position's stop fires and fills at once
            await buy(run, "entry-2")
            await stop_below(run, "sl-2", level=1.7)
            await run.until(7000)
            run.venue.set_price("SOONUSDT", Decimal("1.6"))
            await run.until(8000)
        frames = [(t, order_label(f)) for t, f in stream.frames]
        return stuck, [o["clientOrderId"] for o in triggers], frames

    out = run_faults(body, faults, rest_ms=REST_MS, ws_ms=WS_MS)
    (stuck_status, stuck_amount), open_triggers, frames = out.value
    assert stuck_status == ["TRIGGERING"] and stuck_amount == "3"  # fired, no child order
    assert open_triggers == ["sl-1"]
    assert [f for f in frames if 2000 <= f[0] < 5000] == [(2020, "ALGO_UPDATE:TRIGGERING")]
    assert [f for f in frames if 5000 <= f[0] < 6000] == [
        (5020, "ALGO_UPDATE:TRIGGERED"),
        (5020, "ORDER_TRADE_UPDATE:NEW"),
        (5020, "ORDER_TRADE_UPDATE:FILLED"),
        (5020, "ACCOUNT_UPDATE:ORDER"),
        (5020, "ALGO_UPDATE:FINISHED"),
    ]
    assert [label for t, label in frames if t >= 7000] == [
        "ALGO_UPDATE:TRIGGERING",
        "ALGO_UPDATE:TRIGGERED",
        "ORDER_TRADE_UPDATE:NEW",
        "ORDER_TRADE_UPDATE:FILLED",
        "ACCOUNT_UPDATE:ORDER",
        "ALGO_UPDATE:FINISHED",
    ]
    assert status(out) == [] and str(out.venue.exchange.account.position("SOONUSDT").amount) == "0"
    assert out.fault_marks() == [
        ("fault.start", 0, "algo_stuck_triggering", 1000),
        ("fault.stop", 0, "algo_stuck_triggering", 5000),
    ]
