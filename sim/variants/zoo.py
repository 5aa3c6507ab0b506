"""The bug zoo: the reference bot with one realistic bug each.

Every variant changes exactly one behaviour of the reference bot, by subclassing the part
that holds it, so a failing scenario points at that one bug. Each docstring says where such
bugs come from in real bots.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from decimal import ROUND_CEILING, ROUND_FLOOR

import ccxt

from bot.core import messages as m
from bot.core import trailing
from bot.core.book import BookChange, Holding, PositionBook
from bot.core.guard import GuardState, Outcome, StopGuard
from bot.core.protector import Protector
from bot.shell.app import Bot
from bot.shell.exchange import NOT_EXECUTED, UNKNOWN_OUTCOME, Venue


# ------------------------------------------------------------------ cancel-then-create
class CancelFirstGuard(StopGuard):
    def _protect(self, state: GuardState, t_ms: int) -> Outcome:
        live = self._live(state)
        trail = state.trail
        if (
            live
            and trail is not None
            and not self._in_flight(state)
            and state.phase == "PROTECTED"
            and all(s.level != trail.stop for s in live)
        ):
            commands: list[m.Command] = []
            for stop in live:  # the bug: the old stop goes first
                state = self._with_stop(state, stop.client_id, state="cancelling")
                commands.append(m.CancelStop(state.symbol, stop.client_id))
            return state, commands
        return super()._protect(state, t_ms)

    def on_stop_event(self, state: GuardState, event) -> Outcome:
        state, commands = super().on_stop_event(state, event)
        if (
            isinstance(event, m.StopCancelled)
            and state.phase in ("PROTECTED", "UNPROTECTED")
            and not self._live(state)
            and not self._in_flight(state)
        ):
            state = dataclasses.replace(state, phase="UNPROTECTED")
            state, more = StopGuard._protect(self, state, event.t_ms)  # then the new one
            commands = [*commands, *more]
        return state, commands


class CancelThenCreateBot(Bot):
    """Replaces a stop by cancelling the old one, then creating the new one: the natural
    reading of "move the stop", and what exchange APIs without stop modification invite."""

    class protector_class(Protector):
        guard_class = CancelFirstGuard


# ------------------------------------------------------------------ timeout-as-failure
class TimeoutIsFailureGuard(StopGuard):
    def on_stop_event(self, state: GuardState, event) -> Outcome:
        stop = self._stop(state, getattr(event, "client_id", ""))
        if isinstance(event, m.OrderOutcomeUnknown) and stop is not None:
            state = self._without(state, stop.client_id)  # the bug: "it failed"
            state = dataclasses.replace(
                state, phase="UNPROTECTED" if not self._live(state) else state.phase
            )
            return super()._protect(state, event.t_ms)  # a new id: a second stop
        return super().on_stop_event(state, event)


class TimeoutAsFailureBot(Bot):
    """Treats a request timeout as a refusal and sends the stop again with a new client id.
    Timeouts mean "unknown", not "no": the first stop may well exist (binance-usdm.md §5.5)."""

    class protector_class(Protector):
        guard_class = TimeoutIsFailureGuard


# ------------------------------------------------------------------ stream-only-book
class StreamOnlyProtector(Protector):
    def handle(self, event: m.Event) -> list[m.Command]:
        if isinstance(event, m.FillReported):
            return []  # the bug: only ACCOUNT_UPDATE (or REST) may change a position
        return super().handle(event)


class StreamOnlyBookBot(Bot):
    """Learns positions only from ACCOUNT_UPDATE and REST, never from its own fills: a
    "single source of truth" taken too literally. When the entry's ACCOUNT_UPDATE is lost,
    the position goes unprotected until the next reconciliation."""

    protector_class = StreamOnlyProtector


# ------------------------------------------------------------------ ignore listenKeyExpired
class IgnoreListenKeyExpiryBot(Bot):
    """Relies on ccxt for the user data stream: no reaction to ``listenKeyExpired`` (ccxt
    ignores it) and no periodic REST reconciliation, as most bots built on ccxt.pro run."""

    def _watch_listen_key_expiry(self, exchange) -> None:
        pass  # the bug

    async def _reconcile_all(self) -> None:
        pass  # ... and no periodic safety net


# ------------------------------------------------------------------ trust TRIGGERING
class TrustTriggeringGuard(StopGuard):
    def on_timer(self, state: GuardState, event: m.TimerFired) -> Outcome:
        if any(s.state == "triggering" for s in state.stops):
            return state, []  # the bug: "it is triggering, it will fill"
        return super().on_timer(state, event)


class TrustTriggeringBot(Bot):
    """Takes an algo order in TRIGGERING as good as filled and waits. Binance Demo has been
    seen to leave a reduce-only stop in TRIGGERING with no order (binance-usdm.md §15)."""

    class protector_class(Protector):
        guard_class = TrustTriggeringGuard


# ------------------------------------------------------------------ forget after restart
class ForgetfulBook(PositionBook):
    def apply(self, event) -> BookChange | None:
        if isinstance(event, m.PositionReported) and event.source == "rest":
            return None  # the bug: at start, the database (not REST) says what is open
        return super().apply(event)


class DatabaseOnRestartBot(Bot):
    """After a restart, takes its open positions from its own database and ignores what REST
    lists; with a stale database it forgets a position and stops trailing it."""

    class protector_class(Protector):
        book_class = ForgetfulBook


# ------------------------------------------------------------------ double-count fills
class DoubleCountBook(PositionBook):
    def apply(self, event) -> BookChange | None:
        if isinstance(event, m.FillReported):
            before = self.get(event.symbol)  # the bug: every fill report moves the position
            after = Holding(
                event.symbol,
                before.amount + event.delta,
                event.price,
                max(before.as_of_ms, event.event_ms),
                "fill",
            )
            self._holdings[event.symbol] = after
            return BookChange(before, after) if after.amount != before.amount else None
        return super().apply(event)


class DoubleCountFillsBot(Bot):
    """Adds every fill it hears of to the position, from the order's answer and from the
    stream alike: the same fill, counted twice, or three times when the stream repeats."""

    class protector_class(Protector):
        book_class = DoubleCountBook


# ------------------------------------------------------------------ software stop
class SoftwareStopGuard(StopGuard):
    def _protect(self, state: GuardState, t_ms: int) -> Outcome:
        trail = state.trail
        if trail is None or state.mark is None or state.phase not in ("UNPROTECTED", "PROTECTED"):
            return state, []
        if trailing.beyond(state.side, trail.stop, state.mark):  # the bug: no exchange stop
            return self._close(state, t_ms, "software stop hit")
        return state, []


class SoftwareStopBot(Bot):
    """Keeps its stops in memory and closes at market when the mark crosses them (a
    "mental stop"): nothing protects the position between price updates, or when the bot
    is down."""

    class protector_class(Protector):
        guard_class = SoftwareStopGuard


# ------------------------------------------------------------------ no -2021 handling
class No2021Guard(StopGuard):
    def _after_lost_stop(self, state, t_ms, *, expected=False, rejected=None, status=""):
        if rejected in (-2021, -4142):
            return state, [m.Note(state.symbol, "stop-refused", str(rejected))]  # and nothing
        return super()._after_lost_stop(
            state, t_ms, expected=expected, rejected=rejected, status=status
        )


class No2021HandlingBot(Bot):
    """Logs a -2021 on a protective stop and carries on: the incident's own bug, in a bot
    that otherwise does everything right."""

    class protector_class(Protector):
        guard_class = No2021Guard


# ------------------------------------------------------------------ stops left after close
class KeepStopsGuard(StopGuard):
    def _cancel_all(self, state: GuardState) -> Outcome:
        return dataclasses.replace(state, stops=()), []  # the bug: forgets, cancels nothing


class StopsLeftAfterCloseBot(Bot):
    """Forgets its stops when the position closes instead of cancelling them; closePosition
    stops then wait on a flat symbol and fire into the next position."""

    class protector_class(Protector):
        guard_class = KeepStopsGuard


# ------------------------------------------------------------------ loosening trail
def _round_toward_market(price, tick, side):
    rounding = ROUND_CEILING if side == "long" else ROUND_FLOOR
    return (price / tick).to_integral_value(rounding=rounding) * tick


class LooseningTrailGuard(StopGuard):
    def on_mark(self, state: GuardState, event: m.MarkPriced) -> Outcome:
        trail = state.trail
        if trail is not None and trail.activated:
            # the bug: the level is recomputed from the current mark, not the best since
            # activation, and rounded towards the market
            rate = self.config.params.callback_pct / 100
            wanted = event.mark * (1 - rate if trail.side == "long" else 1 + rate)
            level = _round_toward_market(wanted, self.config.params.tick, trail.side)
            state = dataclasses.replace(
                state, trail=dataclasses.replace(trail, stop=level), mark=event.mark
            )
            return self._protect(state, event.t_ms)
        return super().on_mark(state, event)


class LooseningTrailBot(Bot):
    """Trails the current price instead of the best one (and rounds towards the market), so
    the stop falls back when the price does: a trailing stop that loosens."""

    class protector_class(Protector):
        guard_class = LooseningTrailGuard


# ------------------------------------------------------------------ trust REST absence
class TrustRestAbsenceProtector(Protector):
    def _stop_still_there(self, symbol: str) -> bool:
        return False  # the bug: a position REST does not list is a position we do not hold


class TrustRestAbsenceBot(Bot):
    """Believes REST's position list: a symbol missing from positionRisk is flat, so its
    stop goes. REST lags the fills (the SOONUSDT incident's "Position not found"); after a
    restart, with no stream history to say otherwise, the live position loses its stop."""

    protector_class = TrustRestAbsenceProtector


# ------------------------------------------------------------------ no cancel backpressure
class NoBackpressureGuard(StopGuard):
    max_stops = 1_000_000  # the bug: a new stop whether the cancels before it are done or not


class NoCancelBackpressureBot(Bot):
    """Places each trailing move as soon as the previous placement is answered, without
    waiting for the cancels of replaced stops: when cancels are slow or refused, stops pile
    up on the exchange (and each one will fire)."""

    class protector_class(Protector):
        guard_class = NoBackpressureGuard


# ------------------------------------------------------------------ gone-means-cancelled
class GoneMeansCancelledVenue(Venue):
    async def cancel_stop(self, cmd: m.CancelStop) -> list[m.Event]:
        try:
            await self.exchange.cancel_order(
                None, self.unified(cmd.symbol), {"trigger": True, "clientOrderId": cmd.client_id}
            )
        except ccxt.OrderNotFound:
            pass  # the bug: "unknown order" taken for "cancelled", never asked whether it fired
        return [m.StopCancelled(cmd.symbol, cmd.client_id, self.now_ms())]


class GoneMeansCancelledBot(Bot):
    """Takes -2011 ("Unknown order sent") on a cancel for success: the stop is gone, as
    wanted. But a stop that is gone may have fired; when the stream that would have said so
    is silent, the bot keeps trailing a position that no longer exists and leaves its next
    stop on a flat symbol."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.venue = GoneMeansCancelledVenue(self.venue.exchange, self.venue.working_type)


# ------------------------------------------------------------------ reconcile-gives-up
class ReconcileGivesUpBot(Bot):
    """Retries a failed REST reconciliation a few times, then gives up until the next
    periodic one. At start-up no entry may go out before the first reconciliation (the bot
    must know what is open), so a positionRisk outage of a few seconds silences the bot's
    entries for a whole reconciliation interval."""

    async def _reconcile(self, symbol: str) -> None:
        try:
            for attempt in range(1, self.config.execution.max_attempts + 1):
                try:
                    self._emit(await self.venue.reconcile(symbol))
                    return
                except (*NOT_EXECUTED, *UNKNOWN_OUTCOME):
                    await asyncio.sleep(self._backoff_s(attempt))
            logging.getLogger("bot").error("%s: reconciliation failed; giving up", symbol)
        finally:
            self._reconciling[symbol] = False


# ------------------------------------------------------------------ REST snapshot overwrites
class LastSnapshotWinsBook(PositionBook):
    def apply(self, event) -> BookChange | None:
        if isinstance(event, m.PositionReported) and event.source == "rest":
            before = self.get(event.symbol)  # the bug: REST's answer replaces what we know
            after = Holding(
                event.symbol,
                event.amount,
                event.entry,
                max(event.event_ms, before.as_of_ms),
                "rest",
            )
            self._holdings[event.symbol] = after
            if (after.amount, after.entry) == (before.amount, before.entry):
                return None
            return BookChange(before, after)
        return super().apply(event)


class RestSnapshotOverwritesBot(Bot):
    """Replaces its position with whatever the latest REST reconciliation says, without
    asking whether the answer is older than what the stream already said. A positionRisk
    snapshot taken before a fill but answered after the fill's ACCOUNT_UPDATE (slow REST, a
    periodic reconcile racing an entry or a stop) rolls the book back: the bot believes it
    is flat and cancels the stop of a live position, or re-protects one that is gone."""

    class protector_class(Protector):
        book_class = LastSnapshotWinsBook
