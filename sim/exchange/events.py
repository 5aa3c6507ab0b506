"""What the exchange model reports after each change, in the order Binance pushes it.

The wire layer renders these as user-data-stream payloads (``ORDER_TRADE_UPDATE``,
``ALGO_UPDATE``, ``ACCOUNT_UPDATE``); the harness records them as ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sim.exchange.orders import AlgoOrder, Order


@dataclass(frozen=True, slots=True)
class Fill:
    trade_id: int
    qty: Decimal
    price: Decimal
    fee: Decimal  # in the margin asset
    realized_pnl: Decimal
    maker: bool


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    t_ms: int
    order: Order
    execution: str  # NEW | TRADE | CANCELED | EXPIRED
    fill: Fill | None = None
    expiry_reason: int = 0  # "er"


@dataclass(frozen=True, slots=True)
class AlgoUpdated:
    t_ms: int
    algo: AlgoOrder


@dataclass(frozen=True, slots=True)
class BalanceState:
    asset: str
    wallet: Decimal
    cross_wallet: Decimal
    change: Decimal  # balance change except PnL and commission ("bc")


@dataclass(frozen=True, slots=True)
class PositionState:
    symbol: str
    amount: Decimal  # signed: negative is short
    entry_price: Decimal
    break_even_price: Decimal
    realized_pnl: Decimal  # accumulated ("cr")
    unrealized_pnl: Decimal
    update_ms: int


@dataclass(frozen=True, slots=True)
class AccountUpdated:
    t_ms: int
    reason: str  # "ORDER", ...
    balances: tuple[BalanceState, ...]
    positions: tuple[PositionState, ...]


Event = OrderUpdated | AlgoUpdated | AccountUpdated
