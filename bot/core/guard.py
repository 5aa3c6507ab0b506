"""The stop guard: one state machine per symbol that keeps an open position protected.

Invariant: while the exchange holds a position, a working stop that closes it exists, except
while the first one is being placed after the entry. Everything below serves that:

* stops are ``STOP_MARKET`` with ``closePosition=true``, so two can coexist safely, and a stop
  is replaced by **placing the new one first and cancelling the old one after**;
* at most one placement is in flight, so at most two stops exist at once;
* client ids are deterministic (symbol, position, sequence): a retry after an unknown outcome
  reuses the id, so it can never create a second stop (Binance refuses a duplicate id);
* an unknown outcome (timeout, 5xx) is looked up by client id before any retry;
* a protective stop refused with -2021/-4142 (the price is already past it) closes the
  position at market, or re-prices, by configuration;
* a stop that ends without closing the position (REJECTED, EXPIRED, cancelled by the venue,
  stuck in TRIGGERING past a bound) is replaced, or the position closed;
* when the position is flat, every remaining stop of the symbol is cancelled.

Phases: ``FLAT`` → (entry) ``ENTERING`` → (fill) ``UNPROTECTED`` → (stop accepted)
``PROTECTED``; ``CLOSING`` while a market close is in flight. The table :data:`TRANSITIONS`
names the handler of every (phase, event) pair; pairs not in it are ignored. Each stop has
its own small lifecycle (:data:`STOP_STATES`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bot.core import messages as m
from bot.core.book import BookChange
from bot.core.trailing import Trail, TrailParams, beyond, initial_trail, on_mark, to_tick

IMMEDIATE_TRIGGER_CODES = (-2021, -4142)
DUPLICATE_ID_CODE = -4116

# A stop's lifecycle, as the guard knows it.
#   placing    -> working | unknown | gone      (accepted / outcome unknown / rejected)
#   unknown    -> working | placing | gone      (lookup: found open / not found: retry / ended)
#   working    -> cancelling | triggering | fired | gone
#   triggering -> fired | gone                  (TRIGGERED/FINISHED / REJECTED, EXPIRED)
#   cancelling -> gone | fired
#   fired: it triggered; the position should now be flat
STOP_STATES = ("placing", "unknown", "working", "triggering", "cancelling", "fired")
LIVE_STATES = ("working", "triggering")  # protecting the position right now


@dataclass(frozen=True, slots=True)
class StopRef:
    client_id: str
    level: Decimal
    state: str
    since_ms: int
    cancel_when_known: bool = False  # the position went flat while it was being placed
    quantity: Decimal | None = None  # a reduce-only stop's size; None: closePosition


@dataclass(frozen=True, slots=True)
class GuardConfig:
    prefix: str
    params: TrailParams
    on_immediate_trigger: str  # "close" | "reprice"
    triggering_timeout_ms: int
    confirm_timeout_ms: int  # how long to wait for a close / a fired stop to show up
    # "close_position": closePosition stops; "reduce_only": reduce-only stops for the
    # position's size. Binance is widely reported to refuse a second closePosition stop of the
    # same side (-4130), which defeats place-new-first; reduce-only stops can coexist.
    stop_style: str = "close_position"


@dataclass(frozen=True, slots=True)
class GuardState:
    symbol: str
    phase: str = "FLAT"
    side: str | None = None  # "long" | "short"
    quantity: Decimal = Decimal(0)
    trail: Trail | None = None
    stops: tuple[StopRef, ...] = ()
    opened_ms: int = 0  # identifies the position in client ids
    seq: int = 0  # next client-id number for this position
    entry_id: str = ""
    close_id: str = ""
    close_since_ms: int = 0
    mark: Decimal | None = None
    repriced_at: Decimal | None = None  # the mark the last reprice was computed from
    # stops lately done with: their late stream echoes (a NEW after our cancel) are not news
    forgotten: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HoldingChanged:
    """The book's view of the position changed (an internal event, from the book)."""

    change: BookChange
    t_ms: int


