"""A symbol's trading rules, read from an exchangeInfo entry, and the checks they impose.

Invariant: every price and quantity the model accepts sits on the symbol's tick/step grid,
within its filters, with no more decimals than its precision: exactly what Binance enforces
on ``/fapi/v1/order`` and ``/fapi/v1/algoOrder``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.exchange import errors


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    base_asset: str
    quote_asset: str
    margin_asset: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    trigger_protect: Decimal
    max_open_orders: int
    max_leverage: int = 125

    @classmethod
    def from_exchange_info(cls, entry: Mapping[str, Any]) -> SymbolSpec:
        """Build from one ``symbols[]`` item of ``GET /fapi/v1/exchangeInfo``."""
        filters = {f["filterType"]: f for f in entry["filters"]}
        price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
        market_lot = filters.get("MARKET_LOT_SIZE", lot)
        return cls(
            symbol=entry["symbol"],
            base_asset=entry["baseAsset"],
            quote_asset=entry["quoteAsset"],
            margin_asset=entry["marginAsset"],
            tick_size=Decimal(price["tickSize"]),
            min_price=Decimal(price["minPrice"]),
            max_price=Decimal(price["maxPrice"]),
            step_size=Decimal(lot["stepSize"]),
            min_qty=Decimal(lot["minQty"]),
            max_qty=Decimal(lot["maxQty"]),
            market_min_qty=Decimal(market_lot["minQty"]),
            market_max_qty=Decimal(market_lot["maxQty"]),
            min_notional=Decimal(filters["MIN_NOTIONAL"]["notional"]),
            price_precision=int(entry["pricePrecision"]),
            quantity_precision=int(entry["quantityPrecision"]),
            trigger_protect=Decimal(str(entry.get("triggerProtect", "0.05"))),
            max_open_orders=int(filters.get("MAX_NUM_ORDERS", {}).get("limit", 200)),
        )

    def check_price(self, price: Decimal) -> None:
        if price <= 0:
            raise errors.illegal_value("price")
        if _decimals(price) > self.price_precision:
            raise errors.bad_precision()
        if (price - self.min_price) % self.tick_size != 0:
            raise errors.price_not_on_tick()
        if price < self.min_price or (self.max_price > 0 and price > self.max_price):
            # Assumed wording: ccxt raises InvalidOrder for any body mentioning PRICE_FILTER.
            raise errors.BinanceError(-1013, "Filter failure: PRICE_FILTER")

    def check_quantity(self, qty: Decimal, *, market: bool) -> None:
        if qty <= 0:
            raise errors.qty_not_positive()
        if _decimals(qty) > self.quantity_precision:
            raise errors.bad_precision()
        if qty % self.step_size != 0:
            raise errors.qty_not_on_step()
        low, high = (
            (self.market_min_qty, self.market_max_qty) if market else (self.min_qty, self.max_qty)
        )
        if qty < low or qty > high:
            # Assumed wording: ccxt raises InvalidOrder for any body mentioning LOT_SIZE.
            raise errors.BinanceError(-1013, "Filter failure: LOT_SIZE")

    def check_notional(self, qty: Decimal, price: Decimal) -> None:
        if qty * price < self.min_notional:
            raise errors.min_notional(format(self.min_notional.normalize(), "f"))


def specs_from_exchange_info(doc: Mapping[str, Any]) -> dict[str, SymbolSpec]:
    """Every TRADING perpetual in an exchangeInfo document, by symbol."""
    return {
        entry["symbol"]: SymbolSpec.from_exchange_info(entry)
        for entry in doc["symbols"]
        if entry.get("status") == "TRADING"
    }
