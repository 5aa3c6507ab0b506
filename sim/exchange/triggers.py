"""When a conditional order fires: Binance's trigger rules as pure functions.

Rules (binance-usdm.md §2.3), with "latest" the MARK_PRICE or CONTRACT_PRICE chosen by
``workingType``:

| type | BUY fires when | SELL fires when |
|---|---|---|
| STOP, STOP_MARKET | latest >= trigger | latest <= trigger |
| TAKE_PROFIT, TAKE_PROFIT_MARKET | latest <= trigger | latest >= trigger |
| TRAILING_STOP_MARKET | latest >= lowest * (1 + cb) | latest <= highest * (1 - cb) |

(trailing: once activated; cb is the callback rate).

A trailing order activates when the latest price reaches its activation price (a BUY at or
below it, a SELL at or above it) and then tracks the best price since.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sim.exchange.orders import AlgoOrder

HUNDRED = Decimal(100)


def crosses(order_type: str, side: str, trigger: Decimal, latest: Decimal) -> bool:
    """Whether ``latest`` is at or past ``trigger`` for a STOP / TAKE_PROFIT order."""
    stop_like = order_type in ("STOP", "STOP_MARKET")
    if (side == "BUY") == stop_like:
        return latest >= trigger
    return latest <= trigger


def trailing_level(algo: AlgoOrder) -> Decimal | None:
    """The price at which an activated trailing order fires, or None if not yet active."""
    if not algo.activated or algo.extreme is None or algo.callback_rate is None:
        return None
    rate = algo.callback_rate / HUNDRED
    return algo.extreme * (1 - rate) if algo.side == "SELL" else algo.extreme * (1 + rate)


def track_trailing(algo: AlgoOrder, latest: Decimal) -> AlgoOrder:
    """Activation and best-price tracking for a trailing order after a price update."""
    activated = algo.activated
    if not activated:
        activation = algo.activate_price
        reached = activation is None or (
            latest >= activation if algo.side == "SELL" else latest <= activation
        )
        if not reached:
            return algo
        activated = True
    extreme = algo.extreme
    if extreme is None:
        extreme = latest
    elif algo.side == "SELL":
        extreme = max(extreme, latest)
    else:
        extreme = min(extreme, latest)
    if activated == algo.activated and extreme == algo.extreme:
        return algo
    return dataclasses.replace(algo, activated=activated, extreme=extreme)


def fires(algo: AlgoOrder, latest: Decimal) -> bool:
    """Whether ``algo`` (already updated by :func:`track_trailing`) fires at ``latest``."""
    if algo.order_type == "TRAILING_STOP_MARKET":
        level = trailing_level(algo)
        if level is None:
            return False
        return latest <= level if algo.side == "SELL" else latest >= level
    return crosses(algo.order_type, algo.side, algo.trigger_price, latest)


def would_fire_on_placement(algo: AlgoOrder, latest: Decimal) -> bool:
    """Binance's -2021 rule at placement. For a trailing order: an activation price already
    reached (a SELL's at or below the latest price, a BUY's at or above it)."""
    if algo.order_type == "TRAILING_STOP_MARKET":
        if algo.activate_price is None:
            return False
        if algo.side == "SELL":
            return algo.activate_price <= latest
        return algo.activate_price >= latest
    return crosses(algo.order_type, algo.side, algo.trigger_price, latest)