Outcome = tuple[GuardState, list[m.Command]]
Handler = Callable[["StopGuard", GuardState, object], Outcome]


MAX_CLIENT_ID = 36
MAX_STOPS = 2  # the old and its replacement: never a third
FORGOTTEN_KEPT = 16
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


def exit_side(side: str) -> str:
    return "sell" if side == "long" else "buy"


class StopGuard:
    #: stops standing or being cancelled beyond which no new one is placed (a variant may
    #: lift it)
    max_stops = MAX_STOPS

    def __init__(self, config: GuardConfig) -> None:
        self.config = config

    # ------------------------------------------------------------------ dispatch
    def handle(self, state: GuardState, event: object) -> Outcome:
        handler = TRANSITIONS.get((state.phase, type(event)))
        if handler is None:
            return state, []
        # By name, through the instance: a subclass that overrides a handler is obeyed.
        return getattr(self, handler.__name__)(state, event)

    # ------------------------------------------------------------------ ids
    def _next_id(self, state: GuardState, kind: str) -> tuple[GuardState, str]:
        """``fs-s-SOONUSDT-mhu2v5q4-3``: prefix, kind (e entry, s stop, c close), symbol, the
        position's opening time in base 36, sequence. Deterministic, so a retry reuses it;
        within Binance's 36 characters, or refused (never truncated into a collision)."""
        client_id = (
            f"{self.config.prefix}-{kind}-{state.symbol}-{base36(state.opened_ms)}-{state.seq}"
        )
        if len(client_id) > MAX_CLIENT_ID:
            raise ValueError(
                f"client id {client_id!r} exceeds Binance's {MAX_CLIENT_ID} "
                "characters; use a shorter client_id_prefix"
            )
        return dataclasses.replace(state, seq=state.seq + 1), client_id

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _stop(state: GuardState, client_id: str) -> StopRef | None:
        return next((s for s in state.stops if s.client_id == client_id), None)

    @staticmethod
    def _with_stop(guard: GuardState, client_id: str, **changes) -> GuardState:
        stops = tuple(
            dataclasses.replace(s, **changes) if s.client_id == client_id else s
            for s in guard.stops
        )
        return dataclasses.replace(guard, stops=stops)

    @staticmethod
    def _without(state: GuardState, client_id: str) -> GuardState:
        forgotten = (*state.forgotten, client_id)[-FORGOTTEN_KEPT:]
        return dataclasses.replace(
            state,
            stops=tuple(s for s in state.stops if s.client_id != client_id),
            forgotten=forgotten,
        )

    @staticmethod
    def _live(state: GuardState) -> list[StopRef]:
        return [s for s in state.stops if s.state in LIVE_STATES]

    @staticmethod
    def _in_flight(state: GuardState) -> bool:
        # A placement doomed to be cancelled (``cancel_when_known``: it belongs to a position
        # that went flat or flipped) does not protect the current position, so it must not
        # hold back the current position's first stop. Counting it left a re-entered or
        # flipped position naked until the next mark price.
        return any(
            s.state in ("placing", "unknown") and not s.cancel_when_known for s in state.stops
        )

    def _place(self, state: GuardState, level: Decimal, t_ms: int) -> Outcome:
        state, client_id = self._next_id(state, "s")
        quantity = state.quantity if self.config.stop_style == "reduce_only" else None
        stop = StopRef(client_id, level, "placing", t_ms, quantity=quantity)
        state = dataclasses.replace(state, stops=(*state.stops, stop))
        return state, [m.PlaceStop(state.symbol, exit_side(state.side), level, client_id, quantity)]

    def _most_protective(self, state: GuardState) -> StopRef | None:
        """The live stop closest to the market among those covering the position; ties go to
        the newest."""
        covering = [s for s in self._live(state) if self._covers(s, state)]
        if not covering:
            return None
        sign = 1 if state.side == "long" else -1
        return max(reversed(covering), key=lambda s: sign * s.level)

    @staticmethod
    def _covers(stop: StopRef, state: GuardState) -> bool:
        """A stop closes the whole position: closePosition, or reduce-only for at least its
        size (Binance caps a reduce-only order at the position, so more is safe)."""
        return stop.quantity is None or stop.quantity >= state.quantity

    def _close(self, state: GuardState, t_ms: int, why: str) -> Outcome:
        state, client_id = self._next_id(state, "c")
        state = dataclasses.replace(state, phase="CLOSING", close_id=client_id, close_since_ms=t_ms)
        return state, [
            m.Note(state.symbol, "close", why),
            m.ClosePosition(state.symbol, exit_side(state.side), state.quantity, client_id),
            m.SetTimer(state.symbol, t_ms + self.config.confirm_timeout_ms),
        ]

    def _cancel_all(self, state: GuardState) -> Outcome:
        """The position is flat: every stop of ours goes."""
        commands: list[m.Command] = []
        stops = []
        for stop in state.stops:
            if stop.state in ("working", "triggering"):
                commands.append(m.CancelStop(state.symbol, stop.client_id))
                stops.append(dataclasses.replace(stop, state="cancelling"))
            elif stop.state in ("placing", "unknown"):
                stops.append(dataclasses.replace(stop, cancel_when_known=True))
            elif stop.state == "cancelling":
                stops.append(stop)
        return dataclasses.replace(state, stops=tuple(stops)), commands

    def _protect(self, state: GuardState, t_ms: int) -> Outcome:
        """Bring protection to the trail's level: place a first stop, or replace the live one
        (new first, old cancelled once the new one is accepted)."""
        trail = state.trail
        if (
            trail is None
            or self._in_flight(state)
            or state.phase not in ("UNPROTECTED", "PROTECTED")
            or any(s.state == "fired" for s in state.stops)
        ):
            # A fired stop means the position should be flat: wait for the reconciliations
            # the fire asked for rather than put a new stop on a position that may be gone.
            return state, []
        best = self._most_protective(state)
        if best is not None:
            # Protection only ratchets: a wanted level looser than a live stop (a trail
            # restored from a stale database, a stop adopted after a restart) is raised to it.
            tighter = best.level > trail.stop if state.side == "long" else best.level < trail.stop
            if tighter:
                trail = dataclasses.replace(trail, stop=best.level)
                state = dataclasses.replace(state, trail=trail)
            if best.level == trail.stop:
                return state, []
        standing = [s for s in state.stops if s.state in (*LIVE_STATES, "cancelling")]
        if len(standing) >= self.max_stops:
            return state, []  # a cancel is slow or refused: no third stop (after it: again)
        if state.mark is not None and beyond(state.side, trail.stop, state.mark):
            return self._on_crossed(state, t_ms, "the wanted stop level is already crossed")
        return self._place(state, trail.stop, t_ms)

    def _on_crossed(self, state: GuardState, t_ms: int, why: str) -> Outcome:
        """The price is past the level protection should be at (a -2021 situation)."""
        if self.config.on_immediate_trigger == "close" or state.mark is None:
            return self._close(state, t_ms, why)
        if state.repriced_at == state.mark:
            # Refused again with nothing new to go on: our mark is behind the venue's, and
            # with a fast REST answer re-pricing would loop without end. The stop would
            # have fired: close (found by futsim fuzz, REST latency 0 and reprice).
            return self._close(state, t_ms, f"{why}, again at the same mark")
        state = dataclasses.replace(state, repriced_at=state.mark)
        tick = self.config.params.tick
        level = state.mark - tick if state.side == "long" else state.mark + tick
        level = to_tick(level, tick, state.side)
        if any(beyond(state.side, s.level, level) for s in self._live(state)):
            # A live stop is already at least this tight. Re-pricing would replace it by a
            # looser one (a mark off the grid just above a working stop rounds to a tick
            # below it), moving protection backwards: keep the live stop.
            return state, []
        state = dataclasses.replace(state, trail=dataclasses.replace(state.trail, stop=level))
        outcome_state, commands = self._place(state, level, t_ms)
        return outcome_state, [m.Note(state.symbol, "reprice", why), *commands]

    # ------------------------------------------------------------------ position
    def on_holding(self, state: GuardState, event: HoldingChanged) -> Outcome:
        before, after = event.change.before, event.change.after
        if after.amount == 0:
            state = dataclasses.replace(
                state,
                phase="FLAT",
                side=None,
                quantity=Decimal(0),
                trail=None,
                close_id="",
                opened_ms=0,
                seq=0,
            )
            state, commands = self._cancel_all(state)
            return state, [
                m.Note(state.symbol, "flat", f"position closed ({after.source})"),
                *commands,
            ]
        if before.amount != 0 and before.side == after.side:
            # Resized: a closePosition stop covers any size; a reduce-only one is replaced
            # (new first) if the position outgrew it.
            state = dataclasses.replace(state, quantity=abs(after.amount))
            return self._protect(state, event.t_ms)
        if before.amount != 0:  # flipped: the old side's stops go, the new side is protected
            state, commands = self._cancel_all(state)
        else:
            commands = []
        side = after.side
        trail = state.trail if state.trail is not None and state.trail.side == side else None
        opened_ms = state.opened_ms or event.t_ms  # set by our entry, or a restored trail
        if trail is None:
            trail = initial_trail(side, after.entry, self.config.params, event.t_ms)
        state = dataclasses.replace(
            state,
            side=side,
            quantity=abs(after.amount),
            trail=trail,
            opened_ms=opened_ms,
            phase="PROTECTED" if self._live(state) else "UNPROTECTED",
        )
        state, placed = self._protect(state, event.t_ms)
        return state, [*commands, *placed]

    def on_entry_requested(self, state: GuardState, event: m.EntryRequested) -> Outcome:
        # Stops still standing here belong to no position we know (kept after a restart
        # while REST omitted the symbol): they go before a new position could inherit them.
        state, strays = self._cancel_all(state)
        state = dataclasses.replace(
            state, opened_ms=event.t_ms, seq=0, trail=None, repriced_at=None
        )
        state, client_id = self._next_id(state, "e")
        state = dataclasses.replace(state, phase="ENTERING", entry_id=client_id)
        side = "buy" if event.side == "long" else "sell"
        return state, [*strays, m.PlaceEntry(state.symbol, side, event.quantity, client_id)]

    def on_entry_event(self, state: GuardState, event) -> Outcome:
        if getattr(event, "client_id", None) != state.entry_id:
            return self.on_stop_event(state, event)
        if isinstance(event, m.OrderAccepted):
            return state, []  # the fill comes as a position change
        if isinstance(event, m.OrderOutcomeUnknown):
            return state, [
                m.LookUpOrder(state.symbol, state.entry_id, stop=False),
                m.Reconcile(state.symbol),
            ]
        state = dataclasses.replace(state, phase="FLAT", entry_id="")
        return state, [m.Note(state.symbol, "entry-failed", type(event).__name__)]

    # ------------------------------------------------------------------ prices and time
    def on_mark(self, state: GuardState, event: m.MarkPriced) -> Outcome:
        state = dataclasses.replace(state, mark=event.mark)
        if state.trail is None:
            return state, []
        trail = on_mark(state.trail, event.mark, event.t_ms, self.config.params)
        state = dataclasses.replace(state, trail=trail)
        return self._protect(state, event.t_ms)

    def on_timer(self, state: GuardState, event: m.TimerFired) -> Outcome:
        commands: list[m.Command] = []
        bound = self.config.triggering_timeout_ms
        stuck = [
            s for s in state.stops if s.state == "triggering" and event.t_ms - s.since_ms >= bound
        ]
        if stuck and state.phase in ("PROTECTED", "UNPROTECTED"):
            return self._close(state, event.t_ms, f"stop {stuck[0].client_id} stuck in TRIGGERING")
        if state.phase == "CLOSING" and (
            event.t_ms - state.close_since_ms >= self.config.confirm_timeout_ms
        ):
            commands.append(m.Reconcile(state.symbol))
            commands.append(m.SetTimer(state.symbol, event.t_ms + self.config.confirm_timeout_ms))
        if any(s.state == "fired" for s in state.stops) and state.phase != "FLAT":
            commands.append(m.Reconcile(state.symbol))
        for stop in state.stops:  # cancels refused earlier: ask again
            if stop.state == "cancelling" and (
                event.t_ms - stop.since_ms >= self.config.confirm_timeout_ms
            ):
                state = self._with_stop(state, stop.client_id, since_ms=event.t_ms)
                commands.append(m.CancelStop(state.symbol, stop.client_id))
        return state, commands

    # ------------------------------------------------------------------ our orders
    def on_stop_event(self, state: GuardState, event) -> Outcome:
        client_id = getattr(event, "client_id", "")
        if client_id and client_id == state.close_id:
            return self.on_close_event(state, event)
        stop = self._stop(state, client_id)
        if stop is None and client_id in state.forgotten:
            return state, []  # a late echo of a stop we are done with
        if stop is None:
            # A stop of ours we do not know (a previous life's) announcing itself open: cancel
            # it if a live one protects the position. Its level is unknown here, so in FLAT
            # (position not yet known) or unprotected it waits for a listing, which has it.
            opened = isinstance(event, m.OrderAccepted) or (
                isinstance(event, m.StopStatusChanged) and event.status in ("NEW", "TRIGGERING")
            )
            if (
                opened
                and event.client_id.startswith(f"{self.config.prefix}-s-")
                and (self._live(state))
            ):
                return self._adopt(state, event.client_id, None, event.t_ms)
            return state, []
        t_ms = event.t_ms
        if isinstance(event, m.OrderAccepted) or (
            isinstance(event, m.StopStatusChanged) and event.status == "NEW"
        ):
            if stop.state not in ("placing", "unknown"):
                return state, []
            if stop.cancel_when_known or state.phase == "FLAT":
                state = self._with_stop(state, client_id, state="cancelling", since_ms=t_ms)
                return state, [m.CancelStop(state.symbol, client_id)]
            state = self._with_stop(state, client_id, state="working", since_ms=t_ms)
            commands: list[m.Command] = []
            # Replaced: keep the most protective stop that covers the position (normally the
            # new one; an adopted tighter one after a restart) and cancel the others.
            keep = self._most_protective(state) or self._stop(state, client_id)
            for other in self._live(state):
                if other.client_id != keep.client_id:
                    state = self._with_stop(state, other.client_id, state="cancelling")
                    commands.append(m.CancelStop(state.symbol, other.client_id))
            state = dataclasses.replace(
                state,
                phase="PROTECTED" if state.phase in ("UNPROTECTED", "PROTECTED") else state.phase,
            )
            state, more = self._protect(state, t_ms)  # the trail may have moved meanwhile
            return state, [*commands, *more]
        if isinstance(event, m.OrderRejected) and stop.state == "cancelling":
            state = self._with_stop(state, client_id, since_ms=t_ms)  # still standing
            return state, [m.SetTimer(state.symbol, t_ms + self.config.confirm_timeout_ms)]
        if isinstance(event, m.OrderRejected):
            state = self._without(state, client_id)
            if event.code == DUPLICATE_ID_CODE:  # it exists already: find it
                state = dataclasses.replace(
                    state, stops=(*state.stops, dataclasses.replace(stop, state="unknown"))
                )
                return state, [m.LookUpOrder(state.symbol, client_id, stop=True)]
            if stop.cancel_when_known:
                # It was the previous position's stop: its refusal (even -2021) says nothing
                # about the current position, which used to be closed at market here.
                return state, []
            return self._after_lost_stop(state, t_ms, rejected=event.code)
        if isinstance(event, m.OrderOutcomeUnknown):
            state = self._with_stop(state, client_id, state="unknown", since_ms=t_ms)
            return state, [m.LookUpOrder(state.symbol, client_id, stop=True)]
        if isinstance(event, m.OrderNotFound):
            if stop.state != "unknown":
                return state, []
            if stop.cancel_when_known or state.phase == "FLAT":
                return self._without(state, client_id), []
            state = self._with_stop(state, client_id, state="placing", since_ms=t_ms)
            return state, [
                m.PlaceStop(
                    state.symbol, exit_side(state.side), stop.level, client_id, stop.quantity
                )
            ]  # same id: idempotent
        if isinstance(event, m.StopCancelled):
            expected = stop.state == "cancelling"
            state, commands = self._after_lost_stop(
                self._without(state, client_id), t_ms, expected=expected
            )
            if expected and state.phase == "PROTECTED":  # a move may have waited for it
                state, more = self._protect(state, t_ms)
                commands = [*commands, *more]
            return state, commands
        if isinstance(event, m.StopStatusChanged):
            return self._on_status(state, stop, event)
        return state, []

    def _on_status(self, state: GuardState, stop: StopRef, event: m.StopStatusChanged) -> Outcome:
        status, t_ms = event.status, event.t_ms
        if status == "TRIGGERING":
            state = self._with_stop(state, stop.client_id, state="triggering", since_ms=t_ms)
            return state, [m.SetTimer(state.symbol, t_ms + self.config.triggering_timeout_ms)]
        if status in ("TRIGGERED", "FINISHED"):
            if state.phase == "FLAT":  # fired after the position was gone: nothing to watch
                return self._without(state, stop.client_id), []
            state = self._with_stop(state, stop.client_id, state="fired", since_ms=t_ms)
            # Ask REST now (its absence is believed from here on) and again when the
            # confirmation time is up (the position may be shown late, or not have closed).
            return state, [
                m.Reconcile(state.symbol),
                m.SetTimer(state.symbol, t_ms + self.config.confirm_timeout_ms),
            ]
        if status in ("CANCELED", "REJECTED", "EXPIRED"):
            state = self._without(state, stop.client_id)
            expected = stop.state == "cancelling" or stop.cancel_when_known  # ours to drop
            return self._after_lost_stop(state, t_ms, expected=expected, status=status)
        return state, []

    def _after_lost_stop(
        self,
        state: GuardState,
        t_ms: int,
        *,
        expected: bool = False,
        rejected: int | None = None,
        status: str = "",
    ) -> Outcome:
        """A stop is gone. If it was protecting an open position alone, protect again."""
        if state.phase in ("FLAT", "ENTERING", "CLOSING") or expected:
            return state, []
        if rejected in IMMEDIATE_TRIGGER_CODES:
            return self._on_crossed(state, t_ms, f"stop refused with {rejected}")
        if rejected is not None and not self._live(state):
            return self._close(state, t_ms, f"no stop can be placed ({rejected})")
        if rejected is not None:
            return state, [m.Note(state.symbol, "stop-refused", str(rejected))]
        if self._live(state) or self._in_flight(state):
            return state, []
        state = dataclasses.replace(state, phase="UNPROTECTED")
        outcome_state, commands = self._protect(state, t_ms)
        return outcome_state, [m.Note(state.symbol, "stop-lost", status or "gone"), *commands]

    def _adopt(
        self, state: GuardState, client_id: str, level: Decimal | None, t_ms: int
    ) -> Outcome:
        """A stop of ours we did not know of (a previous run's): keep it if it protects the
        position and we have none, else cancel it. While FLAT it is kept until the position
        is known to be flat (:meth:`on_reconciled`): REST may not show a fresh position yet."""
        if state.phase == "FLAT" and level is not None:
            stop = StopRef(client_id, level, "working", t_ms)
            return dataclasses.replace(state, stops=(*state.stops, stop)), []
        if (
            state.phase in ("PROTECTED", "UNPROTECTED", "CLOSING")
            and level is not None
            and (not self._live(state))
        ):
            stop = StopRef(client_id, level, "working", t_ms)
            state = dataclasses.replace(
                state,
                stops=(*state.stops, stop),
                phase="PROTECTED" if state.phase != "CLOSING" else "CLOSING",
            )
            return self._protect(state, t_ms)
        stop = StopRef(client_id, level or Decimal(0), "cancelling", t_ms)
        state = dataclasses.replace(state, stops=(*state.stops, stop))
        return state, [m.CancelStop(state.symbol, client_id)]

    def on_open_stops(self, state: GuardState, event: m.OpenStopsListed) -> Outcome:
        """A REST listing of the open algo orders: a live stop missing from it (one we knew
        as live before the listing was requested) is looked up; unknown ones are adopted or
        cancelled."""
        listed = dict(event.stops)
        commands: list[m.Command] = []
        for stop in list(state.stops):
            if (
                stop.client_id not in listed
                and stop.state in (*LIVE_STATES, "cancelling")
                and (stop.since_ms < event.t_ms)
            ):
                if stop.state == "cancelling":
                    state = self._without(state, stop.client_id)
                    continue
                # Gone without our cancel: it fired (the position is closing) or the venue
                # ended it. Ask before acting; the answer (a StopStatusChanged) decides
                # between "flat" and "protect again".
                state = self._with_stop(state, stop.client_id, state="unknown", since_ms=event.t_ms)
                commands.append(m.Note(state.symbol, "stop-vanished", stop.client_id))
                commands.append(m.LookUpOrder(state.symbol, stop.client_id, stop=True))
        for client_id, level in event.stops:
            known = self._stop(state, client_id)
            if known is not None and known.level != level:
                # The exchange knows better (a retried id found an older order of ours).
                state = self._with_stop(state, client_id, level=level)
            state = self._past_listed_id(state, client_id)
            if known is None:
                state, more = self._adopt(state, client_id, level, event.t_ms)
                commands += more
        state, more = self._after_lost_stop(state, event.t_ms)
        return state, [*commands, *more]

    def _past_listed_id(self, state: GuardState, client_id: str) -> GuardState:
        """Move the id sequence past a listed id of this position: a sequence restored from a
        lagging database must not reuse the id of a stop that still stands."""
        prefix = f"{self.config.prefix}-s-{state.symbol}-{base36(state.opened_ms)}-"
        tail = client_id[len(prefix) :] if client_id.startswith(prefix) else ""
        if tail.isdigit() and int(tail) >= state.seq:
            return dataclasses.replace(state, seq=int(tail) + 1)
        return state

    def on_reconciled(self, state: GuardState, event: Reconciled) -> Outcome:
        if state.phase == "FLAT" and state.trail is not None and not event.position_known:
            # A previous life's position, not seen by REST: if no stop of ours stands for it,
            # it is gone (its stop fired, or it was closed) and REST may be believed from now
            # on; if one stands, REST may be lagging (the incident) and the stop is kept.
            if not any(s.state in LIVE_STATES for s in state.stops):
                state = dataclasses.replace(state, trail=None)
            return state, []
        if state.phase == "FLAT":
            if not event.position_known:
                return state, []
            # known flat (the stream said so, or a REST omission the book trusts): strays go
            return self._cancel_all(dataclasses.replace(state, trail=None))
        if state.phase == "CLOSING":
            # Still open after a close was sent and the confirmation time passed: the close was
            # refused or lost. Send another; reduce-only cannot overshoot, so a duplicate close
            # is harmless.
            if event.t_ms - state.close_since_ms >= self.config.confirm_timeout_ms:
                return self._close(state, event.t_ms, "still open after a close")
            return state, []
        fired_long_ago = [
            s
            for s in state.stops
            if s.state == "fired" and event.t_ms - s.since_ms >= self.config.confirm_timeout_ms
        ]
        notes: list[m.Command] = []
        for stop in fired_long_ago:
            # It fired, yet REST still shows the position after the confirmation time: the
            # fire did not close it (a stop for an older size). Forget it and protect again.
            state = self._without(state, stop.client_id)
            notes.append(m.Note(state.symbol, "open-after-fire", stop.client_id))
        state, commands = self._protect(state, event.t_ms)
        return state, [*notes, *commands]

    # ------------------------------------------------------------------ closing
    def on_close_event(self, state: GuardState, event) -> Outcome:
        if getattr(event, "client_id", None) != state.close_id:
            return self.on_stop_event(state, event)
        if isinstance(event, m.OrderOutcomeUnknown):
            return state, [m.LookUpOrder(state.symbol, state.close_id, stop=False)]
        if isinstance(event, m.OrderNotFound):  # it never arrived: send it again, same id
            return state, [
                m.ClosePosition(state.symbol, exit_side(state.side), state.quantity, state.close_id)
            ]
        if isinstance(event, m.OrderRejected):  # e.g. -2022: nothing left to reduce
            return state, [
                m.Note(state.symbol, "close-refused", str(event.code)),
                m.Reconcile(state.symbol),
            ]
        return state, []


