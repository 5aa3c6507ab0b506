"""Stop coverage: when did the exchange hold a position with no working stop to close it?

Reads the venue's ground truth (``venue.truth`` records, written after every change), so it
judges what the exchange held, not what the bot believed. A position is protected while an
open algo order on its symbol, on the closing side, would close it when it fires: a
``closePosition`` stop, or a reduce-only one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PROTECTIVE_TYPES = ("STOP_MARKET", "STOP", "TRAILING_STOP_MARKET")


@dataclass(frozen=True, slots=True)
class NakedWindow:
    symbol: str
    start_ms: int
    end_ms: int  # the run's end if still naked then
    amount: str  # the position held (signed)
    first: bool  # the window that opened with the position (the entry window)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def truth_records(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, lines) if r["kind"] == "venue.truth"]


def protected(symbol: str, amount: Decimal, algos: list[Mapping[str, Any]]) -> bool:
    """A closePosition stop, or a reduce-only one for at least the position's size."""
    closing_side = "SELL" if amount > 0 else "BUY"
    return any(
        a["symbol"] == symbol
        and a["side"] == closing_side
        and a["type"] in PROTECTIVE_TYPES
        and a["status"] in ("NEW", "TRIGGERING")
        and (a["close_position"] or Decimal(a["qty"]) >= abs(amount))
        for a in algos
    )


def naked_windows(records: list[dict[str, Any]], end_ms: int) -> list[NakedWindow]:
    """Every interval in which a position was open without a protective stop."""
    windows: list[NakedWindow] = []
    open_since: dict[str, int] = {}  # symbol -> when the position opened
    naked_since: dict[str, tuple[int, str, bool]] = {}
    for record in records:
        t_ms = record["t_ms"]
        positions = record["positions"]
        symbols = sorted(set(positions) | set(naked_since) | set(open_since))
        for symbol in symbols:
            amount = Decimal(positions.get(symbol, {}).get("amount", "0"))
            if amount == 0:
                open_since.pop(symbol, None)
            else:
                open_since.setdefault(symbol, t_ms)
            naked = amount != 0 and not protected(symbol, amount, record["open_algo_orders"])
            if naked and symbol not in naked_since:
                naked_since[symbol] = (t_ms, str(amount), open_since[symbol] == t_ms)
            elif not naked and symbol in naked_since:
                start, held, first = naked_since.pop(symbol)
                windows.append(NakedWindow(symbol, start, t_ms, held, first))
    for symbol, (start, held, first) in sorted(naked_since.items()):
        windows.append(NakedWindow(symbol, start, end_ms, held, first))
    return windows
