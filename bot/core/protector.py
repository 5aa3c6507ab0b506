"""The core's single entry point: the position book plus one stop guard per symbol.

``Protector.handle(event) -> commands``. Position evidence goes through the book first; a
guard hears about positions only as changes of the book (``HoldingChanged``), so there is
exactly one source of truth for position size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from bot.core import messages as m
from bot.core.book import PositionBook
from bot.core.guard import GuardConfig, GuardState, HoldingChanged, Reconciled, StopGuard
from bot.core.trailing import Trail

POSITION_EVIDENCE = (m.PositionReported, m.FillReported, m.PositionAbsent)
STANDING = ("working", "triggering", "placing", "unknown")  # may still protect a position


class Protector:
    #: the parts, replaceable by subclasses (a variant changes one behaviour)
    book_class: type[PositionBook] = PositionBook
    guard_class: type[StopGuard] = StopGuard

    def __init__(self, guards: Mapping[str, GuardConfig], rest_lag_bound_ms: int) -> None:
        self.book = self.book_class(rest_lag_bound_ms)
        self._guards = {symbol: self.guard_class(config) for symbol, config in guards.items()}
        self._states = {symbol: GuardState(symbol) for symbol in guards}

    @property
    def symbols(self) -> list[str]:
        return list(self._states)

    def state(self, symbol: str) -> GuardState:
        return self._states[symbol]

    def restore(self, symbol: str, trail: Trail, opened_ms: int, next_seq: int) -> None:
        """A previous run's trailing state (from the repository). Sizes still come only from
        the exchange; this keeps the trail's progress and the client-id sequence."""
        self._states[symbol] = dataclasses.replace(
            self._states[symbol], trail=trail, opened_ms=opened_ms, seq=next_seq
        )
        self.book.hint_open(symbol, opened_ms)

    def _stop_still_there(self, symbol: str) -> bool:
        """REST's absence proves nothing while a stop of ours stands for a position we hold,
        or while a position restored from a previous life is unresolved (the next listing of
        our stops settles it: see the guard's ``on_reconciled``). Once a stop of ours has
        fired, absence is what we expect and is believed."""
        state = self._states[symbol]
        if state.phase == "FLAT":
            return state.trail is not None
        if any(s.state == "fired" for s in state.stops):
            return False
        return any(s.state in STANDING for s in state.stops)

    def handle(self, event: m.Event) -> list[m.Command]:
        symbol = event.symbol
        if symbol not in self._guards:
            return []
        if isinstance(event, m.PositionAbsent) and self._stop_still_there(symbol):
            # REST leaves out a position whose stop of ours is still on the exchange: REST is
            # lagging (the SOONUSDT incident), or the position was closed by other means and
            # the stop is harmless. Believing "flat" would cancel the stop: never trade
            # protection for a REST omission.
            return []
        if isinstance(event, POSITION_EVIDENCE):
            change = self.book.apply(event)
            if change is None:
                return []
            inner: object = HoldingChanged(change, event.t_ms)
        elif isinstance(event, m.ReconcileCompleted):
            inner = Reconciled(symbol, event.t_ms, self.book.knows(symbol))
        else:
            inner = event
        state, commands = self._guards[symbol].handle(self._states[symbol], inner)
        self._states[symbol] = state
        return commands
