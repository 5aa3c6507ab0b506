"""The USDT cross-margin account: wallet, one-way positions, leverage, fees, realized PnL.

Invariants: a position is the signed sum of its fills; the wallet changes only by realized
PnL minus fees (no funding, no transfers in this model); the entry price is the average of
the fills that opened the position; a fill that flips the side closes the old position at
the fill price and opens the remainder there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sim.exchange.events import BalanceState, PositionState

ZERO = Decimal(0)
# Binance reports entry prices, PnL and commission to 8 decimals ("entry 2.03332500" in the
# incident log). Quantizing there also keeps every sum exact: an average entry price can be
# a repeating decimal, which Decimal's 28-digit context would round somewhere else each time.
QUANTUM = Decimal("0.00000001")


def _q(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Position:
    symbol: str
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    update_ms: int = 0

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.entry_price) * self.amount if self.amount else ZERO


@dataclass(frozen=True, slots=True)
class FillOutcome:
    realized_pnl: Decimal
    fee: Decimal


class Account:
    def __init__(
        self,
        *,
        asset: str,
        wallet: Decimal,
        default_leverage: int,
        maker_fee_rate: Decimal,
        taker_fee_rate: Decimal,
    ) -> None:
        self.asset = asset
        self.wallet = wallet
        self.default_leverage = default_leverage
        self.maker_fee_rate = maker_fee_rate
        self.taker_fee_rate = taker_fee_rate
        self.leverage: dict[str, int] = {}
        self.positions: dict[str, Position] = {}
        self.update_ms = 0

    def leverage_of(self, symbol: str) -> int:
        return self.leverage.get(symbol, self.default_leverage)

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol)
        return pos

    def apply_fill(
        self, t_ms: int, symbol: str, side: str, qty: Decimal, price: Decimal, *, maker: bool
    ) -> FillOutcome:
        """Book one fill; returns its realized PnL and fee (already applied to the wallet)."""
        pos = self.position(symbol)
        signed = qty if side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            total = abs(pos.amount) + qty
            pos.entry_price = _q((abs(pos.amount) * pos.entry_price + qty * price) / total)
            pos.amount += signed
        else:
            closing = min(qty, abs(pos.amount))
            direction = 1 if pos.amount > 0 else -1
            realized = _q((price - pos.entry_price) * closing * direction)
            pos.amount += signed
            if pos.amount == 0:
                pos.entry_price = ZERO
            elif (pos.amount > 0) != (direction > 0):  # flipped: the rest opens at the fill
                pos.entry_price = price
        rate = self.maker_fee_rate if maker else self.taker_fee_rate
        fee = _q(qty * price * rate)
        pos.realized_pnl += realized
        pos.update_ms = t_ms
        self.wallet += realized - fee
        self.update_ms = t_ms
        return FillOutcome(realized, fee)

    def initial_margin(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            (
                abs(p.amount) * marks.get(s, p.entry_price) / self.leverage_of(s)
                for s, p in self.positions.items()
                if p.amount
            ),
            ZERO,
        )

    def unrealized(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            (p.unrealized(marks[s]) for s, p in self.positions.items() if p.amount and s in marks),
            ZERO,
        )

    def available(self, marks: dict[str, Decimal], open_order_margin: Decimal) -> Decimal:
        return self.wallet + self.unrealized(marks) - self.initial_margin(marks) - open_order_margin

    def balance_state(self) -> BalanceState:
        return BalanceState(self.asset, self.wallet, self.wallet, ZERO)

    def position_state(self, symbol: str, mark: Decimal | None) -> PositionState:
        pos = self.position(symbol)
        fee_rate = self.taker_fee_rate
        if pos.amount > 0:
            break_even = pos.entry_price * (1 + fee_rate) / (1 - fee_rate)
        elif pos.amount < 0:
            break_even = pos.entry_price * (1 - fee_rate) / (1 + fee_rate)
        else:
            break_even = ZERO
        return PositionState(
            symbol=symbol,
            amount=pos.amount,
            entry_price=pos.entry_price,
            break_even_price=_q(break_even),
            realized_pnl=pos.realized_pnl,
            unrealized_pnl=pos.unrealized(mark) if mark is not None else ZERO,
            update_ms=pos.update_ms,
        )
