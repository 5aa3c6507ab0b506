"""trailing_monotonic: the stop level only moves in the protective direction."""

from __future__ import annotations

from sim.checkers.trailing_monotonic import check
from tests.checkers.histories import SYM, ctx, stop, truth


def test_place_new_then_cancel_old_ratchets_up():
    s1, s2, s3 = stop("s1", "1.91"), stop("s2", "2.00"), stop("s3", "2.05")
    records = [
        truth(0, {SYM: "4"}, [s1]),
        truth(1_000, {SYM: "4"}, [s1, s2]),
        truth(1_300, {SYM: "4"}, [s2]),
        truth(2_000, {SYM: "4"}, [s2, s3]),
        truth(2_300, {SYM: "4"}, [s3]),
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "pass"
    assert verdict.metrics["positions"] == 1 and verdict.metrics["tightenings"] == 2


def test_a_replacement_at_a_lower_level_fails_when_the_old_one_goes():
    s1, s2 = stop("s1", "2.00"), stop("s2", "1.95")
    records = [
        truth(0, {SYM: "4"}, [s1]),
        truth(1_000, {SYM: "4"}, [s1, s2]),  # the max still 2.00
        truth(1_300, {SYM: "4"}, [s2]),  # now 1.95
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert (item["level_before"], item["level_after"]) == ("2", "1.95")
    assert [r["seq"] for r in item["records"]] == [1, 2]


def test_a_naked_gap_does_not_hide_a_loosening():
    records = [
        truth(0, {SYM: "4"}, [stop("s1", "2.00")]),
        truth(1_000, {SYM: "4"}, []),
        truth(2_000, {SYM: "4"}, [stop("s2", "1.99")]),
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "fail"
    assert [r["seq"] for r in verdict.evidence[0]["records"]] == [0, 2]


def test_a_short_moves_down_only():
    down = [
        truth(0, {SYM: "-4"}, [stop("s1", "2.15", "BUY")]),
        truth(1_000, {SYM: "-4"}, [stop("s1", "2.15", "BUY"), stop("s2", "2.10", "BUY")]),
        truth(1_300, {SYM: "-4"}, [stop("s2", "2.10", "BUY")]),
    ]
    assert check(down, {}, ctx(5_000)).status == "pass"
    up = [*down, truth(2_000, {SYM: "-4"}, [stop("s3", "2.12", "BUY")])]
    verdict = check(up, {}, ctx(5_000))
    assert verdict.status == "fail" and verdict.evidence[0]["side"] == "short"


def test_a_close_and_reopen_starts_afresh():
    records = [
        truth(0, {SYM: "4"}, [stop("s1", "2.05")]),
        truth(1_000, {}, []),
        truth(2_000, {SYM: "4"}, [stop("s2", "1.91")]),  # a new position, a new initial stop
        truth(3_000, {SYM: "-4"}, [stop("s3", "2.10", "BUY")]),  # flipped: afresh again
        truth(4_000, {SYM: "-4"}, [stop("s3", "2.10", "BUY"), stop("s4", "2.09", "BUY")]),
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "pass" and verdict.metrics["positions"] == 3


def test_a_trivial_history_passes_and_says_so():
    verdict = check([truth(0, {}, [])], {}, ctx(5_000))
    assert verdict.status == "pass" and verdict.metrics["positions"] == 0
