"""The listenKey lifecycle through FakeBinance (binance-usdm.md §6.13, §10): create, extend,
expire with one ``listenKeyExpired`` frame, -1125 afterwards, re-create, delete; and the
keepalive gap of ccxt 4.5.90 (§10.2) as a bot that only waits on ``watch_orders`` meets it.

Keys are driven through ccxt's own listenKey calls (``fapiPrivatePostListenKey`` and co.,
the requests ``authenticate`` / ``keep_alive_listen_key`` send); user-data frames are read
off a connection to ``/private/ws?listenKey=`` with their arrival instants.
"""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from sim.runtime import Simulation
from tests.venue.harness import SOON, run_ccxt

HOUR_MS = 60 * 60 * 1000
REST_MS, WS_MS = 50, 30  # one-way link latencies
PRIVATE_URL = "wss://fstream.binance.com/private/ws?listenKey={}"


def now_ms(sim: Simulation) -> int:
    return sim.env.now // 1000


class UserStream:
    """One user-data connection, recording each text frame with the instant it arrived."""

    def __init__(self, ex: Any, sim: Simulation, key: str) -> None:
        self._ex, self._sim, self.key = ex, sim, key
        self.frames: list[tuple[int, dict[str, Any]]] = []

    async def __aenter__(self) -> UserStream:
        self._ws = await self._ex.session.ws_connect(PRIVATE_URL.format(self.key))
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self._ws:
            self.frames.append((now_ms(self._sim), json.loads(message.data)))

    async def __aexit__(self, *exc_info: object) -> None:
        await self._ws.close()
        await self._reader

    def events(self) -> list[str]:
        return [frame["e"] for _, frame in self.frames]

    def expired(self) -> list[tuple[int, dict[str, Any]]]:
        return [(t, f) for t, f in self.frames if f["e"] == "listenKeyExpired"]


async def post_key(ex) -> str:
    return (await ex.fapiPrivatePostListenKey())["listenKey"]


async def fill_an_order(ex, cid: str) -> None:
    await ex.create_order(SOON, "market", "buy", 4, None, {"clientOrderId": cid})


def run(body, **kw):
    return run_ccxt(body, rest_ms=REST_MS, ws_ms=WS_MS, horizon_s=4 * 3600, **kw)


def test_post_gives_a_64_hex_key_and_a_second_post_within_the_hour_extends_the_same_key():
    async def body(ex, venue, sim):
        await ex.load_markets()
        first = await post_key(ex)
        async with UserStream(ex, sim, first) as stream:
            await asyncio.sleep(30 * 60)
            second_sent = now_ms(sim)
            second = await post_key(ex)
            await asyncio.sleep(HOUR_MS / 1000)
        return first, second, second_sent + REST_MS, stream.expired()

    (first, second, second_arrival, expired), *_ = run(body)
    assert re.fullmatch("[0-9a-f]{64}", first)
    assert second == first
    # Not at the first POST + 60 min: the second POST moved the expiry.
    assert expired == [
        (
            second_arrival + HOUR_MS + WS_MS,
            {"e": "listenKeyExpired", "E": second_arrival + HOUR_MS, "listenKey": first},
        )
    ]


def test_put_extends_the_key_and_echoes_it():
    async def body(ex, venue, sim):
        await ex.load_markets()
        key = await post_key(ex)
        async with UserStream(ex, sim, key) as stream:
            await asyncio.sleep(40 * 60)
            put_sent = now_ms(sim)
            answer = await ex.fapiPrivatePutListenKey()
            await asyncio.sleep(HOUR_MS / 1000)
        return key, answer, put_sent + REST_MS, stream.expired()

    (key, answer, put_arrival, expired), *_ = run(body)
    assert answer == {"listenKey": key}
    assert [t for t, _ in expired] == [put_arrival + HOUR_MS + WS_MS]


def test_an_expired_key_gets_one_frame_then_silence_then_minus_1125_and_a_new_key_works():
    async def body(ex, venue, sim):
        await ex.load_markets()
        created_sent = now_ms(sim)
        old_key = await post_key(ex)
        async with UserStream(ex, sim, old_key) as old:
            await fill_an_order(ex, "before")  # delivered: the key is valid
            await asyncio.sleep(HOUR_MS / 1000)  # no keepalive
            await fill_an_order(ex, "after")  # fills; nothing reaches the old stream
            with pytest.raises(ccxt.AuthenticationError, match="-1125"):
                await ex.fapiPrivatePutListenKey()
            new_key = await post_key(ex)
            async with UserStream(ex, sim, new_key) as new:
                await fill_an_order(ex, "again")
                await asyncio.sleep(5)
            await asyncio.sleep(HOUR_MS / 1000)  # the old key never expires twice
        return created_sent + REST_MS, old_key, old, new_key, new, venue

    (created, old_key, old, new_key, new, venue), *_ = run(body)
    expired_at = created + HOUR_MS
    assert old.expired() == [
        (expired_at + WS_MS, {"e": "listenKeyExpired", "E": expired_at, "listenKey": old_key})
    ]
    # "before" pushed its three events; after the expiry frame, nothing, though "after" and
    # "again" filled.
    assert old.events() == [
        "ORDER_TRADE_UPDATE",
        "ORDER_TRADE_UPDATE",
        "ACCOUNT_UPDATE",
        "listenKeyExpired",
    ]
    assert [o.client_id for o in venue.exchange.orders.values()] == ["before", "after", "again"]
    assert re.fullmatch("[0-9a-f]{64}", new_key) and new_key != old_key
    assert new.events() == ["ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"]
    assert [f["o"]["c"] for _, f in new.frames if f["e"] == "ORDER_TRADE_UPDATE"] == [
        "again",
        "again",
    ]


