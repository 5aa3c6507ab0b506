"""WebSockets through real ccxt.pro over simulated links: frames, faults, closes, keepalive."""

from __future__ import annotations

import json

import ccxt
import ccxt.pro as ccxt_pro
import pytest

from sim.runtime import BotTaskCrashed
from sim.transport import (
    Drop,
    Duplicate,
    Fixed,
    Hold,
    Uniform,
    UnsimulatedHost,
    for_kinds,
    market_data,
)
from tests.transport.helpers import SYMBOL, T0_MS, T0_US, at, ccxt_config, now_ms, records, world


async def watch_marks(ex, *, until_ms: int, log: list):
    """Watch mark prices; log (received_ms, E - T0_MS, mark) or (ms, error name, message)
    for everything that happens up to ``until_ms``."""
    while True:
        try:
            ticker = await ex.watch_mark_price(SYMBOL)
            entry = (now_ms(), ticker["timestamp"] - T0_MS, ticker["markPrice"])
        except ccxt.NetworkError as exc:
            entry = (now_ms(), type(exc).__name__, str(exc))
        if entry[0] > until_ms:
            return
        log.append(entry)


def run_watch(w, until_ms: int) -> list:
    log: list = []

    async def main():
        ex = ccxt_pro.binanceusdm(ccxt_config(w.session))
        try:
            await ex.load_markets()
            await watch_marks(ex, until_ms=until_ms, log=log)
        finally:
            await ex.close()

    w.sim.run(main())
    return log


def test_mark_price_frames_arrive_after_the_link_latency_with_their_timestamps():
    w = world(rest_latency=Fixed(50), ws_latency=Fixed(100))
    log = run_watch(w, until_ms=4500)
    # markets at 100; handshake 100 → 300; SUBSCRIBE reaches the venue at 400; ticks each second
    assert log == [
        (1100, 1000, 0.8801),
        (2100, 2000, 0.8802),
        (3100, 3000, 0.8803),
        (4100, 4000, 0.8804),
    ]
    [conn] = w.session.ws.all_connections()
    assert (conn.conn_id, conn.url, conn.route) == (
        1,
        "wss://fstream.binance.com/market/ws/0",
        "market",
    )
    [(arrival_us, conn_id, text)] = w.venue.texts
    assert json.loads(text) == {"method": "SUBSCRIBE", "params": ["soonusdt@markPrice@1s"], "id": 1}
    assert (arrival_us // 1000 - T0_MS, conn_id) == (400, 1)
    assert [r["t"] for r in records(w.sim, "ws.open", conn=1)] == [300]


def test_a_stream_keeps_its_order_when_latency_varies_more_than_the_frame_spacing():
    w = world(rest_latency=Fixed(10), ws_latency=Uniform(0, 2500), seed=3)
    log = run_watch(w, until_ms=30_000)
    stamps = [e for _, e, _ in log]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    arrivals = [received for received, _, _ in log]
    assert arrivals == sorted(arrivals)
    # frames that caught up with a slower one ahead arrive with it, at the same instant
    assert len(set(arrivals)) < len(arrivals)


def test_hold_delivers_the_held_frames_in_one_burst_at_the_release_instant():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100))
    handle = {}

    def hold():
        handle["rule"] = w.session.ws.add_rule(
            for_kinds(Hold(), "markPriceUpdate"), where=market_data
        )

    def release():
        w.session.ws.remove_rule(handle["rule"])
        [conn] = w.session.ws.connections()
        assert conn.down.release_held() == 4

    at(w.sim, 2500, hold)
    at(w.sim, 6700, release)
    log = run_watch(w, until_ms=7500)
    assert log == [
        (1100, 1000, 0.8801),
        (2100, 2000, 0.8802),
        (6700, 3000, 0.8803),
        (6700, 4000, 0.8804),
        (6700, 5000, 0.8805),
        (6700, 6000, 0.8806),
        (7100, 7000, 0.8807),
    ]
    # down-link seq 1 is the handshake answer, 2 the subscribe ack, 3.. the frames
    assert [r["seq"] for r in records(w.sim, "link.hold")] == [5, 6, 7, 8]
    [release_record] = records(w.sim, "link.release")
    assert (release_record["t"], release_record["count"]) == (6700, 4)


def test_a_registry_rule_reaches_connections_opened_later():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100))
    w.session.ws.add_rule(
        lambda m: (
            Duplicate(copies=1, spacing_us=300_000)
            if '"E":1735689603000' in str(m.payload)
            else None
        ),
        where=market_data,
    )
    log = run_watch(w, until_ms=4500)
    assert log == [
        (1100, 1000, 0.8801),
        (2100, 2000, 0.8802),
        (3100, 3000, 0.8803),
        (3400, 3000, 0.8803),
        (4100, 4000, 0.8804),
    ]
    [dup] = records(w.sim, "link.duplicate")
    assert (dup["t"], dup["link"], dup["msg"], dup["copies"]) == (
        3000,
        "ws:1:down",
        "markPriceUpdate",
        1,
    )


def test_server_close_fails_the_pending_watch_and_the_next_watch_reconnects():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100))
    at(w.sim, 2500, lambda: w.venue.close(w.venue.conns[0], code=1001))
    log = run_watch(w, until_ms=4500)
    assert log[:2] == [(1100, 1000, 0.8801), (2100, 2000, 0.8802)]
    assert log[2][:2] == (2600, "NetworkError")
    assert "closing code 1001" in log[2][2]
    # reconnect: handshake 2600 → 2800, SUBSCRIBE at the venue at 2900, next tick at 3000
    assert log[3:] == [(3100, 3000, 0.8803), (4100, 4000, 0.8804)]
    first, second = w.session.ws.all_connections()
    assert (first.conn_id, first.live, second.conn_id, second.live) == (1, False, 2, False)
    assert first.server.state == "closed" and first.url == second.url
    assert [r["t"] for r in records(w.sim, "ws.dial")] == [20, 2600]


