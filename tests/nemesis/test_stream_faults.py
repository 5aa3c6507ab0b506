"""User-data and connection faults, observed on raw user-data connections (the venue's
frames exactly as they arrive, with their instants) and through ccxt.pro's watches.

Each test opens one connection before the fault starts (a current connection) and, where it
matters, one after (a future connection): a fault covers both, and its heal both."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import pytest

from tests.nemesis.harness import SOON, Run, fault, order_label, run_faults

REST_MS, WS_MS = 50, 20
FILL = ["ORDER_TRADE_UPDATE:NEW", "ORDER_TRADE_UPDATE:FILLED", "ACCOUNT_UPDATE:ORDER"]


async def buy(run: Run, cid: str, qty: int = 3) -> None:
    await run.ex.create_order(SOON, "market", "buy", qty, None, {"clientOrderId": cid})


def labels(stream, since_ms: int = 0, until_ms: int | None = None) -> list[tuple[int, str]]:
    return [
        (t, order_label(f))
        for t, f in stream.frames
        if t >= since_ms and (until_ms is None or t < until_ms)
    ]


def run(body, faults, **kw):
    return run_faults(body, faults, rest_ms=REST_MS, ws_ms=WS_MS, **kw)


def test_user_stream_delayed_delays_account_updates_on_current_and_future_connections():
    faults = [fault("user_stream_delayed", 1000, 10_000, events=["ACCOUNT_UPDATE"], delay_ms=2000)]

    async def body(run: Run):
        await run.ex.load_markets()
        key = await run.listen_key()
        async with run.stream(key) as current:
            await run.until(1500)
            async with run.stream(key) as future:
                await run.until(2000)
                await buy(run, "during")  # arrives at 2050
                await run.until(11_000)
                await buy(run, "after")  # arrives at 11050
                await run.until(12_000)
        return labels(current), labels(future)

    out = run(body, faults)
    current, future = out.value
    for frames in (current, future):
        assert frames == [
            (2070, "ORDER_TRADE_UPDATE:NEW"),
            (2070, "ORDER_TRADE_UPDATE:FILLED"),
            (4070, "ACCOUNT_UPDATE:ORDER"),  # 2 s late
            *[(11_070, label) for label in FILL],  # healed: on time
        ]
    assert out.fault_marks() == [
        ("fault.start", 0, "user_stream_delayed", 1000),
        ("fault.stop", 0, "user_stream_delayed", 10_000),
    ]
    assert all(
        link.rule_count == 0 for c in out.session.ws.all_connections() for link in (c.up, c.down)
    )


def test_user_stream_dropped_loses_every_matching_frame_while_active():
    faults = [fault("user_stream_dropped", 1000, 10_000, events="ACCOUNT_UPDATE")]

    async def body(run: Run):
        await run.ex.load_markets()
        key = await run.listen_key()
        async with run.stream(key) as current:
            await run.until(1500)
            async with run.stream(key) as future:
                await run.until(2000)
                await buy(run, "a")
                await buy(run, "b")
                await run.until(11_000)
                await buy(run, "after")
                await run.until(12_000)
        return labels(current), labels(future)

    out = run(body, faults)
    for frames in out.value:
        assert [label for _, label in frames] == [
            *["ORDER_TRADE_UPDATE:NEW", "ORDER_TRADE_UPDATE:FILLED"] * 2,  # no ACCOUNT_UPDATE
            *FILL,  # healed
        ]
        assert frames[-1][0] == 11_070
    assert len([d for d in out.records("link.drop") if d["msg"] == "ACCOUNT_UPDATE"]) == 4


def test_user_stream_dropped_with_a_count_loses_that_many_frames_over_all_connections():
    faults = [fault("user_stream_dropped", 1000, 10_000, events=["ACCOUNT_UPDATE"], count=1)]

    async def body(run: Run):
        await run.ex.load_markets()
        key = await run.listen_key()
        async with run.stream(key) as first, run.stream(key) as second:
            await run.until(2000)
            await buy(run, "a")
            await buy(run, "b")
            await run.until(3000)
        return [e for _, e in first.events()], [e for _, e in second.events()]

    out = run(body, faults)
    first, second = out.value
    assert first.count("ACCOUNT_UPDATE") == 1  # its first one was the one lost
    assert second.count("ACCOUNT_UPDATE") == 2


def test_user_stream_duplicated_delivers_each_frame_twice_until_the_heal():
    faults = [fault("user_stream_duplicated", 1000, 10_000)]

    async def body(run: Run):
        await run.ex.load_markets()
        key = await run.listen_key()
        async with run.stream(key) as current:
            await run.until(2000)
            await buy(run, "during")
            await run.until(11_000)
            await buy(run, "after")
            await run.until(12_000)
        return labels(current)

    out = run(body, faults)
    assert out.value == [
        *[(2070, label) for label in FILL for _ in range(2)],  # each one twice, in order
        *[(11_070, label) for label in FILL],
    ]
    assert out.fault_marks() == [
        ("fault.start", 0, "user_stream_duplicated", 1000),
        ("fault.stop", 0, "user_stream_duplicated", 10_000),
    ]


TRIGGER = [
    "ALGO_UPDATE:TRIGGERING",
    "ALGO_UPDATE:TRIGGERED",
    "ORDER_TRADE_UPDATE:NEW",
    "ORDER_TRADE_UPDATE:FILLED",
    "ACCOUNT_UPDATE:ORDER",
    "ALGO_UPDATE:FINISHED",
]


@pytest.mark.parametrize(
    ("order", "events", "on_time", "burst"),
    [
        (
            "by_type",
            None,  # all three
            [],
            [
                "ALGO_UPDATE:TRIGGERING",
                "ALGO_UPDATE:TRIGGERED",
                "ALGO_UPDATE:FINISHED",
                "ORDER_TRADE_UPDATE:NEW",
                "ORDER_TRADE_UPDATE:FILLED",
                "ACCOUNT_UPDATE:ORDER",  # last
            ],
        ),
        (
            "reversed",
            None,
            [],
            # sent as A A O O U A: the types reversed (A U O O A A), each type in its order
            [
                "ALGO_UPDATE:TRIGGERING",
                "ACCOUNT_UPDATE:ORDER",
                "ORDER_TRADE_UPDATE:NEW",
                "ORDER_TRADE_UPDATE:FILLED",
                "ALGO_UPDATE:TRIGGERED",
                "ALGO_UPDATE:FINISHED",
            ],
        ),
        (
            "by_type",
            ["ACCOUNT_UPDATE"],  # the others pass, and overtake it
            [label for label in TRIGGER if not label.startswith("ACCOUNT")],
            ["ACCOUNT_UPDATE:ORDER"],
        ),
    ],
)
def test_user_stream_held_releases_one_burst_at_the_heal_reordered_across_types_only(
    order, events, on_time, burst
):
    params = {"order": order} if events is None else {"order": order, "events": events}
    faults = [fault("user_stream_held", 1000, 5000, **params)]

    async def body(run: Run):
        await run.ex.load_markets()
        await buy(run, "entry")
        await run.ex.create_order(
            SOON, "STOP_MARKET", "sell", 3, None, {"stopPrice": 1.9, "reduceOnly": True}
        )
        key = await run.listen_key()
        async with run.stream(key) as current:
            await run.until(1500)
            async with run.stream(key) as future:
                await run.until(2000)
                run.venue.set_price("SOONUSDT", Decimal("1.8"))  # the stop fires
                await run.until(6000)
                await buy(run, "after")
                await run.until(7000)
        return labels(current), labels(future)

    out = run(body, faults)
    for frames in out.value:
        assert frames[: len(on_time)] == [(2020, label) for label in on_time]
        assert frames[len(on_time) :] == [
            *[(5000, label) for label in burst],  # released at the heal instant
            *[(6070, label) for label in FILL],  # healed: in order, on time
        ]
    [release, release_future] = out.records("link.release")
    assert release["t_ms"] == release_future["t_ms"] == out.records("fault.stop")[0]["t_ms"]
    assert release["count"] == len(burst)


def test_user_stream_held_burst_is_lost_on_a_connection_that_died_meanwhile():
    faults = [
        fault("user_stream_held", 1000, 5000, index=0),
        fault("stream_disconnected", 3000, index=1),
    ]

    async def body(run: Run):
        await run.ex.load_markets()
        key = await run.listen_key()
        async with run.stream(key) as current:
            await run.until(2000)
            await buy(run, "during")
            await run.until(6000)
        return labels(current), current.closed_at

    out = run(body, faults)
    frames, closed_at = out.value
    assert frames == [] and closed_at == 3020
    assert [m[3] for m in out.fault_marks()] == [1000, 3000, 3000, 5000]


async def _first_outcome(run: Run, watch) -> tuple[int, str]:
    """When a ccxt.pro watch resolved, and how (a NetworkError or a result)."""
    try:
        await watch()
    except ccxt.NetworkError as exc:
        return run.now(), type(exc).__name__
    return run.now(), "result"


async def _mark_errors(run: Run, until_ms: int) -> list[tuple[int, str]]:
    """Watch the mark price until ``until_ms``; the errors, with instants."""
    errors = []
    while run.now() < until_ms:
        try:
            await run.ex.watch_mark_price(SOON)
        except ccxt.NetworkError as exc:
            errors.append((run.now(), type(exc).__name__))
    return errors


@pytest.mark.parametrize(
    ("streams", "user_reset", "market_reset"),
    [("user", True, False), ("market", False, True), ("all", True, True)],
)
def test_stream_disconnected_resets_the_chosen_connections_and_ccxt_reconnects(
    streams, user_reset, market_reset
):
    faults = [fault("stream_disconnected", 3000, streams=streams)]

    async def body(run: Run):
        await run.ex.load_markets()
        first = asyncio.create_task(_first_outcome(run, lambda: run.ex.watch_orders(SOON)))
        marks = asyncio.create_task(_mark_errors(run, 4500))
        await run.until(3500)
        again = asyncio.create_task(run.ex.watch_orders(SOON))  # reconnects if it must
        await run.until(4000)
        await buy(run, "after")
        filled = await again
        return await first, await marks, filled[-1]["clientOrderId"]

    out = run(body, faults)
    first, mark_errors, after = out.value
    assert first == ((3020, "NetworkError") if user_reset else (4070, "result"))
    assert mark_errors == ([(3020, "NetworkError")] if market_reset else [])
    assert after == "after"  # the user stream works after the reset
    reset = [out.session.ws.get(r["conn"]).route for r in out.records("ws.reset")]
    assert sorted(reset) == sorted(["private"] * user_reset + ["market"] * market_reset)
    assert out.fault_marks() == [
        ("fault.start", 0, "stream_disconnected", 3000),
        ("fault.stop", 0, "stream_disconnected", 3000),
    ]
