"""FakeBinance: the exchange model, Binance's wire format and its streams, on the run's clock.

This is what the simulated network (``sim.transport``) talks to. A REST request takes effect
when it arrives; the model events it causes go out at once on every user-data connection of
the account (``ORDER_TRADE_UPDATE``, ``ALGO_UPDATE``, ``ACCOUNT_UPDATE``, in the model's
order). The tape drives prices: each point updates the model at its instant, and the mark
price stream (``<symbol>@markPrice@1s``) pushes the current mark on every whole second to its
subscribers. listenKeys expire 60 minutes after their last keepalive; the connections of an
expired key get ``listenKeyExpired`` and nothing after it.

Every request, every refusal and the exchange's ground truth after every change go to the
run's trace. Secrets never do: only routes, codes and ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from sim.exchange.events import Event, OrderUpdated
from sim.exchange.model import Exchange, ExchangeConfig
from sim.exchange.symbols import specs_from_exchange_info
from sim.runtime import Simulation
from sim.tape import TapePoint
from sim.transport.protocol import HttpRequest, HttpResponse, WsRejected, WsServerSide
from sim.wire import render
from sim.wire.auth import Authenticator
from sim.wire.listen_keys import ListenKeys
from sim.wire.params import Params
from sim.wire.rest import RestApi, next_funding_ms

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MARKET_PREFIXES = ("/market/ws", "/public/ws", "/ws", "/stream")


@dataclass(frozen=True, slots=True)
class VenueConfig:
    exchange: ExchangeConfig = field(default_factory=ExchangeConfig)
    api_keys: Mapping[str, str] = field(default_factory=lambda: {"futsim-key": "futsim-secret"})
    symbols: tuple[str, ...] | None = None  # None: every symbol of the exchangeInfo fixture
    exchange_info: Path = FIXTURES / "exchange_info.json"
    leverage_brackets: Path = FIXTURES / "leverage_brackets.json"
    clock_skew_ms: int = 0  # the server's clock minus the true virtual time (for -1021)
    trace_truth: bool = True  # record the ground truth after every change
    trace_prices: bool = True  # record every tape point the model sees


def load_exchange_info(path: Path, symbols: tuple[str, ...] | None) -> dict[str, Any]:
    doc = json.loads(Path(path).read_text())
    if symbols is not None:
        known = {s["symbol"] for s in doc["symbols"]}
        unknown = sorted(set(symbols) - known)
        if unknown:
            raise ValueError(
                f"{path}: no symbol(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        doc["symbols"] = [s for s in doc["symbols"] if s["symbol"] in symbols]
    return doc


class Interceptor(Protocol):
    """A fault on what the venue answers (``sim.nemesis``). ``before`` may answer a request
    instead of the venue (no effect); ``after`` may rewrite an answer (the effect stands)."""

    name: str

    def before(self, request: HttpRequest, now_ms: int) -> HttpResponse | None: ...

    def after(self, request: HttpRequest, response: HttpResponse, now_ms: int) -> HttpResponse: ...


def _about(request: HttpRequest) -> dict[str, str]:
    """The symbol and client id a request is about, for records (never keys or secrets)."""
    params = Params(request.raw_query, request.body)
    client_id = (
        params.text("clientAlgoId")
        or params.text("newClientOrderId")
        or params.text("origClientOrderId")
        or ""
    )
    return {"symbol": params.text("symbol") or "", "client_id": client_id}


def _code_of(response: HttpResponse) -> int:
    try:
        body = json.loads(response.body)
    except ValueError:
        return 0
    return int(body.get("code", 0)) if isinstance(body, dict) else 0


class FakeBinance:
    """The venue of one run. Build it inside the run's setup (before ``sim.run``)."""

    def __init__(self, sim: Simulation, config: VenueConfig | None = None) -> None:
        self.sim = sim
        self.env = sim.env
        self.trace = sim.trace
        self.config = config = config or VenueConfig()
        info = load_exchange_info(config.exchange_info, config.symbols)
        brackets = json.loads(Path(config.leverage_brackets).read_text())
        self.exchange = Exchange(
            specs_from_exchange_info(info), config.exchange, sim.streams["fills"]
        )
        self.listen_keys = ListenKeys(sim.streams["ids"])
        self.rest = RestApi(
            self.exchange, Authenticator(config.api_keys), self.listen_keys, info, brackets
        )
        self._user_conns: dict[int, tuple[str, WsServerSide]] = {}  # conn_id -> (key, conn)
        self._subscriptions: dict[str, dict[int, WsServerSide]] = {}  # stream -> conns
        self._mark_pusher_running = False
        self.interceptors: list[Interceptor] = []

    # ------------------------------------------------------------------ time
    def now_ms(self) -> int:
        return self.env.now // 1000 + self.config.clock_skew_ms

    # ------------------------------------------------------------------ REST
    def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Answer a request at its arrival. Interceptors (faults) may answer first, with no
        effect, or rewrite the answer after the effect; the model never knows."""
        now_ms = self.now_ms()
        for interceptor in list(self.interceptors):
            early = interceptor.before(request, now_ms)
            if early is not None:
                self.trace.record(
                    "venue.rest",
                    request_id=request.request_id,
                    route=f"{request.method} {request.path}",
                    status=early.status,
                    code=_code_of(early),
                    effect=False,
                    fault=interceptor.name,
                    **_about(request),
                )
                return early
        handled = self.rest.handle(request, now_ms)
        response = handled.response
        about = _about(request)
        for interceptor in list(self.interceptors):
            response = interceptor.after(request, response, now_ms)
        self.trace.record(
            "venue.rest",
            request_id=request.request_id,
            route=handled.route,
            status=response.status,
            code=handled.error_code or 0,
            effect=True,
            fault="" if response is handled.response else "rewritten",
            **about,
        )
        if handled.route in ("POST /fapi/v1/listenKey", "PUT /fapi/v1/listenKey") and (
            handled.response.status == 200
        ):
            key = json.loads(handled.response.body)["listenKey"]
            self._schedule_expiry(key)
        self.publish(handled.events)
        return response

    # ------------------------------------------------------------------ prices
    def play(self, tape: Iterable[TapePoint]) -> None:
        """Drive the model from a tape (a simpy process; points at or after the run's
        start are played at their instant)."""
        self.env.process(self._play(list(tape)))

    def _play(self, points: list[TapePoint]):
        for point in points:
            due_us = point.t_ms * 1000
            if due_us > self.env.now:
                yield self.env.timeout(due_us - self.env.now)
            self.set_price(point.symbol, point.mark, point.last)

    def set_price(self, symbol: str, mark, last=None) -> list[Event]:
        """Apply one price point now (also the test control "set the mark price")."""
        if self.config.trace_prices:
            self.trace.record(
                "venue.price",
                symbol=symbol,
                mark=str(mark),
                last=str(mark if last is None else last),
            )
        events = self.exchange.update_price(self.now_ms(), symbol, mark, last)
        self.publish(events)
        return events

    # ------------------------------------------------------------------ user data stream
    def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        if not events:
            return
        now_ms = self.now_ms()
        live = [
            (key, conn)
            for key, conn in self._user_conns.values()
            if self.listen_keys.is_valid(key, now_ms)
        ]
        for event in events:
            payload = render.user_event(event)
            text = json.dumps(payload, separators=(",", ":"))
            for _, conn in live:
                conn.send(text, payload["e"])
            if isinstance(event, OrderUpdated) and event.fill is not None:
                self._record_fill(event)
        if self.config.trace_truth:
            self.trace.record("venue.truth", **self.exchange.truth())

    def _record_fill(self, event: OrderUpdated) -> None:
        order, fill = event.order, event.fill
        self.trace.record(
            "venue.fill",
            symbol=order.symbol,
            side=order.side,
            qty=str(fill.qty),
            price=str(fill.price),
            fee=str(fill.fee),
            realized_pnl=str(fill.realized_pnl),
            order_id=order.order_id,
            client_id=order.client_id,
            orig_type=order.orig_type,
            reduce_only=order.reduce_only or order.close_position,
        )

    def _schedule_expiry(self, key: str) -> None:
        expires_us = self.listen_keys.expires_ms(key) * 1000 - self.config.clock_skew_ms * 1000
        event = self.env.timeout(max(0, expires_us - self.env.now))
        event.callbacks.append(lambda _e: self._announce_expired())

    def _announce_expired(self) -> None:
        now_ms = self.now_ms()
        for key in self.listen_keys.newly_expired(now_ms):
            text = json.dumps(
                {"e": "listenKeyExpired", "E": now_ms, "listenKey": key}, separators=(",", ":")
            )
            for conn_key, conn in list(self._user_conns.values()):
                if conn_key == key:
                    conn.send(text, "listenKeyExpired")
            self.trace.record("venue.listen_key_expired", key_prefix=key[:8])

    def expire_listen_key(self, key: str) -> None:
        """Test control and fault: the key expires now."""
        self.listen_keys.expire(key, self.now_ms())
        self._announce_expired()

    # ------------------------------------------------------------------ WebSocket
    def accept_ws(self, conn: WsServerSide) -> None:
        parts = urlsplit(conn.url)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/private/ws" or (path.startswith("/ws/") and len(path) > 60):
            key = query.get("listenKey", [path.rsplit("/", 1)[-1]])[0]
            if not self.listen_keys.is_valid(key, self.now_ms()):
                raise WsRejected(400, "invalid listenKey")
            self._user_conns[conn.conn_id] = (key, conn)
            conn.on_close = lambda cid=conn.conn_id: self._user_conns.pop(cid, None)
            self.trace.record("venue.ws_open", conn=conn.conn_id, stream="user")
            return
        if path.startswith(MARKET_PREFIXES):
            conn.on_text = lambda text, c=conn: self._on_market_text(c, text)
            conn.on_close = lambda c=conn: self._unsubscribe_all(c)
            self.trace.record("venue.ws_open", conn=conn.conn_id, stream="market")
            return
        raise WsRejected(404, f"no WebSocket route {path}")

    def _on_market_text(self, conn: WsServerSide, text: str) -> None:
        try:
            message = json.loads(text)
            method, params, request_id = message["method"], message.get("params", []), message["id"]
        except (ValueError, KeyError, TypeError):
            conn.send(
                json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}), "error"
            )
            return
        if method == "SUBSCRIBE":
            for stream in params:
                self._subscriptions.setdefault(stream, {})[conn.conn_id] = conn
            self._ensure_mark_pusher()
        elif method == "UNSUBSCRIBE":
            for stream in params:
                self._subscriptions.get(stream, {}).pop(conn.conn_id, None)
        conn.send(
            json.dumps({"result": None, "id": request_id}, separators=(",", ":")), "subscribe-ack"
        )

    def _unsubscribe_all(self, conn: WsServerSide) -> None:
        for conns in self._subscriptions.values():
            conns.pop(conn.conn_id, None)

    def _ensure_mark_pusher(self) -> None:
        if not self._mark_pusher_running:
            self._mark_pusher_running = True
            self.env.process(self._push_marks())

    def _push_marks(self):
        """Every whole second, the current mark of each subscribed symbol; stops when nobody
        listens, so an idle run is not kept alive by it."""
        while any(self._subscriptions.values()):
            yield self.env.timeout(1_000_000 - self.env.now % 1_000_000)
            now_ms = self.now_ms()
            for stream, conns in sorted(self._subscriptions.items()):
                if not conns or "@markprice" not in stream.lower():
                    continue
                symbol = stream.split("@", 1)[0].upper()
                mark = self.exchange.mark(symbol)
                if mark is None:
                    continue
                text = json.dumps(
                    render.mark_price_update(symbol, mark, now_ms, next_funding_ms(now_ms)),
                    separators=(",", ":"),
                )
                for conn in list(conns.values()):
                    conn.send(text, "markPriceUpdate")
        self._mark_pusher_running = False
