"""Symbol specs for model tests, built the way the venue builds them: from exchangeInfo."""

from __future__ import annotations

import random
from decimal import Decimal

from sim.exchange.model import Exchange, ExchangeConfig
from sim.exchange.symbols import specs_from_exchange_info


def _symbol(name, base, tick, step, min_qty, notional, price_precision, qty_precision):
    return {
        "symbol": name,
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "status": "TRADING",
        "contractType": "PERPETUAL",
        "pricePrecision": price_precision,
        "quantityPrecision": qty_precision,
        "triggerProtect": "0.0500",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": "1000000", "stepSize": step},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": min_qty,
                "maxQty": "1000000",
                "stepSize": step,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": notional},
        ],
    }


EXCHANGE_INFO = {
    "symbols": [
        _symbol("SOONUSDT", "SOON", "0.0001", "1", "1", "5", 4, 0),
        _symbol("BTCUSDT", "BTC", "0.10", "0.001", "0.001", "100", 2, 3),
    ]
}
SPECS = specs_from_exchange_info(EXCHANGE_INFO)
D = Decimal


def make_exchange(seed: int = 0, **config) -> Exchange:
    ex = Exchange(SPECS, ExchangeConfig(**config), random.Random(f"{seed}:fills"))
    ex.update_price(0, "SOONUSDT", D("2.0333"))
    ex.update_price(0, "BTCUSDT", D("97000.00"))
    return ex