@dataclass(frozen=True, slots=True)
class Reconciled:
    """A REST reconciliation of ``symbol`` is complete (from the core's facade, which adds
    whether the book now *knows* the position, flat included)."""

    symbol: str
    t_ms: int
    position_known: bool


G = StopGuard
_ORDER_EVENTS = (
    m.OrderAccepted,
    m.OrderRejected,
    m.OrderOutcomeUnknown,
    m.OrderNotFound,
    m.StopStatusChanged,
    m.StopCancelled,
)

#: (phase, event type) -> handler. Pairs not listed are ignored.
TRANSITIONS: dict[tuple[str, type], Handler] = {
    ("FLAT", m.EntryRequested): G.on_entry_requested,
    ("FLAT", HoldingChanged): G.on_holding,
    ("FLAT", m.MarkPriced): G.on_mark,
    ("FLAT", m.OpenStopsListed): G.on_open_stops,
    ("FLAT", Reconciled): G.on_reconciled,
    ("ENTERING", HoldingChanged): G.on_holding,
    ("ENTERING", m.MarkPriced): G.on_mark,
    ("ENTERING", Reconciled): G.on_reconciled,
    **{("FLAT", e): G.on_stop_event for e in _ORDER_EVENTS},
    **{("ENTERING", e): G.on_entry_event for e in _ORDER_EVENTS},
    **{
        (phase, e): G.on_stop_event for phase in ("UNPROTECTED", "PROTECTED") for e in _ORDER_EVENTS
    },
    **{("CLOSING", e): G.on_close_event for e in _ORDER_EVENTS},
    **{(phase, HoldingChanged): G.on_holding for phase in ("UNPROTECTED", "PROTECTED", "CLOSING")},
    **{(phase, m.MarkPriced): G.on_mark for phase in ("UNPROTECTED", "PROTECTED", "CLOSING")},
    **{
        (phase, m.TimerFired): G.on_timer
        for phase in ("UNPROTECTED", "PROTECTED", "CLOSING", "FLAT")
    },
    **{
        (phase, m.OpenStopsListed): G.on_open_stops
        for phase in ("UNPROTECTED", "PROTECTED", "CLOSING")
    },
    **{(phase, Reconciled): G.on_reconciled for phase in ("UNPROTECTED", "PROTECTED", "CLOSING")},
}
