"""A tiny venue for transport tests: just enough Binance for ccxt to talk to.

REST: ``GET /fapi/v1/time``, ``GET /fapi/v1/exchangeInfo`` (one symbol, SOONUSDT),
``POST|PUT|DELETE /fapi/v1/listenKey``; anything else is a 404 with a Binance error body.
WebSocket: accepts every connection (or rejects with ``reject_status``), answers SUBSCRIBE
with ``{"result":null,"id":N}``, and a simpy process pushes a ``markPriceUpdate`` for
SOONUSDT to every subscribed connection on each whole ``tape_every_s`` second. The price is
``0.8800 + 0.0001 × tick`` so a frame's tick can be read back from the price.

It records what it saw, with the virtual instant of arrival, for the tests to assert on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simpy

from sim.transport.protocol import HttpRequest, HttpResponse, WsRejected, WsServerSide

LISTEN_KEY = "a1b2c3d4" * 8  # 64 hex characters
MARK_STREAM = "soonusdt@markPrice@1s"

_SYMBOL = {
    "symbol": "SOONUSDT",
    "pair": "SOONUSDT",
    "contractType": "PERPETUAL",
    "deliveryDate": 4133404800000,
    "onboardDate": 1700000000000,
    "status": "TRADING",
    "baseAsset": "SOON",
    "quoteAsset": "USDT",
    "marginAsset": "USDT",
    "pricePrecision": 4,
    "quantityPrecision": 0,
    "baseAssetPrecision": 8,
    "quotePrecision": 8,
    "underlyingType": "COIN",
    "triggerProtect": "0.0500",
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.0001",
            "maxPrice": "1000",
            "tickSize": "0.0001",
        },
        {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "1000000", "stepSize": "1"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "1", "maxQty": "100000", "stepSize": "1"},
        {"filterType": "MIN_NOTIONAL", "notional": "5"},
    ],
    "orderTypes": [
        "LIMIT",
        "MARKET",
        "STOP",
        "STOP_MARKET",
        "TAKE_PROFIT",
        "TAKE_PROFIT_MARKET",
        "TRAILING_STOP_MARKET",
    ],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
}


def _json(status: int, obj: Any) -> HttpResponse:
    return HttpResponse(status=status, body=json.dumps(obj, separators=(",", ":")).encode())


def mark_price(tick: int) -> str:
    return str(Decimal("0.8800") + Decimal(tick) * Decimal("0.0001"))


class StubVenue:
    """Implements ``protocol.Venue``. ``requests``: ``(arrival_us, HttpRequest)``;
    ``conns``: every accepted server end, in acceptance order."""

    def __init__(
        self,
        env: simpy.Environment,
        *,
        tape_every_s: int | None = 1,
        answer_pings: bool = True,
        reject_status: int | None = None,
    ) -> None:
        self.env = env
        self.answer_pings = answer_pings
        self.reject_status = reject_status
        self.requests: list[tuple[int, HttpRequest]] = []
        self.conns: list[WsServerSide] = []
        self.texts: list[tuple[int, int, str]] = []  # (arrival_us, conn_id, text)
        self.closed_by_client: list[tuple[int, int]] = []  # (instant_us, conn_id)
        self._streams: dict[int, list[str]] = {}  # conn_id -> subscribed streams
        self._open: dict[int, WsServerSide] = {}
        if tape_every_s is not None:  # None: no tape, so a stuck client is a deadlock
            self._tape_every_us = tape_every_s * 1_000_000
            env.process(self._mark_price_tape())

    @property
    def now_ms(self) -> int:
        return self.env.now // 1000

    # ----------------------------------------------------------------- REST
    def handle_http(self, request: HttpRequest) -> HttpResponse:
        self.requests.append((self.env.now, request))
        route = (request.method, request.path)
        if route == ("GET", "/fapi/v1/time"):
            return _json(200, {"serverTime": self.now_ms})
        if route == ("GET", "/fapi/v1/exchangeInfo"):
            return _json(
                200,
                {
                    "timezone": "UTC",
                    "serverTime": self.now_ms,
                    "rateLimits": [],
                    "exchangeFilters": [],
                    "assets": [],
                    "symbols": [_SYMBOL],
                },
            )
        if request.path == "/fapi/v1/listenKey" and request.method in ("POST", "PUT"):
            return _json(200, {"listenKey": LISTEN_KEY})
        if route == ("DELETE", "/fapi/v1/listenKey"):
            return _json(200, {})
        return _json(
            404, {"code": -1000, "msg": f"stub venue: no route {request.method} {request.path}"}
        )

    # ----------------------------------------------------------------- WebSocket
    def accept_ws(self, conn: WsServerSide) -> None:
        if self.reject_status is not None:
            raise WsRejected(self.reject_status, "stub venue rejects handshakes")
        conn.answer_pings = self.answer_pings
        conn.on_text = lambda text: self._on_text(conn, text)
        conn.on_close = lambda: self._forget(conn, by_client=True)
        self.conns.append(conn)
        self._open[conn.conn_id] = conn
        self._streams[conn.conn_id] = []

    def close(self, conn: WsServerSide, code: int = 1000) -> None:
        """Close from the server side (what Binance does at 24 h, or on maintenance)."""
        self._forget(conn, by_client=False)
        conn.close(code)

    def _forget(self, conn: WsServerSide, *, by_client: bool) -> None:
        self._open.pop(conn.conn_id, None)
        self._streams.pop(conn.conn_id, None)
        if by_client:
            self.closed_by_client.append((self.env.now, conn.conn_id))

    def _on_text(self, conn: WsServerSide, text: str) -> None:
        self.texts.append((self.env.now, conn.conn_id, text))
        message = json.loads(text)
        if message.get("method") == "SUBSCRIBE":
            self._streams[conn.conn_id].extend(message["params"])
            conn.send(json.dumps({"result": None, "id": message["id"]}), "subscribe-ack")

    def _mark_price_tape(self):  # a simpy process
        tick = 0
        while True:
            every_us = self._tape_every_us
            yield self.env.timeout(every_us - self.env.now % every_us)
            tick += 1
            frame = json.dumps(
                {
                    "e": "markPriceUpdate",
                    "E": self.now_ms,
                    "s": "SOONUSDT",
                    "p": mark_price(tick),
                    "ap": mark_price(tick),
                    "P": mark_price(tick),
                    "i": mark_price(tick),
                    "r": "0.00010000",
                    "T": self.now_ms + 3_600_000,
                },
                separators=(",", ":"),
            )
            for conn_id, conn in list(self._open.items()):
                if MARK_STREAM in self._streams.get(conn_id, ()):
                    conn.send(frame, "markPriceUpdate")
