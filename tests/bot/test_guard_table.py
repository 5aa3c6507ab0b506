"""The stop guard as a table: (state, event) → (phase, stops, commands), one row per behaviour.

Every (phase, event type) pair of ``guard.TRANSITIONS`` has at least one row (a meta-test
enforces it). Starting states come from ``guard_states``; the guard is called directly, and
``HoldingChanged`` / ``Reconciled`` stand for what the Protector derives from the book. The
Protector itself is tested at the end: the book gates FLAT clean-up, and client ids.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import pytest

from bot.core import messages as m
from bot.core.guard import TRANSITIONS, GuardConfig, Reconciled, StopGuard, StopRef, base36
from bot.core.protector import Protector
from tests.bot.guard_states import (
    ACTIVATING_MARK,
    CONFIG,
    ENTRY,
    LONG_STOP,
    PREV_S1,
    PREV_S2,
    QTY,
    REPRICE,
    S1,
    S2,
    S3,
    STRAY,
    SYMBOL,
    T0,
    T_ACCEPT,
    T_FILL,
    T_LATER,
    T_MARK,
    T_PREV,
    TRAILED_STOP,
    accepted,
    activated_long,
    cancelled,
    changed,
    close_id,
    closing,
    doomed,
    entering,
    entry_id,
    flat,
    flat_with_doomed,
    flat_with_strays,
    initial_long,
    listed,
    mark,
    not_found,
    protected,
    rejected,
    replaced,
    replacing,
    restate,
    status,
    timer,
    unknown,
    unprotected,
)

D = Decimal
C2, C3 = close_id(2), close_id(3)
CWK = "cancel_when_known"

# ------------------------------------------------------------------ expected commands


def place(level, client_id: str, side: str = "sell") -> m.PlaceStop:
    return m.PlaceStop(SYMBOL, side, D(level), client_id)


def cancel(client_id: str) -> m.CancelStop:
    return m.CancelStop(SYMBOL, client_id)


def lookup(client_id: str, stop: bool = True) -> m.LookUpOrder:
    return m.LookUpOrder(SYMBOL, client_id, stop=stop)


def close(client_id: str, quantity=QTY, side: str = "sell") -> m.ClosePosition:
    return m.ClosePosition(SYMBOL, side, D(quantity), client_id)


def set_timer(at_ms: int) -> m.SetTimer:
    return m.SetTimer(SYMBOL, at_ms)


def note(kind: str, detail: str) -> m.Note:
    return m.Note(SYMBOL, kind, detail)


RECONCILE = m.Reconcile(SYMBOL)


def reconciled(known: bool, t_ms: int = T_LATER) -> Reconciled:
    return Reconciled(SYMBOL, t_ms, known)


def closes(cid: str, why: str, t_ms: int, quantity=QTY) -> list[m.Command]:
    """What closing the long at market looks like."""
    return [note("close", why), close(cid, quantity), set_timer(t_ms + 10_000)]


# ------------------------------------------------------------------ the table


def row(id_, given, event, phase, stops, commands, *, config=CONFIG, **also):
    """``stops``: ``(client_id, state)`` pairs, with a third item ``CWK`` when the stop is to
    be cancelled once known. ``also``: other fields of the state after (``trail__stop`` means
    ``state.trail.stop``)."""
    return pytest.param(given, event, phase, stops, commands, config, also, id=id_)


FLAT_ROWS = [
    row(
        "flat: an entry signal sends the entry order (buy for a long) and waits in ENTERING",
        flat(),
        m.EntryRequested(SYMBOL, "long", QTY, T0),
        "ENTERING",
        (),
        [m.PlaceEntry(SYMBOL, "buy", QTY, entry_id())],
        opened_ms=T0,
        entry_id=entry_id(),
    ),
    row(
        "flat: a short entry signal sells",
        flat(),
        m.EntryRequested(SYMBOL, "short", QTY, T0),
        "ENTERING",
        (),
        [m.PlaceEntry(SYMBOL, "sell", QTY, entry_id())],
    ),
    row(
        "flat: a position we did not open (restart, manual trade) is protected at once",
        flat(),
        changed(0, 4),
        "UNPROTECTED",
        ((f"fs-s-{SYMBOL}-{base36(T_FILL)}-0", "placing"),),
        [place(LONG_STOP, f"fs-s-{SYMBOL}-{base36(T_FILL)}-0")],
        side="long",
        quantity=QTY,
        opened_ms=T_FILL,
        trail__stop=LONG_STOP,
    ),
    row(
        "flat: a position appearing with a previous run's stop at the trail level keeps it",
        flat(StopRef(STRAY, LONG_STOP, "working", T0), trail=initial_long(), opened_ms=T0, seq=5),
        changed(0, 4),
        "PROTECTED",
        ((STRAY, "working"),),
        [],
    ),
    row(
        "flat: a mark price is only remembered",
        flat(),
        mark("2.05"),
        "FLAT",
        (),
        [],
        mark=D("2.05"),
    ),
    row(
        "flat: a listed stop of ours is kept until the position is known to be flat",
        flat(),
        listed((STRAY, "1.95")),
        "FLAT",
        ((STRAY, "working"),),
        [],
    ),
    row(
        "flat: reconciled with the position known flat, every listed stop is cancelled",
        flat_with_strays(),
        reconciled(known=True),
        "FLAT",
        ((STRAY, "cancelling"),),
        [cancel(STRAY)],
    ),
    row(
        "flat: reconciled while the position is not known yet (REST may lag), stops stay",
        flat_with_strays(),
        reconciled(known=False),
        "FLAT",
        ((STRAY, "working"),),
        [],
    ),
    row(
        "flat: the stop that was in flight when the position closed is cancelled once accepted",
        flat_with_doomed(),
        accepted(PREV_S2),
        "FLAT",
        ((PREV_S1, "cancelling"), (PREV_S2, "cancelling", CWK)),
        [cancel(PREV_S2)],
    ),
    row(
        "flat: that stop's NEW status counts as its acceptance",
        flat_with_doomed(),
        status(PREV_S2, "NEW"),
        "FLAT",
        ((PREV_S1, "cancelling"), (PREV_S2, "cancelling", CWK)),
        [cancel(PREV_S2)],
    ),
    row(
        "flat: that stop refused (even -2021) is simply forgotten",
        flat_with_doomed(),
        rejected(PREV_S2, -2021),
        "FLAT",
        ((PREV_S1, "cancelling"),),
        [],
    ),
    row(
        "flat: that stop's unknown outcome is looked up",
        flat_with_doomed(),
        unknown(PREV_S2),
        "FLAT",
        ((PREV_S1, "cancelling"), (PREV_S2, "unknown", CWK)),
        [lookup(PREV_S2)],
    ),
    row(
        "flat: that stop not found by the lookup is forgotten, not placed again",
        restate(flat_with_doomed(), PREV_S2, "unknown"),
        not_found(PREV_S2),
        "FLAT",
        ((PREV_S1, "cancelling"),),
        [],
    ),
    row(
        "flat: the old stop's cancel confirmed: forgotten",
        flat_with_doomed(),
        cancelled(PREV_S1),
        "FLAT",
        ((PREV_S2, "placing", CWK),),
        [],
    ),
    row(
        "flat: the old stop reports CANCELED: forgotten",
        flat_with_doomed(),
        status(PREV_S1, "CANCELED"),
        "FLAT",
        ((PREV_S2, "placing", CWK),),
        [],
    ),
    row(
        "flat: an unknown stop of ours announced by the stream waits for a listing "
        "(after a restart it may be a live position's only stop)",
        flat(),
        accepted(STRAY),
        "FLAT",
        (),
        [],
    ),
    row(
        "flat: a stop that fires after the position is gone is forgotten, not watched",
        flat_with_strays(),
        status(STRAY, "FINISHED"),
        "FLAT",
        (),
        [],
    ),
    row(
        "flat: an order that is not ours is ignored",
        flat(),
        accepted("web_manual_1"),
        "FLAT",
        (),
        [],
    ),
    row("flat: a timer does nothing", flat(), timer(T_LATER), "FLAT", (), []),
]

ENTERING_ROWS = [
    row(
        "entering: the fill places the initial stop 6 % below entry, rounded down to the tick",
        entering(),
        changed(0, 4),
        "UNPROTECTED",
        ((S1, "placing"),),
        [place("1.9113", S1)],
        side="long",
        quantity=QTY,
        trail__stop=D("1.9113"),
        trail__entry=ENTRY,
    ),
    row(
        "entering: a short's fill places the initial stop 6 % above entry, rounded up",
        entering(),
        changed(0, -4),
        "UNPROTECTED",
        ((S1, "placing"),),
        [place("2.1553", S1, side="buy")],
        side="short",
        trail__stop=D("2.1553"),
    ),
    row(
        "entering: the fill places the first stop even while the previous position's stop "
        "is still in flight",
        entering(doomed()),
        changed(0, 4),
        "UNPROTECTED",
        ((PREV_S2, "placing", CWK), (S1, "placing")),
        [place(LONG_STOP, S1)],
    ),
    row(
        "entering: a mark price is only remembered",
        entering(),
        mark("2.03"),
        "ENTERING",
        (),
        [],
        mark=D("2.03"),
    ),
    row(
        "entering: a reconciliation changes nothing (the fill arrives as a position change)",
        entering(),
        reconciled(known=True),
        "ENTERING",
        (),
        [],
    ),
    row(
        "entering: the entry accepted: wait for its fill",
        entering(),
        accepted(entry_id()),
        "ENTERING",
        (),
        [],
    ),
    row(
        "entering: the entry rejected: back to FLAT",
        entering(),
        rejected(entry_id(), -2019),
        "FLAT",
        (),
        [note("entry-failed", "OrderRejected")],
        entry_id="",
    ),
    row(
        "entering: the entry's outcome unknown: look it up and reconcile the position",
        entering(),
        unknown(entry_id()),
        "ENTERING",
        (),
        [lookup(entry_id(), stop=False), RECONCILE],
    ),
    row(
        "entering: the entry not found by the lookup: back to FLAT",
        entering(),
        not_found(entry_id()),
        "FLAT",
        (),
        [note("entry-failed", "OrderNotFound")],
    ),
    row(
        "entering: the previous position's stop, accepted late, is cancelled",
        entering(doomed()),
        accepted(PREV_S2),
        "ENTERING",
        ((PREV_S2, "cancelling", CWK),),
        [cancel(PREV_S2)],
    ),
    row(
        "entering: the previous position's stop reports CANCELED: forgotten",
        entering(StopRef(PREV_S1, LONG_STOP, "cancelling", T_PREV)),
        status(PREV_S1, "CANCELED"),
        "ENTERING",
        (),
        [],
    ),
    row(
        "entering: the previous position's stop cancel confirmed: forgotten",
        entering(StopRef(PREV_S1, LONG_STOP, "cancelling", T_PREV)),
        cancelled(PREV_S1),
        "ENTERING",
        (),
        [],
    ),
    row("entering: a timer is ignored", entering(), timer(T_LATER), "ENTERING", (), []),
]

UNPROTECTED_ROWS = [
    row(
        "unprotected: the first stop accepted: PROTECTED",
        unprotected(),
        accepted(S1),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "unprotected: the first stop's NEW status counts as its acceptance",
        unprotected(),
        status(S1, "NEW"),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "unprotected: -2021 on the first stop (policy close): close the whole position",
        unprotected(mark=D("1.9110")),
        rejected(S1, -2021),
        "CLOSING",
        (),
        closes(C2, "stop refused with -2021", T_ACCEPT),
        close_id=C2,
        close_since_ms=T_ACCEPT,
    ),
    row(
        "unprotected: -4142 on the first stop (policy close): close the whole position",
        unprotected(mark=D("1.9110")),
        rejected(S1, -4142),
        "CLOSING",
        (),
        closes(C2, "stop refused with -4142", T_ACCEPT),
    ),
    row(
        "unprotected: a short's -2021 (policy close): buy to close",
        unprotected("short", mark=D("2.1560")),
        rejected(S1, -2021),
        "CLOSING",
        (),
        [
            note("close", "stop refused with -2021"),
            close(C2, side="buy"),
            set_timer(T_ACCEPT + 10_000),
        ],
    ),
    row(
        "unprotected: -2021 (policy reprice): place again one tick below the mark",
        unprotected(mark=D("1.9110")),
        rejected(S1, -2021),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("reprice", "stop refused with -2021"), place("1.9109", S2)],
        config=REPRICE,
        trail__stop=D("1.9109"),
    ),
    row(
        "unprotected: -4142 (policy reprice) with the mark off the grid: below it, on the grid",
        unprotected(mark=D("1.91105")),
        rejected(S1, -4142),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("reprice", "stop refused with -4142"), place("1.9109", S2)],
        config=REPRICE,
    ),
    row(
        "unprotected: a short's -2021 (policy reprice): one tick above the mark",
        unprotected("short", mark=D("2.1560")),
        rejected(S1, -2021),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("reprice", "stop refused with -2021"), place("2.1561", S2, side="buy")],
        config=REPRICE,
    ),
    row(
        "unprotected: -2021 (policy reprice) with no mark known yet: close instead",
        unprotected(),
        rejected(S1, -2021),
        "CLOSING",
        (),
        closes(C2, "stop refused with -2021", T_ACCEPT),
        config=REPRICE,
    ),
    row(
        "unprotected: any other refusal with no stop working: close",
        unprotected(),
        rejected(S1, -1111),
        "CLOSING",
        (),
        closes(C2, "no stop can be placed (-1111)", T_ACCEPT),
    ),
    row(
        "unprotected: -4116 (client id already used): the stop exists, look it up",
        unprotected(),
        rejected(S1, -4116),
        "UNPROTECTED",
        ((S1, "unknown"),),
        [lookup(S1)],
    ),
    row(
        "unprotected: outcome unknown: look the stop up by client id before any retry",
        unprotected(),
        unknown(S1),
        "UNPROTECTED",
        ((S1, "unknown"),),
        [lookup(S1)],
    ),
    row(
        "unprotected: the lookup found nothing: place again with the same client id",
        unprotected(stop_state="unknown"),
        not_found(S1),
        "UNPROTECTED",
        ((S1, "placing"),),
        [place(LONG_STOP, S1)],
    ),
    row(
        "unprotected: the lookup found it open: working, PROTECTED",
        unprotected(stop_state="unknown"),
        accepted(S1),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "unprotected: the first stop REJECTED by the algo service: placed again at the trail",
        unprotected(),
        status(S1, "REJECTED"),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("stop-lost", "REJECTED"), place(LONG_STOP, S2)],
    ),
    row(
        "unprotected: the first stop gone by a cancel we did not ask for: placed again",
        unprotected(),
        cancelled(S1),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("stop-lost", "gone"), place(LONG_STOP, S2)],
    ),
    row(
        "unprotected: the previous position's stop refused with -2021 does not close this one",
        dataclasses.replace(unprotected(), stops=(doomed(), *unprotected().stops)),
        rejected(PREV_S2, -2021),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
    ),
    row(
        "unprotected: the position grows: only the quantity changes (closePosition stops)",
        unprotected(),
        changed(4, 6),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
        quantity=D(6),
    ),
    row(
        "unprotected: flat while the first stop is placed: it is cancelled once known",
        unprotected(),
        changed(4, 0),
        "FLAT",
        ((S1, "placing", CWK),),
        [note("flat", "position closed (fill)")],
        side=None,
        trail=None,
        opened_ms=0,
        seq=0,
    ),
    row(
        "unprotected: a mark while the first stop is in flight moves the trail, places nothing",
        unprotected(),
        mark(ACTIVATING_MARK, T_MARK),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
        trail__stop=TRAILED_STOP,
    ),
    row(
        "unprotected: a timer with nothing stuck does nothing",
        unprotected(),
        timer(T_LATER),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
    ),
    row(
        "unprotected: a listing without the stop still being placed keeps it",
        unprotected(),
        listed(),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
    ),
    row(
        "unprotected: a listed unknown stop of ours is adopted when none is working",
        unprotected(),
        listed((STRAY, "1.9113")),
        "PROTECTED",
        ((S1, "placing"), (STRAY, "working")),
        [],
    ),
    row(
        "unprotected: a reconciliation while the stop is in flight does nothing",
        unprotected(),
        reconciled(known=True),
        "UNPROTECTED",
        ((S1, "placing"),),
        [],
    ),
]

PROTECTED_ROWS = [
    row(
        "protected: a mark below activation does not move the stop",
        protected(),
        mark("2.0613", T0 + 79_000),
        "PROTECTED",
        ((S1, "working"),),
        [],
        trail__activated=False,
        trail__stop=LONG_STOP,
    ),
    row(
        "protected: the activating mark places the new stop first; the old one still works",
        protected(),
        mark(ACTIVATING_MARK, T_MARK),
        "PROTECTED",
        ((S1, "working"), (S2, "placing")),
        [place(TRAILED_STOP, S2)],
        trail__activated=True,
        trail__stop=TRAILED_STOP,
    ),
    row(
        "protected: the new stop accepted: the old one is cancelled",
        replacing(),
        accepted(S2, T_MARK + 300),
        "PROTECTED",
        ((S1, "cancelling"), (S2, "working")),
        [cancel(S1)],
    ),
    row(
        "protected: the old stop's cancel confirmed: forgotten",
        replaced(),
        cancelled(S1),
        "PROTECTED",
        ((S2, "working"),),
        [],
    ),
    row(
        "protected: the old stop reports CANCELED (our cancel): forgotten, nothing re-placed",
        replaced(),
        status(S1, "CANCELED"),
        "PROTECTED",
        ((S2, "working"),),
        [],
    ),
    row(
        "protected: a second mark while the new stop is in flight places nothing more",
        replacing(),
        mark("2.09"),
        "PROTECTED",
        ((S1, "working"), (S2, "placing")),
        [],
        trail__stop=D("2.0691"),
    ),
    row(
        "protected: the trail moved meanwhile: on acceptance the old goes; the next waits "
        "for its cancel (never a third stop)",
        replacing(trail=activated_long(D("2.0691"), D("2.09")), mark=D("2.09")),
        accepted(S2, T_LATER),
        "PROTECTED",
        ((S1, "cancelling"), (S2, "working")),
        [cancel(S1)],
    ),
    row(
        "protected: TRIGGERING: wait, with a timer at the bound",
        protected(),
        status(S1, "TRIGGERING"),
        "PROTECTED",
        ((S1, "triggering"),),
        [set_timer(T_LATER + 5000)],
    ),
    row(
        "protected: stuck in TRIGGERING past triggering_timeout_ms: close at market",
        protected(stop_state="triggering"),
        timer(T_ACCEPT + 5000),
        "CLOSING",
        ((S1, "triggering"),),
        closes(C2, f"stop {S1} stuck in TRIGGERING", T_ACCEPT + 5000),
    ),
    row(
        "protected: a timer before the TRIGGERING bound does nothing",
        protected(stop_state="triggering"),
        timer(T_ACCEPT + 4999),
        "PROTECTED",
        ((S1, "triggering"),),
        [],
    ),
    row(
        "protected: TRIGGERED: the stop fired; reconcile now (REST's absence is believed from "
        "here on) and again once the confirmation time is up",
        protected(),
        status(S1, "TRIGGERED"),
        "PROTECTED",
        ((S1, "fired"),),
        [RECONCILE, set_timer(T_LATER + 10_000)],
    ),
    row(
        "protected: FINISHED: the stop fired; reconcile now (REST's absence is believed from "
        "here on) and again once the confirmation time is up",
        protected(),
        status(S1, "FINISHED"),
        "PROTECTED",
        ((S1, "fired"),),
        [RECONCILE, set_timer(T_LATER + 10_000)],
    ),
    row(
        "protected: a fired stop blocks the trail's next stop: the position should be flat, "
        "and a new stop on it would be an orphan",
        protected(stop_state="fired"),
        mark(ACTIVATING_MARK, T_MARK),
        "PROTECTED",
        ((S1, "fired"),),
        [],
        trail__stop=TRAILED_STOP,
    ),
    row(
        "protected: reconciled within the confirmation time of a fire, still open: wait "
        "(REST may show the close late)",
        protected(stop_state="fired"),
        reconciled(True, T_ACCEPT + 5_000),
        "PROTECTED",
        ((S1, "fired"),),
        [],
    ),
    row(
        "protected: reconciled past the confirmation time of a fire, still open: the fire "
        "did not close it; forget that stop and protect again",
        protected(stop_state="fired"),
        reconciled(True, T_ACCEPT + 10_000),
        "PROTECTED",
        ((S2, "placing"),),
        [note("open-after-fire", S1), place(LONG_STOP, S2)],
    ),
    row(
        "protected: the fired stop's timer with the position still open: reconcile",
        protected(stop_state="fired"),
        timer(T_LATER + 10_000),
        "PROTECTED",
        ((S1, "fired"),),
        [RECONCILE],
    ),
    *[
        row(
            f"protected: the only stop {what}: placed again at the trail level",
            protected(mark=D("2.04")),
            status(S1, what),
            "UNPROTECTED",
            ((S2, "placing"),),
            [note("stop-lost", what), place(LONG_STOP, S2)],
        )
        for what in ("REJECTED", "EXPIRED", "CANCELED")
    ],
    row(
        "protected: the only stop EXPIRED with the trail level already crossed: close",
        protected(trail=activated_long(), mark=D("2.0400")),
        status(S1, "EXPIRED"),
        "CLOSING",
        (),
        [
            note("stop-lost", "EXPIRED"),
            *closes(C2, "the wanted stop level is already crossed", T_LATER),
        ],
    ),
    row(
        "protected: the new stop REJECTED while the old one works: nothing (still protected)",
        replacing(),
        status(S2, "REJECTED"),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "protected: the new stop refused with -2021 (policy close): close, the trail is crossed",
        replacing(mark=D("2.0470")),
        rejected(S2, -2021, T_LATER),
        "CLOSING",
        ((S1, "working"),),
        closes(C3, "stop refused with -2021", T_LATER),
    ),
    row(
        "protected: the new stop refused with -2021 (policy reprice): one tick below the mark",
        replacing(mark=D("2.0470")),
        rejected(S2, -2021, T_LATER),
        "PROTECTED",
        ((S1, "working"), (S3, "placing")),
        [note("reprice", "stop refused with -2021"), place("2.0469", S3)],
        config=REPRICE,
    ),
    row(
        "protected: -2021 (policy reprice) with the mark off the grid just above the old "
        "stop: the old one is kept, never replaced by a looser one",
        replacing(mark=D("1.91135")),
        rejected(S2, -2021, T_LATER),
        "PROTECTED",
        ((S1, "working"),),
        [],
        config=REPRICE,
    ),
    row(
        "protected: the trail crossed (policy reprice) with the old stop as tight as the "
        "reprice would be: nothing placed",
        protected(trail=activated_long(), mark=D("1.91135")),
        mark("1.91135"),
        "PROTECTED",
        ((S1, "working"),),
        [],
        config=REPRICE,
        trail__stop=TRAILED_STOP,
    ),
    row(
        "protected: the new stop refused otherwise while the old one works: noted only",
        replacing(),
        rejected(S2, -1111),
        "PROTECTED",
        ((S1, "working"),),
        [note("stop-refused", "-1111")],
    ),
    row(
        "protected: -4116 on the new stop: look it up",
        replacing(),
        rejected(S2, -4116),
        "PROTECTED",
        ((S1, "working"), (S2, "unknown")),
        [lookup(S2)],
    ),
    row(
        "protected: the new stop's outcome unknown: look it up",
        replacing(),
        unknown(S2),
        "PROTECTED",
        ((S1, "working"), (S2, "unknown")),
        [lookup(S2)],
    ),
    row(
        "protected: the new stop not found: placed again, same client id and level",
        restate(replacing(), S2, "unknown"),
        not_found(S2),
        "PROTECTED",
        ((S1, "working"), (S2, "placing")),
        [place(TRAILED_STOP, S2)],
    ),
    row(
        "protected: the new stop found open by the lookup: it replaces the old one",
        restate(replacing(), S2, "unknown"),
        accepted(S2),
        "PROTECTED",
        ((S1, "cancelling"), (S2, "working")),
        [cancel(S1)],
    ),
    row(
        "protected: the only stop gone by a cancel we did not ask for: placed again",
        protected(mark=D("2.04")),
        cancelled(S1),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("stop-lost", "gone"), place(LONG_STOP, S2)],
    ),
    row(
        "protected: flat: every working stop is cancelled",
        protected(),
        changed(4, 0),
        "FLAT",
        ((S1, "cancelling"),),
        [note("flat", "position closed (fill)"), cancel(S1)],
    ),
    row(
        "protected: flat during a replacement: the working stop cancelled, the other marked",
        replacing(),
        changed(4, 0, source="rest-absent"),
        "FLAT",
        ((S1, "cancelling"), (S2, "placing", CWK)),
        [note("flat", "position closed (rest-absent)"), cancel(S1)],
    ),
    row(
        "protected: flip long→short: the long's stop goes, the short is protected above",
        protected(mark=D("2.05")),
        changed(4, -2, entry="2.05"),
        "UNPROTECTED",
        ((S1, "cancelling"), (S2, "placing")),
        [cancel(S1), place("2.1730", S2, side="buy")],
        side="short",
        quantity=D(2),
        trail__side="short",
        trail__entry=D("2.05"),
        opened_ms=T0,
    ),
    row(
        "protected: flip during a replacement: the short's stop is placed at once",
        replacing(mark=D("2.05")),
        changed(4, -2, entry="2.05"),
        "UNPROTECTED",
        ((S1, "cancelling"), (S2, "placing", CWK), (S3, "placing")),
        [cancel(S1), place("2.1730", S3, side="buy")],
    ),
    row(
        "protected: the position shrinks: only the quantity changes",
        protected(),
        changed(4, 3),
        "PROTECTED",
        ((S1, "working"),),
        [],
        quantity=D(3),
    ),
    row(
        "protected: a listing showing the stop: nothing",
        protected(),
        listed((S1, "1.9113")),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "protected: the stop missing from a listing asked after it was known: looked up",
        protected(mark=D("2.04")),
        listed(t_ms=T_LATER),
        "PROTECTED",
        ((S1, "unknown"),),
        [note("stop-vanished", S1), lookup(S1)],
    ),
    row(
        "protected: the vanished stop's lookup says EXPIRED: re-placed at the trail level",
        protected(mark=D("2.04"), stop_state="unknown"),
        status(S1, "EXPIRED", T_LATER + 300),
        "UNPROTECTED",
        ((S2, "placing"),),
        [note("stop-lost", "EXPIRED"), place(LONG_STOP, S2)],
    ),
    row(
        "protected: the vanished stop's lookup says FINISHED: it fired",
        protected(mark=D("2.04"), stop_state="unknown"),
        status(S1, "FINISHED", T_LATER + 300),
        "PROTECTED",
        ((S1, "fired"),),
        [RECONCILE, set_timer(T_LATER + 300 + 10_000)],
    ),
    row(
        "protected: a stop accepted after the listing was asked is kept though not listed",
        protected(),
        listed(t_ms=T_ACCEPT),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "protected: a listed unknown stop of ours while one works is cancelled",
        protected(),
        listed((S1, "1.9113"), (STRAY, "1.95")),
        "PROTECTED",
        ((S1, "working"), (STRAY, "cancelling")),
        [cancel(STRAY)],
    ),
    row(
        "protected: a listed unknown stop of ours is adopted when none works",
        protected(stop_state="fired"),
        listed((STRAY, "1.9113")),
        "PROTECTED",
        ((S1, "fired"), (STRAY, "working")),
        [],
    ),
    row(
        "protected: a listing no longer showing a stop being cancelled forgets it quietly",
        replaced(),
        listed((S2, "2.0473")),
        "PROTECTED",
        ((S2, "working"),),
        [],
    ),
    row(
        "protected: a reconciliation with protection at the trail level does nothing",
        protected(),
        reconciled(known=True),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
    row(
        "protected: a timer with nothing stuck or fired does nothing",
        protected(),
        timer(T_LATER),
        "PROTECTED",
        ((S1, "working"),),
        [],
    ),
]

STUCK = StopRef(S1, LONG_STOP, "triggering", T_ACCEPT)
CLOSING_ROWS = [
    row(
        "closing: reconciled before the confirmation time: keep waiting for the close",
        closing(),
        reconciled(True, T_LATER + 5_000),
        "CLOSING",
        (),
        [],
    ),
    row(
        "closing: reconciled past the confirmation time, still open: close again "
        "(reduce-only cannot overshoot)",
        closing(),
        reconciled(True, T_LATER + 10_000),
        "CLOSING",
        (),
        closes(close_id(3), "still open after a close", T_LATER + 10_000),
        close_id=close_id(3),
    ),
    row(
        "closing: the close accepted: wait for its fill",
        closing(),
        accepted(C2),
        "CLOSING",
        (),
        [],
    ),
    row(
        "closing: the close refused (-2022, nothing to reduce): reconcile",
        closing(),
        rejected(C2, -2022),
        "CLOSING",
        (),
        [note("close-refused", "-2022"), RECONCILE],
    ),
    row(
        "closing: the close's outcome unknown: look it up (a plain order, not an algo one)",
        closing(),
        unknown(C2),
        "CLOSING",
        (),
        [lookup(C2, stop=False)],
    ),
    row(
        "closing: the close not found by the lookup: sent again with the same client id",
        closing(),
        not_found(C2),
        "CLOSING",
        (),
        [close(C2)],
    ),
    row(
        "closing: the stuck stop finally TRIGGERED: fired",
        closing(STUCK),
        status(S1, "TRIGGERED"),
        "CLOSING",
        ((S1, "fired"),),
        [RECONCILE, set_timer(T_LATER + 10_000)],
    ),
    row(
        "closing: a stop accepted while closing is working; the phase stays CLOSING",
        closing(StopRef(S2, TRAILED_STOP, "placing", T_MARK)),
        accepted(S2),
        "CLOSING",
        ((S2, "working"),),
        [],
    ),
    row(
        "closing: a stop refused while closing changes nothing else",
        closing(StopRef(S2, TRAILED_STOP, "placing", T_MARK)),
        rejected(S2, -2021),
        "CLOSING",
        (),
        [],
    ),
    row(
        "closing: a stop's unknown outcome is still looked up",
        closing(StopRef(S2, TRAILED_STOP, "placing", T_MARK)),
        unknown(S2),
        "CLOSING",
        ((S2, "unknown"),),
        [lookup(S2)],
    ),
    row(
        "closing: a stop's cancel confirmed: forgotten",
        closing(StopRef(S1, LONG_STOP, "cancelling", T_ACCEPT)),
        cancelled(S1),
        "CLOSING",
        (),
        [],
    ),
    row(
        "closing: flat: FLAT, the close forgotten, remaining stops cancelled",
        closing(StopRef(S1, LONG_STOP, "working", T_ACCEPT)),
        changed(4, 0),
        "FLAT",
        ((S1, "cancelling"),),
        [note("flat", "position closed (fill)"), cancel(S1)],
        close_id="",
    ),
    row(
        "closing: a mark moves the trail but places nothing",
        closing(),
        mark(ACTIVATING_MARK, T_MARK),
        "CLOSING",
        (),
        [],
        trail__stop=TRAILED_STOP,
    ),
    row(
        "closing: no fill within confirm_timeout_ms: reconcile and wait again",
        closing(),
        timer(T_LATER + 10_000),
        "CLOSING",
        (),
        [RECONCILE, set_timer(T_LATER + 20_000)],
    ),
    row(
        "closing: a timer before confirm_timeout_ms does nothing",
        closing(),
        timer(T_LATER + 9_999),
        "CLOSING",
        (),
        [],
    ),
    row(
        "closing: a stuck TRIGGERING stop does not start a second close",
        closing(STUCK),
        timer(T_LATER + 9_999),
        "CLOSING",
        ((S1, "triggering"),),
        [],
    ),
    row(
        "closing: a listed unknown stop of ours is adopted when none works",
        closing(),
        listed((STRAY, "1.9113")),
        "CLOSING",
        ((STRAY, "working"),),
        [],
    ),
    row(
        "closing: a reconciliation result is ignored (the close's timer drives)",
        closing(),
        reconciled(known=True),
        "CLOSING",
        (),
        [],
    ),
]

ROWS = FLAT_ROWS + ENTERING_ROWS + UNPROTECTED_ROWS + PROTECTED_ROWS + CLOSING_ROWS


def stops_of(state) -> tuple:
    return tuple(
        (s.client_id, s.state, CWK) if s.cancel_when_known else (s.client_id, s.state)
        for s in state.stops
    )


def field(state, path: str):
    value = state
    for name in path.split("__"):
        value = getattr(value, name)
    return value


@pytest.mark.parametrize(("given", "event", "phase", "stops", "commands", "config", "also"), ROWS)
def test_guard_transition(given, event, phase, stops, commands, config, also):
    after, issued = StopGuard(config).handle(given, event)
    assert issued == commands
    assert after.phase == phase
    assert stops_of(after) == stops
    for path, expected in also.items():
        assert field(after, path) == expected, path


def test_the_table_has_a_row_for_every_pair_the_guard_handles():
    covered = {(p.values[0].phase, type(p.values[1])) for p in ROWS}
    missing = [
        f"({phase}, {etype.__name__})"
        for phase, etype in TRANSITIONS
        if (phase, etype) not in covered
    ]
    assert not missing, "no row for " + ", ".join(missing)


def test_every_row_id_is_unique():
    ids = [p.id for p in ROWS]
    assert len(ids) == len(set(ids))


# ------------------------------------------------------------------ the named states


def run(state, *events, config: GuardConfig = CONFIG):
    guard = StopGuard(config)
    commands: list[m.Command] = []
    for event in events:
        state, issued = guard.handle(state, event)
        commands += issued
    return state, commands


def test_the_named_states_are_what_the_guard_reaches_from_flat():
    state, _ = run(flat(), m.EntryRequested(SYMBOL, "long", QTY, T0))
    assert state == entering()
    state, _ = run(state, changed(0, 4))
    assert state == unprotected()
    state, _ = run(state, accepted(S1))
    assert state == protected()
    state, _ = run(state, mark(ACTIVATING_MARK, T_MARK))
    assert state == replacing()
    state, _ = run(state, accepted(S2, T_MARK + 300))
    assert state == replaced()


def test_unknown_outcome_lookup_then_retry_with_the_same_id_then_working():
    state, commands = run(unprotected(), unknown(S1), not_found(S1), accepted(S1, T_ACCEPT + 500))
    assert commands == [lookup(S1), place(LONG_STOP, S1)]
    assert state.phase == "PROTECTED"
    assert stops_of(state) == ((S1, "working"),)


def test_flat_during_a_replacement_cancels_the_in_flight_stop_once_it_is_accepted():
    state, commands = run(
        replacing(), changed(4, 0), accepted(S2, T_LATER), cancelled(S1), cancelled(S2)
    )
    assert commands == [note("flat", "position closed (fill)"), cancel(S1), cancel(S2)]
    assert state.phase == "FLAT" and state.stops == ()


def test_never_more_than_one_placement_in_flight_over_a_rally():
    state = protected()
    for i in range(40):
        state, _ = run(state, mark(ACTIVATING_MARK + D("0.001") * i, T_MARK + i))
        assert sum(s.state in ("placing", "unknown") for s in state.stops) <= 1
        assert len([s for s in state.stops if s.state != "cancelling"]) <= 2


# ------------------------------------------------------------------ through the Protector

CLIENT_ID_RULE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")  # Binance's rule for client order ids


def protector(config: GuardConfig = CONFIG, symbol: str = SYMBOL) -> Protector:
    return Protector({symbol: config}, rest_lag_bound_ms=10_000)


def test_after_a_restart_a_rest_omission_never_outweighs_our_standing_stop():
    """Found in review: a restarted bot whose position REST omits (the incident's lag) took
    the omission for "flat" and cancelled its only stop. A restored position's stop standing
    on the exchange now outweighs REST's absence, however long it lasts; the stream's word
    (or a REST answer that lists the position) settles it. Strays go before a new entry."""
    p = protector()
    opened = T0
    p.restore(SYMBOL, initial_long(), opened_ms=opened, next_seq=5)
    asked = opened + 1000
    assert p.handle(m.PositionAbsent(SYMBOL, asked, asked + 200)) == []
    assert p.handle(m.OpenStopsListed(SYMBOL, ((STRAY, LONG_STOP),), asked)) == []
    assert p.handle(m.ReconcileCompleted(SYMBOL, asked + 300)) == []
    asked = opened + 3_600_000  # an hour on: still omitted, the stop still kept
    assert p.handle(m.PositionAbsent(SYMBOL, asked, asked + 200)) == []
    assert p.handle(m.ReconcileCompleted(SYMBOL, asked + 300)) == []
    assert stops_of(p.state(SYMBOL)) == ((STRAY, "working"),)
    commands = p.handle(m.EntryRequested(SYMBOL, "long", QTY, asked + 400))
    assert commands[0] == cancel(STRAY)  # no new position inherits an unknown stop


def test_after_a_restart_the_stream_saying_flat_clears_the_strays():
    p = protector()
    p.restore(SYMBOL, initial_long(), opened_ms=T0, next_seq=5)
    p.handle(m.OpenStopsListed(SYMBOL, ((STRAY, LONG_STOP),), T0 + 1000))
    p.handle(m.PositionReported(SYMBOL, D(0), D(0), T0 + 2000, "stream", T0 + 2000))
    assert p.handle(m.ReconcileCompleted(SYMBOL, T0 + 3000)) == [cancel(STRAY)]


def test_flat_listed_stops_are_cancelled_at_once_without_a_previous_run():
    p = protector()
    assert p.handle(m.PositionAbsent(SYMBOL, T0, T0 + 200)) == []
    assert p.handle(m.OpenStopsListed(SYMBOL, ((STRAY, LONG_STOP),), T0)) == []
    assert p.handle(m.ReconcileCompleted(SYMBOL, T0 + 300)) == [cancel(STRAY)]


def test_a_restored_position_seen_by_rest_keeps_its_trail_and_id_sequence():
    p = protector()
    trail = activated_long()
    p.restore(SYMBOL, trail, opened_ms=T0, next_seq=7)
    commands = p.handle(m.PositionReported(SYMBOL, QTY, ENTRY, T_LATER, "rest", T_LATER + 5))
    assert commands == [place(TRAILED_STOP, stop_id_at(7))]
    assert p.state(SYMBOL).trail == trail


def stop_id_at(seq: int) -> str:
    return f"fs-s-{SYMBOL}-{base36(T0)}-{seq}"


def drive_rally(p: Protector, symbol: str, steps: int, start_ms: int) -> list[m.Command]:
    """Entry, fill, then a rally: every placement accepted, every cancel confirmed."""
    out: list[m.Command] = []

    def respond(commands, t_ms):
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            out.append(command)
            if isinstance(command, m.PlaceStop):
                queue += p.handle(m.OrderAccepted(symbol, command.client_id, t_ms))
            elif isinstance(command, m.CancelStop):
                queue += p.handle(m.StopCancelled(symbol, command.client_id, t_ms))

    t = start_ms
    respond(p.handle(m.EntryRequested(symbol, "long", QTY, t)), t)
    respond(p.handle(m.FillReported(symbol, QTY, ENTRY, t + 100, t + 100)), t + 100)
    price = ENTRY
    for i in range(steps):
        t += 1000
        price += D("0.0013") if i % 7 else D("-0.0021")
        respond(p.handle(m.MarkPriced(symbol, price, t)), t)
    return out


def client_ids(commands) -> list[str]:
    return [
        c.client_id for c in commands if isinstance(c, m.PlaceEntry | m.PlaceStop | m.ClosePosition)
    ]


def test_client_ids_are_deterministic_valid_and_unique_over_many_replacements():
    first = drive_rally(protector(), SYMBOL, 400, T0)
    again = drive_rally(protector(), SYMBOL, 400, T0)
    assert first == again
    ids = client_ids(first)
    assert sum(isinstance(c, m.PlaceStop) for c in first) > 100
    assert len(ids) == len(set(ids))
    for client_id in ids:
        assert len(client_id) <= 36
        assert CLIENT_ID_RULE.match(client_id), client_id


def test_client_ids_differ_between_positions_of_the_same_symbol():
    p = protector()
    first = client_ids(drive_rally(p, SYMBOL, 50, T0))
    p.handle(m.FillReported(SYMBOL, -QTY, ENTRY, T0 + 60_000, T0 + 60_000))
    second = client_ids(drive_rally(p, SYMBOL, 50, T0 + 120_000))
    assert not set(first) & set(second)


def test_long_symbols_with_the_longest_prefix_still_fit():
    config = dataclasses.replace(CONFIG, prefix="ab12")
    symbol = "1000000BOBUSDT"
    ids = client_ids(drive_rally(protector(config, symbol), symbol, 30, T0))
    assert ids and all(len(i) <= 36 and CLIENT_ID_RULE.match(i) for i in ids)


def test_a_client_id_that_would_not_fit_is_refused_not_truncated():
    symbol = "X" * 24
    p = protector(CONFIG, symbol)
    with pytest.raises(ValueError, match="exceeds Binance's 36 characters"):
        p.handle(m.EntryRequested(symbol, "long", QTY, T0))


def test_a_subclass_overriding_a_handler_is_obeyed():
    """The table names the handlers; dispatch goes through the instance, so a variant that
    overrides one (the harness's bug zoo) really runs its own code."""

    class Quiet(StopGuard):
        def on_mark(self, state, event):
            return state, [m.Note(state.symbol, "quiet", "overridden")]

    _, commands = Quiet(CONFIG).handle(protected(), m.MarkPriced(SYMBOL, D("2.10"), T0))
    assert commands == [m.Note(SYMBOL, "quiet", "overridden")]


def test_a_restart_never_trades_a_tighter_surviving_stop_for_a_looser_one():
    """Found by the restart-stale-database scenario: the restarted bot's trail comes from a
    stale database (2.0760) while the previous life's stop still stands at 2.0790. The new
    stop is placed from the stale trail before the listing arrives; once both stand, the
    tighter one is kept and the looser one cancelled."""
    from bot.core.trailing import Trail

    p = protector()
    p.restore(SYMBOL, Trail("long", D("2.0333"), D("2.0760"), True, D("2.0970"), T0), T0, 7)
    commands = p.handle(m.PositionReported(SYMBOL, QTY, D("2.0333"), T0 + 10, "rest", T0 + 100))
    placed = [c for c in commands if isinstance(c, m.PlaceStop)]
    assert [c.trigger for c in placed] == [D("2.0760")]
    survivor = f"fs-s-{SYMBOL}-{base36(T0)}-3"
    p.handle(m.OpenStopsListed(SYMBOL, ((survivor, D("2.0790")),), T0 + 100))
    commands = p.handle(m.OrderAccepted(SYMBOL, placed[0].client_id, T0 + 300))
    assert commands == [m.CancelStop(SYMBOL, placed[0].client_id)]  # the looser one goes
    state = p.state(SYMBOL)
    assert state.trail.stop == D("2.0790")  # and the trail never goes back below it


def test_a_late_echo_of_a_stop_already_done_with_draws_no_cancel():
    """The stream may deliver a stop's NEW after our cancel was confirmed: it is an echo,
    not an unknown stop of ours (it used to draw a redundant cancel answered with -2011)."""
    guard = StopGuard(CONFIG)
    state = protected()
    old = state.stops[0].client_id
    state, _ = guard.handle(state, m.StopCancelled(SYMBOL, old, T_LATER))
    assert old in state.forgotten
    _, commands = guard.handle(state, status(old, "NEW"))
    assert commands == []


def test_never_a_third_stop_while_a_cancel_is_slow_or_refused():
    """Found in review: placements did not wait for the cancels of replaced stops, and a
    refused cancel made the guard forget a stop still on the exchange (16 at once)."""
    guard = StopGuard(CONFIG)
    state, _ = guard.handle(replacing(), accepted(S2, T_LATER))  # S1 cancelling, S2 working
    state, commands = guard.handle(state, m.MarkPriced(SYMBOL, D("2.30"), T_LATER + 1000))
    assert not any(isinstance(c, m.PlaceStop) for c in commands)  # waits for S1's cancel
    state, commands = guard.handle(state, rejected(S1, 429, T_LATER))  # refused: still there
    assert (S1, "cancelling") in stops_of(state)
    assert commands == [set_timer(T_LATER + 10_000)]
    state, commands = guard.handle(state, m.TimerFired(SYMBOL, T_LATER + 10_000))
    assert m.CancelStop(SYMBOL, S1) in commands  # asked again
    state, commands = guard.handle(state, m.StopCancelled(SYMBOL, S1, T_LATER + 10_500))
    assert [type(c) for c in commands] == [m.PlaceStop]  # and only now the next move


def test_a_listing_corrects_a_known_stops_level_and_moves_the_id_sequence_past_it():
    """Found in review: a sequence restored from a lagging database reused the id of a stop
    still standing at a tighter level; the guard believed it sat at its own older level and
    later cancelled it for a looser one."""
    guard = StopGuard(CONFIG)
    state = protected()
    stale, listed_level = state.stops[0], D("2.0889")
    later_id = f"{stale.client_id.rsplit('-', 1)[0]}-9"
    state, _ = guard.handle(
        state,
        m.OpenStopsListed(
            SYMBOL, ((stale.client_id, listed_level), (later_id, D("2.0800"))), T_LATER
        ),
    )
    assert next(s for s in state.stops if s.client_id == stale.client_id).level == listed_level
    assert state.seq == 10
