"""stop_coverage on hand-written histories: entry window, mid-position gaps, bounds."""

from __future__ import annotations

import pytest

from sim.checkers.stop_coverage import check
from tests.checkers.histories import SYM, ctx, fill, price, stop, truth

S1 = stop("s1", "1.9113")
S2 = stop("s2", "2.0500")


def status(records: list[dict], params: dict, context=None) -> str:
    return check(records, params, context or ctx(150_000)).status


def opened_then_protected(stop_after_ms: int) -> list[dict]:
    return [
        price(0, "2.0333"),
        fill(0, "BUY", "4", "2.0333"),
        truth(0, {SYM: "4"}),
        truth(stop_after_ms, {SYM: "4"}, [S1]),
        truth(60_000, {}, []),
    ]


def test_a_stop_placed_inside_the_entry_window_passes():
    verdict = check(opened_then_protected(300), {}, ctx(90_000))
    assert verdict.status == "pass"
    assert verdict.metrics["positions"] == 1
    assert verdict.metrics["entry_windows"] == 1 and verdict.metrics["naked_ms_total"] == 0
    (window,) = verdict.evidence
    assert window["entry_window"] and window["duration_ms"] == 300 and not window["violation"]


def test_an_entry_window_longer_than_allowed_counts_only_beyond_the_allowance():
    verdict = check(opened_then_protected(2_500), {}, ctx(90_000))
    assert verdict.status == "fail"
    (window,) = verdict.evidence
    assert window["counted_ms"] == 500 and window["duration_ms"] == 2_500
    assert window["symbol"] == SYM and window["amount"] == "4"
    # a longer allowance, from the parameter or from the context
    assert (
        check(opened_then_protected(2_500), {"entry_window_ms": 3_000}, ctx(90_000)).status
        == "pass"
    )
    assert (
        check(opened_then_protected(2_500), {}, ctx(90_000, entry_window_ms=3_000)).status == "pass"
    )


def incident() -> list[dict]:
    """The SOONUSDT shape: the old stop cancelled first, 1.1 s naked, then a new one."""
    return [
        price(0, "2.0333"),
        truth(0, {SYM: "4"}),
        truth(200, {SYM: "4"}, [S1]),
        price(89_000, "2.0680"),
        truth(91_000, {SYM: "4"}, []),  # cancel old
        truth(92_100, {SYM: "4"}, [S2]),  # place new
        truth(120_000, {}, []),
    ]


def test_a_naked_gap_mid_position_fails_with_its_window_and_notional():
    verdict = check(incident(), {}, ctx(150_000))
    assert verdict.status == "fail"
    bad = verdict.evidence[0]
    assert bad["violation"] and not bad["entry_window"]
    assert (bad["t_ms"], bad["until_ms"]) == (incident()[4]["t_ms"], incident()[5]["t_ms"])
    assert bad["counted_ms"] == 1_100
    assert bad["price"] == "2.068" and bad["notional"] == "8.272"
    assert bad["notional_ms"] == "9099.2"
    assert [r["seq"] for r in bad["records"]] == [4, 5]
    assert verdict.metrics["naked_ms_max"] == 1_100 and verdict.metrics["violations"] == 1


def test_bounds_on_time_and_notional():
    assert check(incident(), {"max_naked_ms": 1_100}, ctx(150_000)).status == "pass"
    loose_time = {"max_naked_ms": 5_000}
    assert (
        check(incident(), {**loose_time, "max_naked_notional_ms": 9_000}, ctx(150_000)).status
        == "fail"
    )
    assert (
        check(incident(), {**loose_time, "max_naked_notional_ms": "9100"}, ctx(150_000)).status
        == "pass"
    )


def test_a_position_never_protected_is_naked_until_the_end():
    records = [truth(0, {SYM: "-4"}), truth(1_000, {SYM: "-4"}, [stop("x", "1.9", "SELL")])]
    verdict = check(records, {}, ctx(10_000))
    assert verdict.status == "fail"  # a SELL stop does not protect a short
    (window,) = verdict.evidence
    assert window["open_at_end"] and window["until_ms"] == ctx(10_000).end_ms
    assert window["counted_ms"] == 8_000 and window["price_source"] == "entry"


def test_a_stop_with_no_quantity_and_no_close_position_does_not_protect():
    empty = stop("e", "1.9", close_position=False, qty="0")
    records = [truth(0, {SYM: "4"}, [empty]), truth(10_000, {})]
    assert check(records, {}, ctx(20_000)).status == "fail"


def test_a_history_without_positions_passes_and_says_so():
    verdict = check([price(0, "2"), truth(5, {}, [])], {}, ctx(1_000))
    assert verdict.status == "pass" and verdict.metrics["positions"] == 0
    assert "no position" in verdict.summary


def test_fills_without_truth_cannot_be_judged():
    assert check([fill(0, "BUY", "4", "2")], {}, ctx(1_000)).status == "unknown"


def test_a_misspelt_parameter_is_an_error():
    with pytest.raises(ValueError, match=r"max_naked_msec.*known: entry_window_ms"):
        check([], {"max_naked_msec": 5}, ctx(1_000))
