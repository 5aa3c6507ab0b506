"""The position book's rules: evidence applies only when newer than what the book holds.

Stream reports apply in event-time order; our fills only when strictly newer than the
evidence (no double counting with an ACCOUNT_UPDATE of the same instant, in either order);
a REST row only when newer; a REST *omission* means flat only after ``rest_lag_bound_ms``
(the SOONUSDT incident: REST omitted a fresh position). A restart's hint keeps a lagging REST
omission from being taken for "flat".
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.book import Holding, PositionBook
from bot.core.messages import FillReported, PositionAbsent, PositionReported

D = Decimal
SYM = "SOONUSDT"
T = 1_762_790_551_092  # the incident's fill
BOUND = 10_000


def book() -> PositionBook:
    return PositionBook(rest_lag_bound_ms=BOUND)


def report(amount, at_ms: int, source: str = "stream", entry="2.0333") -> PositionReported:
    return PositionReported(SYM, D(amount), D(entry), at_ms, source, at_ms + 50)


def fill(delta, at_ms: int, price="2.0333") -> FillReported:
    return FillReported(SYM, D(delta), D(price), at_ms, at_ms + 50)


def absent(at_ms: int) -> PositionAbsent:
    return PositionAbsent(SYM, at_ms, at_ms + 300)


def amount(b: PositionBook) -> Decimal:
    return b.get(SYM).amount


# ------------------------------------------------------------------ stream reports


def test_stream_reports_apply_in_event_time_order_and_a_late_older_one_is_ignored():
    b = book()
    assert b.apply(report(4, T)) is not None
    assert b.apply(report(6, T + 2000)) is not None
    assert b.apply(report(4, T + 1000)) is None  # delivered late: older than what we hold
    assert amount(b) == 6
    assert b.get(SYM).as_of_ms == T + 2000


def test_a_change_reports_before_and_after():
    b = book()
    change = b.apply(report(4, T))
    assert change.before == Holding(SYM, D(0), D(0), 0, "none")
    assert change.after == Holding(SYM, D(4), D("2.0333"), T, "stream")


def test_evidence_that_changes_nothing_returns_no_change_but_is_kept():
    b = book()
    b.apply(report(4, T))
    assert b.apply(report(4, T + 1000)) is None
    assert b.get(SYM).as_of_ms == T + 1000


# ------------------------------------------------------------------ fills


def test_a_fill_then_the_account_update_of_the_same_instant_counts_once():
    b = book()
    assert b.apply(fill(4, T)) is not None
    assert b.apply(report(4, T)) is None  # same instant, already included
    assert amount(b) == 4


def test_the_account_update_then_the_fill_of_the_same_instant_counts_once():
    b = book()
    assert b.apply(report(4, T)) is not None
    assert b.apply(fill(4, T)) is None  # not strictly newer: the report included it
    assert amount(b) == 4


def test_a_fill_newer_than_the_evidence_moves_the_position():
    b = book()
    b.apply(report(4, T))
    b.apply(fill(2, T + 1, price="2.0633"))
    assert amount(b) == 6
    assert b.get(SYM).entry == D("2.0433")  # (4 × 2.0333 + 2 × 2.0633) / 6


def test_a_fill_older_than_the_evidence_is_ignored():
    b = book()
    b.apply(report(6, T + 1000))
    assert b.apply(fill(2, T)) is None
    assert amount(b) == 6


def test_entry_prices_open_average_hold_and_flip():
    b = book()
    b.apply(fill(4, T, "2.0000"))
    assert b.get(SYM).entry == D("2.0000")  # opened
    b.apply(fill(-1, T + 1, "2.5000"))
    assert (amount(b), b.get(SYM).entry) == (3, D("2.0000"))  # reduced: entry holds
    b.apply(fill(-5, T + 2, "2.1000"))
    assert (amount(b), b.get(SYM).entry) == (-2, D("2.1000"))  # flipped: opened here
    change = b.apply(fill(2, T + 3, "2.2000"))
    assert (amount(b), b.get(SYM).entry) == (0, 0)  # flat
    assert change.after.side is None and change.before.side == "short"


# ------------------------------------------------------------------ REST


def test_a_rest_row_applies_only_when_strictly_newer():
    b = book()
    b.apply(report(4, T))
    assert b.apply(report(3, T, source="rest")) is None  # same instant: the stream wins
    assert b.apply(report(3, T - 1, source="rest")) is None
    assert amount(b) == 4
    assert b.apply(report(3, T + 1, source="rest")) is not None
    assert amount(b) == 3


def test_a_stream_report_of_the_same_instant_overrides_a_rest_row():
    b = book()
    b.apply(report(3, T, source="rest"))
    assert b.apply(report(4, T)) is not None
    assert amount(b) == 4


def test_the_incident_rest_omitting_a_fresh_position_does_not_mean_flat():
    """Fill at T; REST half a second later omits the symbol: still open. Eleven seconds
    later (past the 10 s lag bound) an omission does mean flat."""
    b = book()
    b.apply(fill(4, T))
    assert b.apply(absent(T + 500)) is None
    assert amount(b) == 4
    assert b.apply(absent(T + 1000)) is None  # the second attempt of the incident, too
    change = b.apply(absent(T + 11_000))
    assert change is not None and change.after.amount == 0
    assert change.after.source == "rest-absent"


def test_an_omission_counts_only_strictly_past_the_bound():
    b = book()
    b.apply(fill(4, T))
    assert b.apply(absent(T + BOUND)) is None
    assert b.apply(absent(T + BOUND + 1)) is not None


def test_an_omission_trusts_only_up_to_the_bound_before_it():
    """A flat from REST holds as of (snapshot − bound), so a stream report in between wins."""
    b = book()
    b.apply(fill(4, T))
    b.apply(absent(T + 11_000))
    assert b.get(SYM).as_of_ms == T + 1000
    assert b.apply(report(4, T + 5000)) is not None  # the stream saw it open after that
    assert amount(b) == 4


def test_an_omission_of_a_symbol_never_seen_makes_it_known_flat():
    b = book()
    assert not b.knows(SYM)
    assert b.apply(absent(T)) is None  # flat before, flat after: no change
    assert b.knows(SYM)
    assert amount(b) == 0


# ------------------------------------------------------------------ restarts


def test_a_restart_hint_does_not_trust_a_lagging_rest_omission():
    b = book()
    b.hint_open(SYM, T)  # the previous run opened a position at T
    assert not b.knows(SYM)
    assert b.apply(absent(T + 2000)) is None
    assert not b.knows(SYM)  # still only a hint: the omission may be lag
    b.apply(absent(T + BOUND + 1))
    assert b.knows(SYM) and amount(b) == 0


def test_a_restart_hint_yields_to_any_real_report():
    b = book()
    b.hint_open(SYM, T)
    change = b.apply(report(4, T + 2000, source="rest"))
    assert change is not None and amount(b) == 4
    assert b.knows(SYM)


def test_a_hint_never_overrides_evidence():
    b = book()
    b.apply(report(4, T))
    b.hint_open(SYM, T + 5000)
    assert b.knows(SYM) and amount(b) == 4 and b.get(SYM).source == "stream"


def test_knows_and_symbols():
    b = book()
    assert not b.knows(SYM) and b.symbols() == []
    b.apply(report(1, T))
    b.hint_open("BTCUSDT", T)
    assert b.knows(SYM) and not b.knows("BTCUSDT")
    assert b.symbols() == ["BTCUSDT", SYM]
    assert b.get("ETHUSDT") == Holding("ETHUSDT", D(0), D(0), 0, "none")


# ------------------------------------------------------------------ properties

deltas = st.lists(st.integers(-5, 5).filter(bool), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(deltas, st.randoms(use_true_random=False))
def test_fills_and_their_account_updates_count_once_in_any_delivery_order(steps, rnd):
    """Each fill at its own instant, with an ACCOUNT_UPDATE of the same instant holding the
    running total: however the stream interleaves them, the book ends at the total."""
    events, total = [], D(0)
    for i, delta in enumerate(steps):
        total += delta
        events += [fill(delta, T + i), report(total, T + i)]
    rnd.shuffle(events)
    b = book()
    for event in events:
        b.apply(event)
    assert amount(b) == total


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_stream_reports_in_any_order_end_at_the_newest(amounts, rnd):
    events = [report(a, T + i) for i, a in enumerate(amounts)]
    rnd.shuffle(events)
    b = book()
    for event in events:
        b.apply(event)
    assert amount(b) == amounts[-1]
    assert b.get(SYM).as_of_ms == T + len(amounts) - 1
