"""Binance's REST API over the exchange model: one handler per endpoint ccxt 4.5.90 calls.

:meth:`RestApi.handle` takes a request as it arrived and the server's time, and returns the
HTTP answer plus the model events the request caused (for the user data stream). Security as
Binance: public endpoints need nothing, listenKey endpoints an API key, the rest a signed
request (:mod:`sim.wire.auth`). An unknown path answers 404 with a non-JSON body, as a real
web server would; ccxt then raises ``ExchangeNotAvailable``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.exchange import errors
from sim.exchange.errors import BinanceError
from sim.exchange.events import Event, OrderUpdated
from sim.exchange.model import AlgoRequest, Exchange, OrderRequest
from sim.transport.protocol import HttpRequest, HttpResponse
from sim.wire import render
from sim.wire.auth import Authenticator
from sim.wire.listen_keys import ListenKeys
from sim.wire.params import Params

JSON_HEADERS = {"Content-Type": "application/json"}
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
NONE, USER_STREAM, SIGNED = "NONE", "USER_STREAM", "SIGNED"

Body = dict[str, Any] | list[Any]
Handler = Callable[[Params, int], tuple[Body, Sequence[Event]]]


@dataclass(frozen=True, slots=True)
class Handled:
    response: HttpResponse
    events: tuple[Event, ...]
    route: str  # "POST /fapi/v1/order", or "404"
    error_code: int | None  # Binance's code when the request was refused


def error_response(err: BinanceError) -> HttpResponse:
    body = json.dumps({"code": err.code, "msg": err.msg}, separators=(",", ":"))
    return HttpResponse(err.status, body.encode(), JSON_HEADERS, "Bad Request")


def next_funding_ms(now_ms: int) -> int:
    return (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS


class RestApi:
    def __init__(
        self,
        exchange: Exchange,
        auth: Authenticator,
        listen_keys: ListenKeys,
        exchange_info: Mapping[str, Any],
        leverage_brackets: Sequence[Mapping],
    ) -> None:
        self.exchange = exchange
        self.auth = auth
        self.listen_keys = listen_keys
        self._exchange_info = exchange_info
        self._brackets = {b["symbol"]: b for b in leverage_brackets}
        self._routes: dict[tuple[str, str], tuple[str, Handler]] = {}
        self._api_key = ""  # of the request being handled
        ex = self
        for method, paths, security, handler in (
            ("GET", ("/fapi/v1/ping",), NONE, lambda p, t: ({}, ())),
            ("GET", ("/fapi/v1/time",), NONE, lambda p, t: ({"serverTime": t}, ())),
            ("GET", ("/fapi/v1/exchangeInfo",), NONE, ex._exchange_info_body),
            ("GET", ("/fapi/v1/premiumIndex",), NONE, ex._premium_index),
            ("GET", ("/fapi/v1/ticker/24hr",), NONE, ex._ticker_24hr),
            ("GET", ("/fapi/v1/ticker/price", "/fapi/v2/ticker/price"), NONE, ex._ticker_price),
            ("GET", ("/fapi/v1/leverageBracket",), SIGNED, ex._leverage_bracket),
            ("POST", ("/fapi/v1/leverage",), SIGNED, ex._set_leverage),
            (
                "GET",
                ("/fapi/v1/positionSide/dual",),
                SIGNED,
                lambda p, t: ({"dualSidePosition": False}, ()),
            ),
            ("POST", ("/fapi/v1/positionSide/dual",), SIGNED, ex._set_position_mode),
            ("GET", ("/fapi/v3/account", "/fapi/v2/account"), SIGNED, ex._account),
            ("GET", ("/fapi/v3/balance", "/fapi/v2/balance"), SIGNED, ex._balance),
            ("GET", ("/fapi/v3/positionRisk",), SIGNED, ex._position_risk_v3),
            ("GET", ("/fapi/v2/positionRisk",), SIGNED, ex._position_risk_v2),
            ("POST", ("/fapi/v1/order",), SIGNED, ex._new_order),
            ("GET", ("/fapi/v1/order",), SIGNED, ex._query_order),
            ("DELETE", ("/fapi/v1/order",), SIGNED, ex._cancel_order),
            ("PUT", ("/fapi/v1/order",), SIGNED, ex._modify_order),
            ("GET", ("/fapi/v1/openOrders",), SIGNED, ex._open_orders),
            ("GET", ("/fapi/v1/allOrders",), SIGNED, ex._all_orders),
            ("DELETE", ("/fapi/v1/allOpenOrders",), SIGNED, ex._cancel_all_orders),
            ("POST", ("/fapi/v1/batchOrders",), SIGNED, ex._batch_orders),
            ("POST", ("/fapi/v1/algoOrder",), SIGNED, ex._new_algo_order),
            ("GET", ("/fapi/v1/algoOrder",), SIGNED, ex._query_algo_order),
            ("DELETE", ("/fapi/v1/algoOrder",), SIGNED, ex._cancel_algo_order),
            ("GET", ("/fapi/v1/openAlgoOrders",), SIGNED, ex._open_algo_orders),
            ("DELETE", ("/fapi/v1/algoOpenOrders",), SIGNED, ex._cancel_all_algo_orders),
            ("GET", ("/fapi/v1/allAlgoOrders",), SIGNED, ex._all_algo_orders),
            ("POST", ("/fapi/v1/listenKey",), USER_STREAM, ex._listen_key_create),
            ("PUT", ("/fapi/v1/listenKey",), USER_STREAM, ex._listen_key_keepalive),
            ("DELETE", ("/fapi/v1/listenKey",), USER_STREAM, ex._listen_key_delete),
        ):
            for path in paths:
                self._routes[(method, path)] = (security, handler)

    def routes(self) -> list[str]:
        return [f"{m} {p}" for m, p in self._routes]

    # ---------------------------------------------------------------- dispatch
    def handle(self, request: HttpRequest, now_ms: int) -> Handled:
        route = self._routes.get((request.method, request.path))
        if route is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            return Handled(
                HttpResponse(404, body, {"Content-Type": "text/html"}, "Not Found"), (), "404", None
            )
        name = f"{request.method} {request.path}"
        security, handler = route
        try:
            params = Params(request.raw_query, request.body)
            if security == SIGNED:
                self._api_key = self.auth.verify_signed(
                    request.headers, request.raw_query, request.body, params, now_ms
                )
            elif security == USER_STREAM:
                self._api_key = self.auth.api_key(request.headers)
            body, events = handler(params, now_ms)
        except BinanceError as err:
            return Handled(error_response(err), (), name, err.code)
        text = json.dumps(body, separators=(",", ":"))
        return Handled(
            HttpResponse(200, text.encode(), JSON_HEADERS, "OK"), tuple(events), name, None
        )

    # ---------------------------------------------------------------- market data
    def _exchange_info_body(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        info = copy.deepcopy(dict(self._exchange_info))
        info["serverTime"] = now_ms
        return info, ()

    def _symbols(self, p: Params) -> list[str]:
        symbol = p.text("symbol")
        if symbol is not None:
            self.exchange.spec(symbol)
            return [symbol]
        return sorted(s for s in self.exchange.specs if self.exchange.mark(s) is not None)

    def _premium_index(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        rows = [
            render.premium_index(s, self.exchange.mark(s) or 0, now_ms, next_funding_ms(now_ms))
            for s in self._symbols(p)
        ]
        return (rows[0] if "symbol" in p else rows), ()

    def _ticker_24hr(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        rows = []
        for symbol in self._symbols(p):
            last = render.dec(self.exchange.last(symbol) or 0)
            rows.append(
                {
                    "symbol": symbol,
                    "priceChange": "0",
                    "priceChangePercent": "0",
                    "weightedAvgPrice": last,
                    "lastPrice": last,
                    "lastQty": "0",
                    "openPrice": last,
                    "highPrice": last,
                    "lowPrice": last,
                    "volume": "0",
                    "quoteVolume": "0",
                    "openTime": now_ms - 86_400_000,
                    "closeTime": now_ms,
                    "firstId": 0,
                    "lastId": 0,
                    "count": 0,
                }
            )
        return (rows[0] if "symbol" in p else rows), ()

    def _ticker_price(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        rows = [
            {"symbol": s, "price": render.dec(self.exchange.last(s) or 0), "time": now_ms}
            for s in self._symbols(p)
        ]
        return (rows[0] if "symbol" in p else rows), ()

    # ---------------------------------------------------------------- account
    def _leverage_bracket(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbols = self._symbols(p) if "symbol" in p else sorted(self._brackets)
        rows = [self._brackets[s] for s in symbols if s in self._brackets]
        return (rows[0] if "symbol" in p and rows else rows), ()

    def _set_leverage(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol = p.required("symbol")
        leverage = p.integer("leverage")
        if leverage is None:
            raise errors.mandatory_missing("leverage")
        self.exchange.set_leverage(now_ms, symbol, leverage)
        cap = "0"
        for bracket in self._brackets.get(symbol, {}).get("brackets", []):
            if bracket["initialLeverage"] >= leverage:
                cap = str(bracket["notionalCap"])
        return {"leverage": leverage, "maxNotionalValue": cap, "symbol": symbol}, ()

    def _set_position_mode(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        if p.boolean("dualSidePosition"):
            raise BinanceError(-4061, "Order's position side does not match user's setting.")
        raise BinanceError(-4059, "No need to change position side.")

    def _account(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        return render.account(self.exchange, now_ms), ()

    def _balance(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        asset = render.account(self.exchange, now_ms)["assets"][0]
        return [
            {
                "accountAlias": "futsim",
                "asset": asset["asset"],
                "balance": asset["walletBalance"],
                "crossWalletBalance": asset["crossWalletBalance"],
                "crossUnPnl": asset["crossUnPnl"],
                "availableBalance": asset["availableBalance"],
                "maxWithdrawAmount": asset["maxWithdrawAmount"],
                "marginAvailable": True,
                "updateTime": asset["updateTime"],
            }
        ], ()

    def _position_risk_v3(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        """Only symbols with a position or open orders (§6.7)."""
        ex = self.exchange
        with_orders = {o.symbol for o in ex.open_orders()} | {
            a.symbol for a in ex.open_algo_orders()
        }
        rows = [
            render.position_risk(ex, s)
            for s in self._symbols(p)
            if ex.account.position(s).amount or s in with_orders
        ]
        return rows, ()

    def _position_risk_v2(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        ex = self.exchange
        rows = []
        for symbol in self._symbols(p):
            row = render.position_risk(ex, symbol)
            row.update(
                {
                    "marginType": "cross",
                    "isAutoAddMargin": "false",
                    "leverage": str(ex.account.leverage_of(symbol)),
                    "maxNotionalValue": "0",
                }
            )
            rows.append(row)
        return rows, ()

    # ---------------------------------------------------------------- orders
    @staticmethod
    def _order_request(p: Params) -> OrderRequest:
        return OrderRequest(
            symbol=p.required("symbol"),
            side=p.required("side"),
            type=p.required("type"),
            quantity=p.decimal("quantity"),
            price=p.decimal("price"),
            time_in_force=p.text("timeInForce"),
            reduce_only=p.boolean("reduceOnly"),
            client_id=p.text("newClientOrderId"),
        )

    def _new_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        order, events = self.exchange.place_order(now_ms, self._order_request(p))
        if p.text("newOrderRespType", "ACK") == "ACK":
            placed = next(e.order for e in events if isinstance(e, OrderUpdated))
            return render.order(placed), events
        return render.order(order), events

    def _batch_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        try:
            items = json.loads(p.required("batchOrders"))
        except json.JSONDecodeError:
            raise errors.mandatory_missing("batchOrders") from None
        if not isinstance(items, list) or not 1 <= len(items) <= 5:
            raise errors.illegal_value("batchOrders")
        results: list[Any] = []
        events: list[Event] = []
        for item in items:
            fields = "&".join(f"{k}={v}" for k, v in item.items())
            try:
                order, caused = self.exchange.place_order(
                    now_ms, self._order_request(Params(fields, b""))
                )
            except BinanceError as err:
                results.append({"code": err.code, "msg": err.msg})
                continue
            results.append(render.order(order))
            events += caused
        return results, events

    def _order_ref(self, p: Params) -> tuple[str, int | None, str | None]:
        symbol = p.required("symbol")
        order_id, client_id = p.integer("orderId"), p.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise errors.mandatory_missing("orderId")
        return symbol, order_id, client_id

    def _query_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        return render.order(self.exchange.find_order(*self._order_ref(p))), ()

    def _cancel_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        order, events = self.exchange.cancel_order(now_ms, *self._order_ref(p))
        return render.order(order), events

    def _modify_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol, order_id, client_id = self._order_ref(p)
        quantity, price = p.decimal("quantity"), p.decimal("price")
        if quantity is None:
            raise errors.mandatory_missing("quantity")
        if price is None:
            raise errors.mandatory_missing("price")
        order, events = self.exchange.modify_order(
            now_ms, symbol, order_id, client_id, p.required("side"), quantity, price
        )
        return render.order(order), events

    def _open_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol = p.text("symbol")
        if symbol is not None:
            self.exchange.spec(symbol)
        return [render.order(o) for o in self.exchange.open_orders(symbol)], ()

    def _all_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol = p.required("symbol")
        self.exchange.spec(symbol)
        return [render.order(o) for o in self.exchange.orders.values() if o.symbol == symbol], ()

    def _cancel_all_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        events = self.exchange.cancel_all_orders(now_ms, p.required("symbol"))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}, events

    # ---------------------------------------------------------------- algo orders
    def _new_algo_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        if p.required("algoType") != "CONDITIONAL":
            raise errors.illegal_value("algoType")
        request = AlgoRequest(
            symbol=p.required("symbol"),
            side=p.required("side"),
            type=p.required("type"),
            quantity=p.decimal("quantity"),
            price=p.decimal("price"),
            trigger_price=p.decimal("triggerPrice"),
            working_type=p.text("workingType", "CONTRACT_PRICE"),
            price_protect=p.boolean("priceProtect"),
            close_position=p.boolean("closePosition"),
            reduce_only=p.boolean("reduceOnly"),
            activate_price=p.decimal("activatePrice"),
            callback_rate=p.decimal("callbackRate"),
            time_in_force=p.text("timeInForce", "GTC"),
            client_algo_id=p.text("clientAlgoId"),
        )
        algo, events = self.exchange.place_algo_order(now_ms, request)
        return render.algo_order(algo), events

    def _algo_ref(self, p: Params) -> tuple[int | None, str | None]:
        algo_id, client_id = p.integer("algoId"), p.text("clientAlgoId")
        if algo_id is None and client_id is None:
            raise errors.mandatory_missing("algoId")
        return algo_id, client_id

    def _query_algo_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        algo = self.exchange.find_algo(*self._algo_ref(p))
        child = self.exchange.orders.get(algo.actual_order_id or -1)
        return render.algo_order(algo, with_actual=True, child=child), ()

    def _cancel_algo_order(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        algo, events = self.exchange.cancel_algo_order(now_ms, *self._algo_ref(p))
        return {
            "algoId": algo.algo_id,
            "clientAlgoId": algo.client_algo_id,
            "code": "200",
            "msg": "success",
        }, events

    def _open_algo_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol = p.text("symbol")
        if symbol is not None:
            self.exchange.spec(symbol)
        return [render.algo_order(a) for a in self.exchange.open_algo_orders(symbol)], ()

    def _cancel_all_algo_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        events = self.exchange.cancel_all_algo_orders(now_ms, p.required("symbol"))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}, events

    def _all_algo_orders(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        symbol = p.required("symbol")
        self.exchange.spec(symbol)
        return [
            render.algo_order(a) for a in self.exchange.algos.values() if a.symbol == symbol
        ], ()

    # ---------------------------------------------------------------- listen keys
    def _listen_key_create(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        return {"listenKey": self.listen_keys.create(self._api_key, now_ms)}, ()

    def _listen_key_keepalive(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        return {"listenKey": self.listen_keys.keepalive(self._api_key, now_ms)}, ()

    def _listen_key_delete(self, p: Params, now_ms: int) -> tuple[Body, Sequence[Event]]:
        self.listen_keys.delete(self._api_key, now_ms)
        return {}, ()
