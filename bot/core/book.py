"""The position book: the bot's single source of truth for positions.

Invariant: the book changes only on evidence newer than what it holds. Each symbol keeps
the exchange time of the evidence behind its current amount. Stream reports (absolute
amounts) apply in event-time order; our own fills (deltas) only when strictly newer than the
evidence held, since a report at the same instant already includes them; a REST snapshot row
only where its time is newer;
a symbol *missing* from a REST snapshot means flat only when the snapshot was taken more
than ``rest_lag_bound_ms`` after the newest evidence (REST can lag the stream and omit a
fresh position: the SOONUSDT incident). The database is never a source of position size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.core.messages import FillReported, PositionAbsent, PositionReported

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Holding:
    symbol: str
    amount: Decimal  # signed
    entry: Decimal
    as_of_ms: int  # exchange time of the evidence
    source: str

    @property
    def side(self) -> str | None:
        return "long" if self.amount > 0 else "short" if self.amount < 0 else None


@dataclass(frozen=True, slots=True)
class BookChange:
    before: Holding
    after: Holding


class PositionBook:
    def __init__(self, rest_lag_bound_ms: int) -> None:
        self.rest_lag_bound_ms = rest_lag_bound_ms
        self._holdings: dict[str, Holding] = {}

    def get(self, symbol: str) -> Holding:
        return self._holdings.get(symbol) or Holding(symbol, ZERO, ZERO, 0, "none")

    def symbols(self) -> list[str]:
        return sorted(self._holdings)

    def knows(self, symbol: str) -> bool:
        """Whether the book holds real evidence about ``symbol`` (not just a hint)."""
        holding = self._holdings.get(symbol)
        return holding is not None and holding.source != "hint"

    def hint_open(self, symbol: str, since_ms: int) -> None:
        """A previous run had a position in ``symbol`` opened at ``since_ms`` (from the
        repository). It is not a size: it only makes REST absence count from then on, so a
        restart does not take a lagging REST answer for "flat"."""
        if symbol not in self._holdings:
            self._holdings[symbol] = Holding(symbol, ZERO, ZERO, since_ms - 1, "hint")

    def apply(self, event: PositionReported | FillReported | PositionAbsent) -> BookChange | None:
        """Apply evidence; returns the change if the amount or entry changed."""
        before = self.get(event.symbol)
        if isinstance(event, FillReported):
            if event.event_ms <= before.as_of_ms:
                return None
            amount = before.amount + event.delta
            if amount == 0:
                entry = ZERO
            elif before.amount == 0 or (before.amount > 0) != (amount > 0):
                entry = event.price  # opened, or flipped: the remainder opened here
            elif abs(amount) > abs(before.amount):
                entry = (abs(before.amount) * before.entry + abs(event.delta) * event.price) / abs(
                    amount
                )
            else:
                entry = before.entry
            after = Holding(event.symbol, amount, entry, event.event_ms, "fill")
        elif isinstance(event, PositionAbsent):
            trusted_ms = event.event_ms - self.rest_lag_bound_ms
            if trusted_ms <= before.as_of_ms:
                return None  # not newer than what we know: REST may be lagging
            after = Holding(event.symbol, ZERO, ZERO, trusted_ms, "rest-absent")
        else:
            # At an equal time a stream report wins over REST; an absolute REST amount wins
            # over one built from fill deltas (trades of one fill may share a time); and a REST
            # answer that lists the position supersedes an earlier one that omitted it (REST
            # rows carry the position's updateTime, older than that omission's snapshot).
            newer = (
                event.event_ms > before.as_of_ms
                or (
                    event.event_ms == before.as_of_ms
                    and (event.source != "rest" or before.source == "fill")
                )
                or (event.source == "rest" and before.source == "rest-absent")
            )
            if not newer:
                return None
            after = Holding(
                event.symbol,
                event.amount,
                event.entry,
                max(event.event_ms, before.as_of_ms),
                event.source,
            )
        self._holdings[event.symbol] = after
        if (after.amount, after.entry) == (before.amount, before.entry):
            return None
        return BookChange(before, after)
