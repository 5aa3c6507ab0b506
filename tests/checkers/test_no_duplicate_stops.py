"""no_duplicate_stops: two stops during a replacement are fine; three are not."""

from __future__ import annotations

from sim.checkers.no_duplicate_stops import check
from tests.checkers.histories import SYM, ctx, stop, truth

S1, S2, S3 = stop("s1", "1.9"), stop("s2", "2.0"), stop("s3", "2.05")


def test_the_overlap_of_a_replacement_passes():
    records = [
        truth(0, {SYM: "4"}, [S1]),
        truth(1_000, {SYM: "4"}, [S1, S2]),  # new placed first
        truth(1_300, {SYM: "4"}, [S2]),  # old cancelled after
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "pass" and verdict.metrics["most_stops"] == 2


def test_three_at_once_fail_with_the_interval():
    records = [
        truth(0, {SYM: "4"}, [S1, S2]),
        truth(1_000, {SYM: "4"}, [S1, S2, S3]),
        truth(1_400, {SYM: "4"}, [S3]),
    ]
    verdict = check(records, {}, ctx(5_000))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert item["most"] == 3 and item["client_ids"] == ["s1", "s2", "s3"]
    assert item["until_ms"] - item["t_ms"] == 400
    assert [r["seq"] for r in item["records"]] == [1, 2]


def test_a_stricter_limit_and_an_excess_lasting_to_the_end():
    records = [truth(0, {SYM: "4"}, [S1, S2])]
    verdict = check(records, {"max_stops": 1}, ctx(5_000))
    assert verdict.status == "fail" and "still at the end" in verdict.evidence[0]["what"]


def test_finished_orders_and_other_symbols_do_not_count():
    other = stop("o1", "30000", symbol="BTCUSDT")
    done = stop("s3", "2.05", status="FINISHED")
    records = [truth(0, {SYM: "4"}, [S1, S2, done, other])]
    assert check(records, {}, ctx(5_000)).status == "pass"
