"""The exchange: Binance USDⓈ-M's order, algo-order, trigger and account rules.

Every method takes the virtual time ``t_ms`` and returns the events the change caused, in the
order Binance pushes them; nothing here schedules, sleeps or reads a clock. Requests that
break a rule raise :class:`~sim.exchange.errors.BinanceError` with Binance's code and message
and change nothing.

What is modelled: one-way mode, USDT cross margin, unlimited liquidity at the tape's prices
(market orders fill whole, at the contract price plus seeded adverse slippage that never
leaves the range the tape covered since its previous point; resting limits fill whole at
their price once the contract price crosses it). Not modelled: partial fills, an order book,
funding, liquidation, hedge mode, GTD.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from sim.exchange import errors
from sim.exchange.account import Account
from sim.exchange.events import (
    AccountUpdated,
    AlgoUpdated,
    Event,
    Fill,
    OrderUpdated,
)
from sim.exchange.orders import (
    CONDITIONAL_TYPES,
    REGULAR_TYPES,
    TIME_IN_FORCE,
    WORKING_TYPES,
    AlgoOrder,
    Order,
    advance_algo,
    advance_order,
)
from sim.exchange.symbols import SymbolSpec
from sim.exchange.triggers import fires, track_trailing, would_fire_on_placement

ZERO = Decimal(0)
CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
IMMEDIATE_TRIGGER_POLICIES = ("reject", "reject_4142", "accept_and_fire")


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    asset: str = "USDT"
    initial_wallet: Decimal = Decimal("10000")
    default_leverage: int = 20
    maker_fee_rate: Decimal = Decimal("0.0002")  # VIP 0
    taker_fee_rate: Decimal = Decimal("0.0005")
    # What a new stop that would trigger at once gets. Binance's algo service is not
    # documented on this (binance-usdm.md §15, item 1): -2021, -4142, or accepted and fired.
    immediate_trigger: str = "reject"
    slippage_ticks_max: int = 0  # adverse ticks drawn per market fill, 0..max
    # One open closePosition stop per symbol, side and type: a second is refused with -4130.
    # Reported by many public bots on the live venue (one: refused 15/15 over 8 days), not
    # in Binance's documentation snapshot; False models the documented-only venue.
    close_position_exclusive: bool = True
    max_open_algo_orders: int = 200  # across all symbols (change log 2025-12-29)
    first_order_id: int = 8_000_000_001
    first_algo_id: int = 4_000_001

    def __post_init__(self) -> None:
        if self.immediate_trigger not in IMMEDIATE_TRIGGER_POLICIES:
            raise ValueError(
                f"immediate_trigger must be one of {IMMEDIATE_TRIGGER_POLICIES}, "
                f"got {self.immediate_trigger!r}"
            )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    reduce_only: bool = False
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class AlgoRequest:
    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False
    close_position: bool = False
    reduce_only: bool = False
    activate_price: Decimal | None = None
    callback_rate: Decimal | None = None
    time_in_force: str = "GTC"
    client_algo_id: str | None = None


@dataclass(slots=True)
class _Prices:
    mark: Decimal
    last: Decimal
    prev_last: Decimal
    t_ms: int

    def working(self, working_type: str) -> Decimal:
        return self.mark if working_type == "MARK_PRICE" else self.last


class Exchange:
    """The fake Binance's state and rules. One instance per run."""

    def __init__(
        self, specs: Mapping[str, SymbolSpec], config: ExchangeConfig, rng: random.Random
    ) -> None:
        self.specs = dict(specs)
        self.config = config
        self._rng = rng
        self.account = Account(
            asset=config.asset,
            wallet=config.initial_wallet,
            default_leverage=config.default_leverage,
            maker_fee_rate=config.maker_fee_rate,
            taker_fee_rate=config.taker_fee_rate,
        )
        self._prices: dict[str, _Prices] = {}
        self.orders: dict[int, Order] = {}
        self.algos: dict[int, AlgoOrder] = {}
        self._open_orders: dict[int, None] = {}  # ordered sets: insertion = id order
        self._open_algos: dict[int, None] = {}
        self._held_symbols: dict[str, None] = {}  # triggers held in TRIGGERING
        self._next_order_id = config.first_order_id
        self._next_algo_id = config.first_algo_id
        self._next_trade_id = 1

    # ------------------------------------------------------------------ lookups
    def spec(self, symbol: str) -> SymbolSpec:
        spec = self.specs.get(symbol)
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    def mark(self, symbol: str) -> Decimal | None:
        prices = self._prices.get(symbol)
        return prices.mark if prices else None

    def last(self, symbol: str) -> Decimal | None:
        prices = self._prices.get(symbol)
        return prices.last if prices else None

    def price_time_ms(self, symbol: str) -> int:
        prices = self._prices.get(symbol)
        return prices.t_ms if prices else 0

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open regular orders (of ``symbol``, or all), oldest first."""
        orders = (self.orders[i] for i in self._open_orders)
        return [o for o in orders if symbol is None or o.symbol == symbol]

    def open_algo_orders(self, symbol: str | None = None) -> list[AlgoOrder]:
        """Open algo orders (NEW or TRIGGERING; of ``symbol``, or all), oldest first."""
        algos = (self.algos[i] for i in self._open_algos)
        return [a for a in algos if symbol is None or a.symbol == symbol]

    def find_order(self, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        """``orderId`` wins when both are given; -2013 when there is no such order."""
        self.spec(symbol)
        if order_id is not None:
            order = self.orders.get(order_id)
        else:
            order = next(
                (o for o in reversed(self.orders.values()) if o.client_id == client_id), None
            )
        if order is None or order.symbol != symbol:
            raise errors.no_such_order()
        return order

    def find_algo(self, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder:
        if algo_id is not None:
            algo = self.algos.get(algo_id)
        else:
            algo = next(
                (a for a in reversed(self.algos.values()) if a.client_algo_id == client_algo_id),
                None,
            )
        if algo is None:
            raise errors.no_such_order()
        return algo

    def _marks(self) -> dict[str, Decimal]:
        return {s: p.mark for s, p in self._prices.items()}

    def _prices_of(self, symbol: str) -> _Prices:
        prices = self._prices.get(symbol)
        if prices is None:
            raise ValueError(
                f"{symbol} has no price yet: the scenario's tape must start before any order"
            )
        return prices

    # ------------------------------------------------------------------ account
    def set_leverage(self, t_ms: int, symbol: str, leverage: int) -> int:
        spec = self.spec(symbol)
        if not 1 <= leverage <= spec.max_leverage:
            raise errors.leverage_invalid()
        self.account.leverage[symbol] = leverage
        return leverage

    # ------------------------------------------------------------------ prices
    def update_price(
        self, t_ms: int, symbol: str, mark: Decimal, last: Decimal | None = None
    ) -> list[Event]:
        """A new tape point: fills resting limits, tracks and fires algo orders."""
        self.spec(symbol)
        last = mark if last is None else last
        prices = self._prices.get(symbol)
        if prices is None:
            self._prices[symbol] = _Prices(mark, last, last, t_ms)
            return []
        prices.prev_last, prices.last, prices.mark, prices.t_ms = prices.last, last, mark, t_ms
        events: list[Event] = []
        for order_id in list(self._open_orders):
            order = self.orders[order_id]
            if (
                order.symbol == symbol
                and order.type == "LIMIT"
                and self._limit_crossed(order.side, order.price, last)
            ):
                events += self._fill(t_ms, order, order.price, maker=True)
        for algo_id in list(self._open_algos):
            algo = self.algos[algo_id]
            if algo.symbol == symbol and algo.status == "NEW":
                events += self._evaluate(t_ms, algo)
        return events

    @staticmethod
    def _limit_crossed(side: str, price: Decimal, last: Decimal) -> bool:
        return last <= price if side == "BUY" else last >= price

    def _market_fill_price(self, symbol: str, side: str) -> Decimal:
        """The contract price, moved against the taker by 0..slippage_ticks_max ticks, but
        never beyond the range the tape covered since its previous point."""
        prices, tick = self._prices_of(symbol), self.specs[symbol].tick_size
        ticks = self._rng.randint(0, self.config.slippage_ticks_max)
        low, high = sorted((prices.prev_last, prices.last))
        if side == "BUY":
            return min(prices.last + ticks * tick, max(high, prices.last))
        return max(prices.last - ticks * tick, min(low, prices.last))

    # ------------------------------------------------------------------ regular orders
    def place_order(self, t_ms: int, req: OrderRequest) -> tuple[Order, list[Event]]:
        spec = self.spec(req.symbol)
        if req.type in CONDITIONAL_TYPES:
            raise errors.use_algo_endpoint()
        if req.type not in REGULAR_TYPES:
            raise errors.illegal_value("orderType")
        if req.side not in ("BUY", "SELL"):
            raise errors.illegal_value("side")
        if req.quantity is None:
            raise errors.mandatory_missing("quantity")
        spec.check_quantity(req.quantity, market=req.type == "MARKET")
        tif = req.time_in_force
        if req.type == "LIMIT":
            if req.price is None:
                raise errors.mandatory_missing("price")
            if tif is None:
                raise errors.mandatory_missing("timeInForce")
            if tif not in TIME_IN_FORCE:
                raise errors.illegal_value("timeInForce")
            spec.check_price(req.price)
        client_id = self._client_id(
            req.client_id, self.open_orders(), "client_id", default=f"futsim-o{self._next_order_id}"
        )
        prices = self._prices_of(req.symbol)
        reference = req.price if req.type == "LIMIT" else prices.last
        position = self.account.position(req.symbol).amount
        if req.reduce_only:
            reducing = (position > 0 and req.side == "SELL") or (position < 0 and req.side == "BUY")
            if not reducing:
                raise errors.reduce_only_rejected()
        else:
            spec.check_notional(req.quantity, reference)
            self._check_margin(req.symbol, req.side, req.quantity, reference)
        if len(self.open_orders(req.symbol)) >= spec.max_open_orders:
            raise errors.max_open_orders()
        marketable = req.type == "MARKET" or self._limit_crossed(req.side, req.price, prices.last)
        if req.type == "LIMIT" and tif == "GTX" and marketable:
            raise errors.post_only_rejected()
        if req.type == "LIMIT" and tif == "FOK" and not marketable:
            raise errors.fok_not_filled()
        order = Order(
            order_id=self._take_order_id(),
            client_id=client_id,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            orig_type=req.type,
            time_in_force=tif or "GTC",
            quantity=req.quantity,
            price=req.price if req.type == "LIMIT" else ZERO,
            reduce_only=req.reduce_only,
            close_position=False,
            status="NEW",
            create_ms=t_ms,
            update_ms=t_ms,
        )
        return self._accept(t_ms, order, marketable)

    def _accept(self, t_ms: int, order: Order, marketable: bool) -> tuple[Order, list[Event]]:
        """A new order enters the book: filled at once if marketable, else rests (GTC) or
        expires (IOC). Returns the order as it stands after this instant."""
        self.orders[order.order_id] = order
        self._open_orders[order.order_id] = None
        events: list[Event] = [OrderUpdated(t_ms, order, "NEW")]
        if marketable:
            price = (
                self._market_fill_price(order.symbol, order.side)
                if order.type == "MARKET"
                else self.last(order.symbol)
            )
            events += self._fill(t_ms, order, price, maker=False)
        elif order.time_in_force == "IOC":
            events += self._expire(t_ms, order, expiry_reason=2)
        return self.orders[order.order_id], events

    def _fill(self, t_ms: int, order: Order, price: Decimal, *, maker: bool) -> list[Event]:
        qty = order.quantity
        if order.reduce_only or order.close_position:
            position = self.account.position(order.symbol).amount
            still_reduces = (position > 0 and order.side == "SELL") or (
                position < 0 and order.side == "BUY"
            )
            qty = min(qty, abs(position)) if still_reduces else ZERO
            if order.close_position and still_reduces:
                qty = abs(position)
            if qty == 0:
                return self._expire(t_ms, order, expiry_reason=0)
        outcome = self.account.apply_fill(t_ms, order.symbol, order.side, qty, price, maker=maker)
        trade_id, self._next_trade_id = self._next_trade_id, self._next_trade_id + 1
        # A reduce-only or closePosition order is cut to the position it reduces.
        filled = advance_order(
            order,
            "FILLED",
            t_ms,
            executed_qty=qty,
            cum_quote=qty * price,
            avg_price=price,
            quantity=qty,
        )
        self.orders[order.order_id] = filled
        self._open_orders.pop(order.order_id, None)
        fill = Fill(trade_id, qty, price, outcome.fee, outcome.realized_pnl, maker)
        events: list[Event] = [
            OrderUpdated(t_ms, filled, "TRADE", fill),
            AccountUpdated(
                t_ms,
                "ORDER",
                (self.account.balance_state(),),
                (self.account.position_state(order.symbol, self.mark(order.symbol)),),
            ),
        ]
        if filled.algo_id is not None:
            events += self._finish_algo(t_ms, filled.algo_id)
        return events

    def _expire(self, t_ms: int, order: Order, *, expiry_reason: int) -> list[Event]:
        expired = advance_order(order, "EXPIRED", t_ms)
        self.orders[order.order_id] = expired
        self._open_orders.pop(order.order_id, None)
        events: list[Event] = [OrderUpdated(t_ms, expired, "EXPIRED", None, expiry_reason)]
        if expired.algo_id is not None:
            events += self._finish_algo(t_ms, expired.algo_id)
        return events

    def cancel_order(
        self, t_ms: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> tuple[Order, list[Event]]:
        try:
            order = self.find_order(symbol, order_id, client_id)
        except errors.BinanceError:
            raise errors.unknown_order() from None
        if not order.is_open:
            raise errors.unknown_order()
        cancelled = advance_order(order, "CANCELED", t_ms)
        self.orders[order.order_id] = cancelled
        self._open_orders.pop(order.order_id, None)
        return cancelled, [OrderUpdated(t_ms, cancelled, "CANCELED")]

    def modify_order(
        self,
        t_ms: int,
        symbol: str,
        order_id: int | None,
        client_id: str | None,
        side: str,
        quantity: Decimal,
        price: Decimal,
    ) -> tuple[Order, list[Event]]:
        """``PUT /fapi/v1/order``: only an open LIMIT order; a modified order that now
        crosses the price fills at once (binance-usdm.md §4.1)."""
        order = self.find_order(symbol, order_id, client_id)
        if order.type != "LIMIT":
            raise errors.limit_order_only()
        if not order.is_open:
            raise errors.no_such_order()
        if side != order.side:
            raise errors.illegal_value("side")
        spec = self.specs[symbol]
        spec.check_quantity(quantity, market=False)
        spec.check_price(price)
        if quantity == order.quantity and price == order.price:
            raise errors.same_order()
        amended = replace(order, quantity=quantity, price=price, update_ms=t_ms)
        self.orders[order.order_id] = amended
        events: list[Event] = [OrderUpdated(t_ms, amended, "AMENDMENT")]
        last = self._prices_of(symbol).last
        if self._limit_crossed(side, price, last):
            events += self._fill(t_ms, amended, last, maker=False)
        return self.orders[order.order_id], events

    def cancel_all_orders(self, t_ms: int, symbol: str) -> list[Event]:
        self.spec(symbol)
        events: list[Event] = []
        for order in self.open_orders(symbol):
            events += self.cancel_order(t_ms, symbol, order.order_id, None)[1]
        return events

    def _check_margin(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> None:
        """-2019 when the part of an order that opens or grows a position needs more initial
        margin than is available."""
        position = self.account.position(symbol).amount
        signed = qty if side == "BUY" else -qty
        opening = (
            qty
            if position == 0 or (position > 0) == (signed > 0)
            else max(ZERO, qty - abs(position))
        )
        if opening == 0:
            return
        open_order_margin = sum(
            (
                o.quantity * o.price / self.account.leverage_of(o.symbol)
                for o in self.open_orders()
                if o.type == "LIMIT" and not o.reduce_only
            ),
            ZERO,
        )
        need = opening * price / self.account.leverage_of(symbol)
        if need > self.account.available(self._marks(), open_order_margin):
            raise errors.margin_insufficient()

    @staticmethod
    def _client_id(given: str | None, open_items: list, attr: str, *, default: str) -> str:
        """Binance's rules: the pattern, and unique among open orders. Binance makes up an
        id when none is sent; here it is derived from the order id, so runs replay."""
        if given is None:
            return default
        if not CLIENT_ID.match(given):
            raise errors.invalid_client_id()
        if any(getattr(item, attr) == given for item in open_items):
            raise errors.duplicate_client_id()
        return given

    def _take_order_id(self) -> int:
        order_id, self._next_order_id = self._next_order_id, self._next_order_id + 1
        return order_id

    # ------------------------------------------------------------------ algo orders
    def place_algo_order(self, t_ms: int, req: AlgoRequest) -> tuple[AlgoOrder, list[Event]]:
        spec = self.spec(req.symbol)
        algo = self._validate_algo(t_ms, spec, req)
        prices = self._prices_of(req.symbol)
        latest = prices.working(algo.working_type)
        if algo.order_type == "TRAILING_STOP_MARKET" and algo.activate_price is None:
            algo = replace(algo, activated=True, extreme=latest)
        policy = self.config.immediate_trigger
        immediate = would_fire_on_placement(algo, latest)
        if (
            immediate
            and algo.order_type == "TRAILING_STOP_MARKET"
            and policy == ("accept_and_fire")
        ):
            algo, immediate = replace(algo, activated=True, extreme=latest), False
        if immediate and policy == "reject":
            raise errors.would_trigger_immediately()
        if immediate and policy == "reject_4142":
            raise errors.stop_triggered_immediately()
        self._next_algo_id += 1
        self.algos[algo.algo_id] = algo
        self._open_algos[algo.algo_id] = None
        events: list[Event] = [AlgoUpdated(t_ms, algo)]
        if immediate:  # policy "accept_and_fire": the order fires at once
            events += self._trigger(t_ms, algo)
        return algo, events

    def _validate_algo(self, t_ms: int, spec: SymbolSpec, req: AlgoRequest) -> AlgoOrder:
        if req.type not in CONDITIONAL_TYPES:
            raise errors.illegal_value("orderType")
        if req.side not in ("BUY", "SELL"):
            raise errors.illegal_value("side")
        if req.working_type not in WORKING_TYPES:
            raise errors.illegal_value("workingType")
        if req.time_in_force not in TIME_IN_FORCE:
            raise errors.illegal_value("timeInForce")
        trailing = req.type == "TRAILING_STOP_MARKET"
        if req.close_position:
            if req.type not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
                raise errors.not_required("closePosition")
            if req.quantity is not None:
                raise errors.not_required("quantity")
            if req.reduce_only:
                raise errors.not_required("reduceOnly")
        elif req.quantity is None:
            raise errors.mandatory_missing("quantity")
        else:
            spec.check_quantity(req.quantity, market=req.type.endswith("MARKET"))
        if trailing:
            if req.callback_rate is None:
                raise errors.mandatory_missing("callbackRate")
            if not Decimal("0.1") <= req.callback_rate <= Decimal(20):
                raise errors.illegal_value("callbackRate")
            if req.activate_price is not None:
                spec.check_price(req.activate_price)
        else:
            if req.trigger_price is None:
                raise errors.mandatory_missing("triggerPrice")
            spec.check_price(req.trigger_price)
        if req.type in ("STOP", "TAKE_PROFIT"):
            if req.price is None:
                raise errors.mandatory_missing("price")
            spec.check_price(req.price)
        if req.quantity is not None and not req.reduce_only:
            spec.check_notional(
                req.quantity, req.price or req.trigger_price or self._prices_of(req.symbol).last
            )
        if (
            req.close_position
            and self.config.close_position_exclusive
            and any(
                a.close_position and a.side == req.side and a.order_type == req.type
                for a in self.open_algo_orders(req.symbol)
            )
        ):
            raise errors.close_position_exists()
        if len(self._open_algos) >= self.config.max_open_algo_orders:
            raise errors.max_stop_orders()
        client_id = self._client_id(
            req.client_algo_id,
            self.open_algo_orders(),
            "client_algo_id",
            default=f"futsim-a{self._next_algo_id}",
        )
        return AlgoOrder(
            algo_id=self._next_algo_id,
            client_algo_id=client_id,
            symbol=req.symbol,
            side=req.side,
            order_type=req.type,
            time_in_force=req.time_in_force,
            quantity=req.quantity if req.quantity is not None else ZERO,
            price=req.price if req.type in ("STOP", "TAKE_PROFIT") else ZERO,
            trigger_price=ZERO if trailing else req.trigger_price,
            working_type=req.working_type,
            price_protect=req.price_protect,
            close_position=req.close_position,
            reduce_only=req.reduce_only,
            status="NEW",
            create_ms=t_ms,
            update_ms=t_ms,
            activate_price=req.activate_price if trailing else None,
            callback_rate=req.callback_rate if trailing else None,
        )

    def cancel_algo_order(
        self, t_ms: int, algo_id: int | None, client_algo_id: str | None
    ) -> tuple[AlgoOrder, list[Event]]:
        try:
            algo = self.find_algo(algo_id, client_algo_id)
        except errors.BinanceError:
            raise errors.unknown_order() from None
        if algo.status != "NEW":
            raise errors.unknown_order()
        cancelled = advance_algo(algo, "CANCELED", t_ms)
        self._store_algo(cancelled)
        return cancelled, [AlgoUpdated(t_ms, cancelled)]

    def cancel_all_algo_orders(self, t_ms: int, symbol: str) -> list[Event]:
        self.spec(symbol)
        events: list[Event] = []
        for algo in self.open_algo_orders(symbol):
            if algo.status == "NEW":
                events += self.cancel_algo_order(t_ms, algo.algo_id, None)[1]
        return events

    def _store_algo(self, algo: AlgoOrder) -> None:
        self.algos[algo.algo_id] = algo
        if algo.is_open:
            self._open_algos[algo.algo_id] = None
        else:
            self._open_algos.pop(algo.algo_id, None)

    def _evaluate(self, t_ms: int, algo: AlgoOrder) -> list[Event]:
        prices = self._prices[algo.symbol]
        latest = prices.working(algo.working_type)
        events: list[Event] = []
        if algo.order_type == "TRAILING_STOP_MARKET":
            tracked = track_trailing(algo, latest)
            if tracked is not algo:
                newly_active = tracked.activated and not algo.activated
                algo = replace(tracked, update_ms=t_ms) if newly_active else tracked
                self._store_algo(algo)
                if newly_active:
                    events.append(AlgoUpdated(t_ms, algo))
        if not fires(algo, latest):
            return events
        if algo.price_protect:
            deviation = abs(prices.mark - prices.last) / prices.mark
            if deviation > self.specs[algo.symbol].trigger_protect:
                return events  # priceProtect: no trigger while mark and contract diverge
        return events + self._trigger(t_ms, algo)

    def _trigger(self, t_ms: int, algo: AlgoOrder) -> list[Event]:
        triggering = advance_algo(algo, "TRIGGERING", t_ms, trigger_ms=t_ms)
        self._store_algo(triggering)
        events: list[Event] = [AlgoUpdated(t_ms, triggering)]
        if algo.symbol in self._held_symbols:
            return events  # stays in TRIGGERING until released (an observed Binance fault)
        return events + self._forward(t_ms, triggering)

    def _forward(self, t_ms: int, algo: AlgoOrder) -> list[Event]:
        """TRIGGERING -> the child order in the matching engine (or a rejection)."""
        if algo.reduce_only or algo.close_position:
            position = self.account.position(algo.symbol).amount
            reduces = (position > 0 and algo.side == "SELL") or (
                position < 0 and algo.side == "BUY"
            )
            if not reduces:
                cancelled = advance_algo(algo, "CANCELED", t_ms, reason="Reduce Only reject")
                self._store_algo(cancelled)
                return [AlgoUpdated(t_ms, cancelled)]
        limit = algo.order_type in ("STOP", "TAKE_PROFIT")
        quantity = algo.quantity
        if algo.close_position:
            quantity = abs(self.account.position(algo.symbol).amount)
        child = Order(
            order_id=self._take_order_id(),
            client_id=algo.client_algo_id,
            symbol=algo.symbol,
            side=algo.side,
            type="LIMIT" if limit else "MARKET",
            orig_type=algo.order_type,
            time_in_force=algo.time_in_force if limit else "GTC",
            quantity=quantity,
            price=algo.price if limit else ZERO,
            reduce_only=algo.reduce_only or algo.close_position,
            close_position=algo.close_position,
            status="NEW",
            create_ms=t_ms,
            update_ms=t_ms,
            stop_price=algo.trigger_price,
            working_type=algo.working_type,
            price_protect=algo.price_protect,
            algo_id=algo.algo_id,
        )
        triggered = advance_algo(algo, "TRIGGERED", t_ms, actual_order_id=child.order_id)
        self._store_algo(triggered)
        marketable = not limit or self._limit_crossed(
            child.side, child.price, self._prices[algo.symbol].last
        )
        return [AlgoUpdated(t_ms, triggered), *self._accept(t_ms, child, marketable)[1]]

    def _finish_algo(self, t_ms: int, algo_id: int) -> list[Event]:
        finished = advance_algo(self.algos[algo_id], "FINISHED", t_ms)
        self._store_algo(finished)
        return [AlgoUpdated(t_ms, finished)]

    # ------------------------------------------------------------------ venue behaviours
    def hold_triggers(self, symbol: str) -> None:
        """From now on, algo orders of ``symbol`` that fire stay in TRIGGERING (seen on Binance
        Demo: binance-usdm.md §15, item 12) until :meth:`release_triggers`."""
        self.spec(symbol)
        self._held_symbols[symbol] = None

    def release_triggers(self, t_ms: int, symbol: str) -> list[Event]:
        self._held_symbols.pop(symbol, None)
        events: list[Event] = []
        for algo in self.open_algo_orders(symbol):
            if algo.status == "TRIGGERING":
                events += self._forward(t_ms, algo)
        return events

    def expire_algo_order(self, t_ms: int, algo_id: int, reason: str) -> list[Event]:
        """The system cancels an open algo order (EXPIRED), as Binance does at times."""
        expired = advance_algo(self.algos[algo_id], "EXPIRED", t_ms, reason=reason)
        self._store_algo(expired)
        return [AlgoUpdated(t_ms, expired)]

    # ------------------------------------------------------------------ ground truth
    def truth(self) -> dict[str, object]:
        """The exchange's state as canonical trace values (decimals as strings)."""
        return {
            "wallet": str(self.account.wallet),
            "positions": {
                s: {"amount": str(p.amount), "entry": str(p.entry_price)}
                for s, p in sorted(self.account.positions.items())
                if p.amount
            },
            "open_orders": [
                {
                    "id": o.order_id,
                    "symbol": o.symbol,
                    "side": o.side,
                    "type": o.type,
                    "qty": str(o.quantity),
                    "price": str(o.price),
                }
                for o in self.open_orders()
            ],
            "open_algo_orders": [
                {
                    "id": a.algo_id,
                    "client_id": a.client_algo_id,
                    "symbol": a.symbol,
                    "side": a.side,
                    "type": a.order_type,
                    "status": a.status,
                    "trigger": str(a.trigger_price),
                    "close_position": a.close_position,
                    "qty": str(a.quantity),
                }
                for a in self.open_algo_orders()
            ],
        }
