"""Orders and algo (conditional) orders: what they hold, and their lifecycles as tables.

Both are frozen: a change makes a new value (``dataclasses.replace``), so every event carries
the order exactly as it was at that instant. A status change goes through
:func:`advance_order` / :func:`advance_algo`, which consult the one transition table of each
machine and refuse anything else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)

REGULAR_TYPES = ("LIMIT", "MARKET")
CONDITIONAL_TYPES = (
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
)
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX")
WORKING_TYPES = ("MARK_PRICE", "CONTRACT_PRICE")

# Regular order lifecycle (partial fills are not modelled: liquidity is unlimited).
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "NEW": ("FILLED", "CANCELED", "EXPIRED"),
    "FILLED": (),
    "CANCELED": (),
    "EXPIRED": (),
}
OPEN_ORDER_STATUSES = ("NEW", "PARTIALLY_FILLED")

# Algo order lifecycle (binance-usdm.md §3.4, §3.6). Only NEW orders can be cancelled.
ALGO_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "NEW": ("TRIGGERING", "CANCELED", "EXPIRED", "REJECTED"),
    "TRIGGERING": ("TRIGGERED", "CANCELED", "EXPIRED", "REJECTED"),
    "TRIGGERED": ("FINISHED",),
    "FINISHED": (),
    "CANCELED": (),
    "EXPIRED": (),
    "REJECTED": (),
}
OPEN_ALGO_STATUSES = ("NEW", "TRIGGERING")


class IllegalTransition(RuntimeError):
    """A model bug: a status change its lifecycle table does not allow."""


@dataclass(frozen=True, slots=True)
class Order:
    """A regular order (``/fapi/v1/order``), or the child an algo order creates on trigger."""

    order_id: int
    client_id: str
    symbol: str
    side: str  # BUY | SELL
    type: str  # MARKET | LIMIT
    orig_type: str  # the type as placed; for an algo child, the algo's type
    time_in_force: str
    quantity: Decimal
    price: Decimal  # 0 for MARKET
    reduce_only: bool
    close_position: bool
    status: str
    create_ms: int
    update_ms: int
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    avg_price: Decimal = ZERO
    stop_price: Decimal = ZERO  # an algo child's trigger price
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False
    algo_id: int | None = None  # the parent algo order, for a child

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES


@dataclass(frozen=True, slots=True)
class AlgoOrder:
    """A conditional order (``/fapi/v1/algoOrder``, ``algoType=CONDITIONAL``)."""

    algo_id: int
    client_algo_id: str
    symbol: str
    side: str
    order_type: str  # one of CONDITIONAL_TYPES
    time_in_force: str
    quantity: Decimal  # 0 with closePosition
    price: Decimal  # limit price of STOP / TAKE_PROFIT, else 0
    trigger_price: Decimal  # 0 for TRAILING_STOP_MARKET
    working_type: str
    price_protect: bool
    close_position: bool
    reduce_only: bool
    status: str
    create_ms: int
    update_ms: int
    activate_price: Decimal | None = None  # TRAILING_STOP_MARKET
    callback_rate: Decimal | None = None  # TRAILING_STOP_MARKET, percent
    activated: bool = False  # trailing: the activation price has been reached ("ia")
    extreme: Decimal | None = None  # trailing: best working price since activation
    trigger_ms: int = 0
    actual_order_id: int | None = None  # the child order, once TRIGGERED ("ai")
    reason: str = ""  # "rm": why it was rejected, cancelled or expired by the system

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ALGO_STATUSES


def advance_order(order: Order, status: str, t_ms: int, **changes: object) -> Order:
    if status not in ORDER_TRANSITIONS[order.status]:
        raise IllegalTransition(f"order {order.order_id}: {order.status} -> {status}")
    return dataclasses.replace(order, status=status, update_ms=t_ms, **changes)


def advance_algo(algo: AlgoOrder, status: str, t_ms: int, **changes: object) -> AlgoOrder:
    if status not in ALGO_TRANSITIONS[algo.status]:
        raise IllegalTransition(f"algo order {algo.algo_id}: {algo.status} -> {status}")
    return dataclasses.replace(algo, status=status, update_ms=t_ms, **changes)