def test_reset_fails_the_pending_watch_after_the_down_latency_and_the_venue_learns_it():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100))
    at(w.sim, 2500, lambda: w.session.ws.reset(where=market_data))
    log = run_watch(w, until_ms=3500)
    assert log[2][:2] == (2600, "NetworkError")
    assert "closing code 1006" in log[2][2]
    assert log[3:] == [(3100, 3000, 0.8803)]
    reset_seen_us, conn_id = w.venue.closed_by_client[0]  # the reset reached it over the up link
    assert (reset_seen_us // 1000 - T0_MS, conn_id) == (2600, 1)


def test_pings_get_pongs_and_ccxt_keeps_the_socket():
    w = world(
        horizon_s=2000,
        rest_latency=Fixed(10),
        ws_latency=Fixed(100),
        venue_options={"tape_every_s": 300},
    )
    log = run_watch(w, until_ms=1250_000)
    assert [e for _, e, _ in log] == [300_000, 600_000, 900_000, 1_200_000]
    # open at 220 ms; ccxt pings every 180 s; each pong is back 200 ms later
    pongs = records(w.sim, "link.deliver", link="ws:1:down", msg="ws.pong")
    assert [r["t"] for r in pongs if r["t"] < 1_250_000] == [
        180_420,
        360_420,
        540_420,
        720_420,
        900_420,
        1_080_420,
    ]
    assert len(w.session.ws.all_connections()) == 1


def test_without_pongs_ccxt_drops_the_socket_by_its_own_rule_at_720_s():
    w = world(
        horizon_s=2000,
        rest_latency=Fixed(10),
        ws_latency=Fixed(100),
        venue_options={"tape_every_s": 300, "answer_pings": False},
    )
    log = run_watch(w, until_ms=1250_000)
    [opened] = [r["t"] for r in records(w.sim, "ws.open", conn=1)]
    errors = [entry for entry in log if entry[1] == "RequestTimeout"]
    assert [(t - opened, "ping-pong keepalive" in msg) for t, _, msg in errors] == [(720_000, True)]
    assert len(w.session.ws.all_connections()) == 2  # the next watch reconnected


def test_a_silent_cut_is_noticed_only_by_the_keepalive_rule():
    w = world(horizon_s=2000, rest_latency=Fixed(10), ws_latency=Fixed(100))
    at(w.sim, 2500, lambda: w.session.ws.get(1).cut())
    log = run_watch(w, until_ms=800_000)
    [opened] = [r["t"] for r in records(w.sim, "ws.open", conn=1)]
    assert opened == 220
    assert log[2][:2] == (720_220, "RequestTimeout")
    assert log[3] == (721_100, 721_000, 0.9521)  # the next watch reconnected at once
    # ccxt's close handshake gets no answer over the cut link: aiohttp gives up after 10 s
    [finished] = records(w.sim, "ws.finished", conn=1)
    assert (finished["t"], finished["code"]) == (730_220, 1006)


def test_a_rejected_handshake_surfaces_as_network_error():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100), venue_options={"reject_status": 403})

    async def main():
        ex = ccxt_pro.binanceusdm(ccxt_config(w.session))
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.NetworkError) as caught:
                await ex.watch_mark_price(SYMBOL)
            return now_ms(), str(caught.value)
        finally:
            await ex.close()

    raised_ms, message = w.sim.run(main()).value
    assert raised_ms == 220
    assert "403" in message and "Invalid response status" in message
    assert [(r["t"], r["status"]) for r in records(w.sim, "ws.rejected")] == [(120, 403)]


def test_unsimulated_ws_host_fails_the_run():
    w = world(rest_latency=Fixed(10))

    async def main():
        ex = ccxt_pro.binanceusdm(ccxt_config(w.session))
        ex.urls["api"]["ws"]["linear"] = "wss://fstream.binancefuture.com/ws"
        try:
            await ex.load_markets()
            try:
                await ex.watch_mark_price(SYMBOL)
            except ccxt.NetworkError:
                pass  # ccxt wraps the dial error; the run still fails
        finally:
            await ex.close()

    with pytest.raises(BotTaskCrashed) as caught:
        w.sim.run(main())
    assert isinstance(caught.value.__cause__, UnsimulatedHost)
    assert "wss://fstream.binancefuture.com/market/ws/0" in str(caught.value)


def test_a_lost_handshake_answer_times_out_in_ccxt_and_the_venue_sees_the_socket_dropped():
    w = world(rest_latency=Fixed(10), ws_latency=Fixed(100))
    handle = w.session.ws.add_rule(for_kinds(Drop(), "ws.accept"))
    at(w.sim, 5000, lambda: w.session.ws.remove_rule(handle))
    log = run_watch(w, until_ms=12_500)
    # dial at 20; ccxt's connectionTimeout is 10 s; the venue had accepted at 120
    assert log[0][:2] == (10_020, "RequestTimeout")
    assert w.venue.closed_by_client[0] == (T0_US + 10_120_000, 1)
    assert [r["t"] for r in records(w.sim, "ws.abandon")] == [10_020]
    # ccxt backs off 0.2 s before dialling again: 10 220 → open at 10 420
    assert [r["t"] for r in records(w.sim, "ws.open")] == [10_420]
    assert log[1:] == [(11_100, 11_000, 0.8811), (12_100, 12_000, 0.8812)]
