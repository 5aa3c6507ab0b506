"""``legacy-2025-11``: the bot of the SOONUSDT incident, rebuilt from its report.

Its parts, as the report describes them (``../shared/incidents/soonusdt-2025-11-10.md``):

* ``position_manager``: its own record of each position, from its entry orders;
* ``exchange_manager.positions``: a cache filled *only* by an explicit ``fetch_positions``,
  which nothing calls, so it is always empty;
* the trailing-stop manager: activation at entry × 1.015; on activation (and on each later
  move) ``_binance_update_sl_optimized``: **cancel the old stop, then look the size up**
  (the empty cache, then REST ``fetch_positions`` twice 0.5 s apart, then the database),
  **then create the new stop**; an error on create is logged and "TS ACTIVATED" is logged
  anyway: there is no -2021 handling, and the position stays naked;
* a database written asynchronously, used as the last-resort source of size.

Stops are quantity-based ``STOP_MARKET`` orders with ``reduceOnly``, as that bot placed them.
This is a known-bad bot for the harness to catch; it is not, and must not become, the
reference bot.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import ccxt

from bot.config import BotConfig
from bot.core import messages as m

log = logging.getLogger("legacy-2025-11")

REST_ATTEMPTS = 2
REST_RETRY_S = 0.5


class LegacyBot:
    def __init__(
        self, config: BotConfig, exchange: Any, repository: Any, observer: Any = None
    ) -> None:
        self.config = config
        self.exchange = exchange
        self.repository = repository
        self._observer = observer
        self.position_manager: dict[str, dict[str, Decimal]] = {}
        self.exchange_manager_positions: dict[str, dict[str, Any]] = {}  # never filled
        self.stop_loss: dict[str, tuple[str, Decimal]] = {}  # symbol -> (client id, price)
        self.trailing: dict[str, dict[str, Any]] = {}
        self._ids = 0
        self._ticks: dict[str, Decimal] = {}
        self._unified: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def _now(self) -> int:
        return int(self.exchange.milliseconds())

    def _say(self, symbol: str, kind: str, detail: str) -> None:
        log.warning("%s %s: %s", symbol, kind, detail)
        if self._observer is not None:
            self._observer(self._now(), m.Note(symbol, kind, detail))

    def _issued(self, command: m.Command) -> None:
        if self._observer is not None:
            self._observer(self._now(), command)

    def _next_id(self, symbol: str, kind: str) -> str:
        self._ids += 1
        return f"lg-{kind}-{symbol}-{self._ids}"

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        markets = await self.exchange.load_markets()
        for market in markets.values():
            if market["id"] in self.config.bot.symbols and market.get("linear"):
                self._unified[market["id"]] = market["symbol"]
                self._ticks[market["id"]] = Decimal(str(market["precision"]["price"]))
        async with asyncio.TaskGroup() as group:
            for symbol in self.config.bot.symbols:
                group.create_task(self._watch_marks(symbol))
            group.create_task(self._entries())

    async def _entries(self) -> None:
        for entry in sorted(self.config.signals.entries, key=lambda e: e.at_ms):
            delay_ms = entry.at_ms - self._now()
            if delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000)
            await self._open(entry.symbol, entry.side, entry.quantity)

    async def _open(self, symbol: str, side: str, quantity: Decimal) -> None:
        """Opened "atomically": the market order, then the initial stop."""
        unified = self._unified[symbol]
        client_id = self._next_id(symbol, "e")
        self._issued(m.PlaceEntry(symbol, "buy" if side == "long" else "sell", quantity, client_id))
        order = await self.exchange.create_order(
            unified,
            "market",
            "buy" if side == "long" else "sell",
            str(quantity),
            None,
            {"clientOrderId": client_id},
        )
        entry = Decimal(str(order["average"]))
        filled = Decimal(str(order["filled"]))
        self.position_manager[symbol] = {
            "quantity": filled,
            "entry": entry,
            "long": Decimal(1 if side == "long" else -1),
        }
        # the database row, written asynchronously (it may lag)
        await asyncio.to_thread(
            self.repository.journal_position,
            self._now(),
            symbol,
            filled if side == "long" else -filled,
            entry,
            "legacy",
        )
        p = self.config.protection
        direction = 1 if side == "long" else -1
        stop = self._tick(entry * (1 - direction * p.initial_stop_pct / 100), symbol, side)
        await self._create_stop(symbol, stop, filled)
        self.trailing[symbol] = {
            "activation": entry * (1 + direction * p.activation_pct / 100),
            "activated": False,
            "best": None,
        }

    def _tick(self, price: Decimal, symbol: str, side: str) -> Decimal:
        tick = self._ticks[symbol]
        rounding = ROUND_FLOOR if side == "long" else ROUND_CEILING
        return (price / tick).to_integral_value(rounding=rounding) * tick

    # ------------------------------------------------------------------ trailing
    async def _watch_marks(self, symbol: str) -> None:
        unified = self._unified[symbol]
        while True:
            ticker = await self.exchange.watch_mark_price(unified)
            mark = Decimal(str(ticker["markPrice"]))
            trail = self.trailing.get(symbol)
            position = self.position_manager.get(symbol)
            if trail is None or position is None:
                continue
            long = position["long"] > 0
            side = "long" if long else "short"
            if not trail["activated"]:
                if (mark >= trail["activation"]) if long else (mark <= trail["activation"]):
                    trail["activated"], trail["best"] = True, mark
                else:
                    continue
            trail["best"] = max(trail["best"], mark) if long else min(trail["best"], mark)
            rate = self.config.protection.callback_pct / 100
            level = self._tick(trail["best"] * (1 - rate if long else 1 + rate), symbol, side)
            current = self.stop_loss.get(symbol, ("", Decimal(0)))[1]
            if (level > current) if long else (level < current or current == 0):
                await self._binance_update_sl_optimized(symbol, level)

    async def _binance_update_sl_optimized(self, symbol: str, new_price: Decimal) -> None:
        """Cancel the old stop, look the size up, create the new stop: the incident."""
        old = self.stop_loss.get(symbol)
        if old is not None:
            self._issued(m.CancelStop(symbol, old[0]))
            try:
                await self.exchange.cancel_order(
                    None, self._unified[symbol], {"trigger": True, "clientOrderId": old[0]}
                )
            except ccxt.OrderNotFound:
                pass
        quantity = await self._lookup_quantity(symbol)
        await self._create_stop(symbol, new_price, quantity)
        self._say(symbol, "ts-activated", f"TS ACTIVATED, SL {new_price}")  # logged anyway

    async def _lookup_quantity(self, symbol: str) -> Decimal:
        cached = self.exchange_manager_positions.get(symbol)  # 1. the cache: always empty
        if cached is not None:
            return Decimal(str(cached["contracts"]))
        unified = self._unified[symbol]
        for attempt in range(1, REST_ATTEMPTS + 1):  # 2. REST
            positions = await self.exchange.fetch_positions([unified])
            for row in positions:
                if row["symbol"] == unified and row["contracts"]:
                    return Decimal(str(row["contracts"]))
            self._say(
                symbol, "lookup", f"Position not found in exchange response (attempt {attempt}/2)"
            )
            if attempt < REST_ATTEMPTS:
                await asyncio.sleep(REST_RETRY_S)
        self._say(symbol, "lookup", "Cache and API lookup failed, trying database fallback")
        rows = await asyncio.to_thread(self.repository.positions_journal, symbol)  # 3. the DB
        return abs(rows[-1].amount) if rows else Decimal(0)

    async def _create_stop(self, symbol: str, price: Decimal, quantity: Decimal) -> None:
        position = self.position_manager[symbol]
        side = "sell" if position["long"] > 0 else "buy"
        client_id = self._next_id(symbol, "s")
        self._issued(m.PlaceStop(symbol, side, price, client_id))
        self.stop_loss[symbol] = (client_id, price)  # believed placed, whatever happens
        try:
            await self.exchange.create_order(
                self._unified[symbol],
                "STOP_MARKET",
                side,
                str(quantity),
                None,
                {
                    "stopPrice": str(price),
                    "reduceOnly": True,
                    "clientOrderId": client_id,
                    "workingType": self.config.protection.working_type,
                },
            )
        except ccxt.BaseError as exc:  # logged; nothing else: the position stays naked
            self._say(symbol, "create-sl-failed", str(exc))

    # ------------------------------------------------------------------ introspection
    def belief(self, symbol: str) -> dict[str, Any]:
        position = self.position_manager.get(symbol)
        stop = self.stop_loss.get(symbol)
        amount = position["quantity"] * position["long"] if position else Decimal(0)
        return {
            "phase": "PROTECTED" if stop else ("FLAT" if not position else "UNPROTECTED"),
            "amount": str(amount),
            "stops": [{"client_id": stop[0], "level": str(stop[1]), "state": "working"}]
            if stop
            else [],
        }