def test_delete_closes_the_key_without_a_listen_key_expired_frame():
    async def body(ex, venue, sim):
        await ex.load_markets()
        key = await post_key(ex)
        async with UserStream(ex, sim, key) as stream:
            answer = await ex.fapiPrivateDeleteListenKey()
            await fill_an_order(ex, "after-delete")
            with pytest.raises(ccxt.AuthenticationError):
                await ex.fapiPrivatePutListenKey()
            await asyncio.sleep(2 * HOUR_MS / 1000)  # past the hour the key had left
        return key, answer, stream, await post_key(ex)

    (key, answer, stream, next_key), _, _, sim = run(body)
    assert answer == {}
    assert stream.frames == []  # no order events and no listenKeyExpired
    assert [r for r in sim.trace.records() if r["kind"] == "venue.listen_key_expired"] == []
    assert next_key != key


def test_a_handshake_with_an_unknown_or_expired_key_is_refused():
    async def body(ex, venue, sim):
        await ex.load_markets()
        # ccxt reuses a cached key for 20 min 10 s after authenticating (§10.2): plant one.
        ex.options["linear"] = {"listenKey": "0" * 64, "lastAuthenticatedTime": ex.milliseconds()}
        with pytest.raises(ccxt.NetworkError):
            await ex.watch_orders(SOON)
        key = await post_key(ex)
        venue.expire_listen_key(key)
        ex.options["linear"] = {"listenKey": key, "lastAuthenticatedTime": ex.milliseconds()}
        with pytest.raises(ccxt.NetworkError):
            await ex.watch_orders(SOON)
        return ex.session.ws.all_connections()

    conns, *_ = run(body)
    assert [(c.route, c.server.state) for c in conns] == [
        ("private", "rejected"),
        ("private", "rejected"),
    ]


def test_ccxt_sends_one_keepalive_and_its_pending_watch_loses_the_key_an_hour_later():
    """§10.2: watch_orders pending, no traffic. ccxt POSTs, PUTs once 20 minutes after the
    POST's answer, and never again; the key expires 60 minutes after that PUT, the stream
    says so, and ccxt (which ignores ``listenKeyExpired``) keeps waiting."""

    async def body(ex, venue, sim):
        await ex.load_markets()
        pending = asyncio.create_task(ex.watch_orders(SOON))
        await asyncio.sleep((20 + 60 + 20) * 60)
        still_waiting = not pending.done()
        pending.cancel()
        return still_waiting

    still_waiting, _, _, sim = run(body)
    records = list(sim.trace.records())
    listen_key_calls = [
        (r["route"], r["t_ms"])
        for r in records
        if r["kind"] == "venue.rest" and r["route"].endswith("/fapi/v1/listenKey")
    ]
    # Exactly two calls in 100 minutes: the POST of authenticate and one PUT.
    [(post, post_ms), (put, put_ms)] = listen_key_calls
    assert (post, put) == ("POST /fapi/v1/listenKey", "PUT /fapi/v1/listenKey")
    # The POST's answer comes back after REST_MS; ccxt waits listenKeyRefreshRate from there
    # and the PUT takes REST_MS to arrive.
    assert put_ms == post_ms + REST_MS + 1_200_000 + REST_MS

    expired_ms = put_ms + HOUR_MS
    assert [r["t_ms"] for r in records if r["kind"] == "venue.listen_key_expired"] == [expired_ms]
    delivered = [
        r["t_ms"] for r in records if r["kind"] == "link.deliver" and r["msg"] == "listenKeyExpired"
    ]
    assert delivered == [expired_ms + WS_MS]
    assert still_waiting


def test_a_fill_after_expiry_is_not_pushed_to_ccxt_either():
    """The pending watch of the keepalive-gap bot misses a fill that happens after the
    key expired: nothing is sent on its connection."""

    async def body(ex, venue, sim):
        await ex.load_markets()
        pending = asyncio.create_task(ex.watch_orders(SOON))
        await asyncio.sleep((20 + 60 + 1) * 60)
        venue.set_price("SOONUSDT", Decimal("2.0000"))
        await fill_an_order(ex, "late")
        await asyncio.sleep(60)
        missed = not pending.done()
        pending.cancel()
        return missed

    missed, _, venue, sim = run(body)
    assert missed
    assert venue.exchange.orders[8_000_000_001].status == "FILLED"
    sent_on_user_stream = [
        r["msg"]
        for r in sim.trace.records()
        if r["kind"] == "link.send" and r["link"] == "ws:1:down" and not r["msg"].startswith("ws.")
    ]
    assert sent_on_user_stream == ["listenKeyExpired"]
