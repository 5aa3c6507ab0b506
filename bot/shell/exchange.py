"""The bot's side of ccxt: commands become ccxt calls, ccxt answers and stream messages
become core events.

Failure classes (ccxt's exceptions, binance-usdm.md §5):

* refused: the exchange answered with a Binance error (``ExchangeError`` subclasses); the
  order does not exist. The code is read from the body ccxt quotes.
* not executed: 429/418 (``DDoSProtection``, ``RateLimitExceeded``) and a stale timestamp
  (``InvalidNonce``): safe to send again after a pause.
* unknown outcome: a timeout, a 5xx, a dropped connection (``RequestTimeout``,
  ``ExchangeNotAvailable``, ``NetworkError``): the request may have taken effect.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import ccxt

from bot.core import messages as m

_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')

NOT_EXECUTED = (ccxt.DDoSProtection, ccxt.RateLimitExceeded, ccxt.InvalidNonce)
UNKNOWN_OUTCOME = (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError)


def error_code(exc: BaseException) -> int:
    """Binance's code from a ccxt exception's message, or 0."""
    found = _CODE.search(str(exc))
    return int(found.group(1)) if found else 0


def dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


class Venue:
    """Symbol naming and the ccxt calls the bot makes, on one ccxt.pro ``binanceusdm``."""

    def __init__(self, exchange: Any, working_type: str) -> None:
        self.exchange = exchange
        self.working_type = working_type
        self._unified: dict[str, str] = {}

    def bind_markets(self, symbols: list[str]) -> dict[str, Decimal]:
        """After ``load_markets``: unified symbols and each symbol's tick size."""
        ticks = {}
        for market in self.exchange.markets.values():
            if market["id"] in symbols and market.get("linear"):
                self._unified[market["id"]] = market["symbol"]
                ticks[market["id"]] = dec(market["precision"]["price"])
        missing = sorted(set(symbols) - set(self._unified))
        if missing:
            raise ValueError(f"the exchange lists no USD-M perpetual {', '.join(missing)}")
        return ticks

    def unified(self, symbol: str) -> str:
        return self._unified[symbol]

    def symbol_of(self, unified_or_id: str) -> str | None:
        for symbol, unified in self._unified.items():
            if unified_or_id in (symbol, unified):
                return symbol
        return None

    def now_ms(self) -> int:
        return int(self.exchange.milliseconds())

    # ------------------------------------------------------------------ commands
    async def place_entry(self, cmd: m.PlaceEntry) -> list[m.Event]:
        order = await self.exchange.create_order(
            self.unified(cmd.symbol),
            "market",
            cmd.side,
            str(cmd.quantity),
            None,
            {"clientOrderId": cmd.client_id},
        )
        return self._order_events(cmd.symbol, cmd.client_id, order)

    async def close_position(self, cmd: m.ClosePosition) -> list[m.Event]:
        order = await self.exchange.create_order(
            self.unified(cmd.symbol),
            "market",
            cmd.side,
            str(cmd.quantity),
            None,
            {"clientOrderId": cmd.client_id, "reduceOnly": True},
        )
        return self._order_events(cmd.symbol, cmd.client_id, order)

    async def place_stop(self, cmd: m.PlaceStop) -> list[m.Event]:
        params: dict[str, Any] = {
            "stopPrice": str(cmd.trigger),
            "workingType": self.working_type,
            "clientOrderId": cmd.client_id,
        }
        if cmd.quantity is None:
            params["closePosition"] = True
        else:
            params["reduceOnly"] = True
        amount = None if cmd.quantity is None else str(cmd.quantity)
        order = await self.exchange.create_order(
            self.unified(cmd.symbol), "STOP_MARKET", cmd.side, amount, None, params
        )
        return [m.OrderAccepted(cmd.symbol, cmd.client_id, self.now_ms(), str(order["id"]))]

    async def cancel_stop(self, cmd: m.CancelStop) -> list[m.Event]:
        try:
            await self.exchange.cancel_order(
                None, self.unified(cmd.symbol), {"trigger": True, "clientOrderId": cmd.client_id}
            )
        except ccxt.OrderNotFound:
            # Already gone (-2011): cancelled before, expired, or it fired, and then the
            # position is closing. Only a lookup tells which; a fired stop must not pass for
            # a cancelled one, or the bot goes on protecting a position that is gone.
            found = await self.look_up(m.LookUpOrder(cmd.symbol, cmd.client_id, stop=True))
            if any(isinstance(e, m.StopStatusChanged) for e in found):
                return found
        return [m.StopCancelled(cmd.symbol, cmd.client_id, self.now_ms())]

    async def look_up(self, cmd: m.LookUpOrder) -> list[m.Event]:
        params: dict[str, Any] = {"clientOrderId": cmd.client_id}
        if cmd.stop:
            params["trigger"] = True
        try:
            order = await self.exchange.fetch_order(None, self.unified(cmd.symbol), params)
        except ccxt.OrderNotFound:
            return [m.OrderNotFound(cmd.symbol, cmd.client_id, self.now_ms())]
        if cmd.stop:
            status = order["info"].get("algoStatus", "")
            if status == "NEW":
                return [m.OrderAccepted(cmd.symbol, cmd.client_id, self.now_ms(), str(order["id"]))]
            return [m.StopStatusChanged(cmd.symbol, cmd.client_id, status, self.now_ms())]
        return self._order_events(cmd.symbol, cmd.client_id, order)

    def _order_events(self, symbol: str, client_id: str, order: dict) -> list[m.Event]:
        now = self.now_ms()
        events: list[m.Event] = [m.OrderAccepted(symbol, client_id, now, str(order["id"]))]
        filled = dec(order.get("filled"))
        if filled > 0:
            delta = filled if order["side"] == "buy" else -filled
            event_ms = int(order["info"].get("updateTime") or order.get("timestamp") or now)
            events.append(m.FillReported(symbol, delta, dec(order.get("average")), event_ms, now))
        return events

    async def reconcile(self, symbol: str) -> list[m.Event]:
        """Positions first, then the open stops, then the end marker: the core must know the
        position before it judges the stops."""
        asked_ms = self.now_ms()
        unified = self.unified(symbol)
        positions = await self.exchange.fetch_positions([unified])
        stops = await self.exchange.fetch_open_orders(unified, params={"trigger": True})
        now = self.now_ms()
        events: list[m.Event] = []
        rows = [p for p in positions if p["symbol"] == unified and dec(p["contracts"]) > 0]
        if rows:
            row = rows[0]
            amount = dec(row["contracts"]) * (1 if row["side"] == "long" else -1)
            events.append(
                m.PositionReported(
                    symbol,
                    amount,
                    dec(row["entryPrice"]),
                    int(row["info"]["updateTime"]),
                    "rest",
                    now,
                )
            )
        else:
            events.append(m.PositionAbsent(symbol, asked_ms, now))
        listed = tuple(
            (o["clientOrderId"], dec(o["triggerPrice"]))
            for o in stops
            if o["info"].get("orderType") == "STOP_MARKET"
        )
        events.append(m.OpenStopsListed(symbol, listed, asked_ms))
        events.append(m.ReconcileCompleted(symbol, now))
        return events

    # ------------------------------------------------------------------ streams
    def order_events(self, orders: list[dict]) -> list[m.Event]:
        """``watch_orders`` results: ``ALGO_UPDATE`` and ``ORDER_TRADE_UPDATE`` payloads."""
        now = self.now_ms()
        events: list[m.Event] = []
        for order in orders:
            info = order.get("info", {})
            symbol = self.symbol_of(info.get("s") or order.get("symbol", ""))
            if symbol is None:
                continue
            if "aid" in info:  # ALGO_UPDATE
                events.append(
                    m.StopStatusChanged(symbol, info.get("caid", ""), info.get("X", ""), now)
                )
                continue
            if info.get("x") == "TRADE" and dec(info.get("l")) > 0:
                qty = dec(info["l"])
                events.append(
                    m.FillReported(
                        symbol,
                        qty if info.get("S") == "BUY" else -qty,
                        dec(info.get("L")),
                        int(info.get("T", now)),
                        now,
                    )
                )
            if info.get("x") == "NEW":
                events.append(
                    m.OrderAccepted(symbol, info.get("c", ""), now, str(info.get("i", "")))
                )
        return events

    def position_events(self, positions: list[dict], source: str) -> list[m.Event]:
        """``watch_positions`` results (``ACCOUNT_UPDATE``; the first call is a REST
        snapshot)."""
        now = self.now_ms()
        events: list[m.Event] = []
        for pos in positions:
            symbol = self.symbol_of(pos.get("symbol", ""))
            if symbol is None:
                continue
            contracts = dec(pos.get("contracts"))
            amount = -contracts if pos.get("side") == "short" else contracts
            event_ms = int(pos.get("timestamp") or now)
            events.append(
                m.PositionReported(
                    symbol, amount, dec(pos.get("entryPrice")), event_ms, source, now
                )
            )
        return events
