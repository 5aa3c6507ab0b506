"""no_orphan_stops: stops left on a flat symbol, judged after settle_ms."""

from __future__ import annotations

from sim.checkers.no_orphan_stops import check
from tests.checkers.histories import SYM, ctx, stop, truth

S1, S2 = stop("s1", "1.9"), stop("s2", "2.0")


def closed_with_stop_left(cancel_after_ms: int | None) -> list[dict]:
    records = [truth(0, {SYM: "4"}), truth(100, {SYM: "4"}, [S1]), truth(10_000, {}, [S1])]
    if cancel_after_ms is not None:
        records.append(truth(10_000 + cancel_after_ms, {}, []))
    return records


def test_a_stop_cancelled_within_the_settle_time_passes():
    verdict = check(closed_with_stop_left(1_000), {}, ctx(60_000))
    assert verdict.status == "pass" and verdict.metrics["orphaned_stops"] == 1


def test_a_stop_cancelled_after_the_settle_time_fails():
    verdict = check(closed_with_stop_left(6_000), {}, ctx(60_000))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert item["client_id"] == "s1" and item["orphan_ms"] == 6_000
    assert item["flat_since_ms"] == item["t_ms"] == truth(10_000)["t_ms"]
    assert [r["seq"] for r in item["records"]] == [2, 3]
    assert check(closed_with_stop_left(6_000), {"settle_ms": 6_000}, ctx(60_000)).status == "pass"


def test_a_stop_still_open_at_the_end_fails_once_the_settle_time_has_passed():
    verdict = check(closed_with_stop_left(None), {}, ctx(60_000))
    assert verdict.status == "fail"
    assert "still open at the end" in verdict.evidence[0]["what"]
    assert verdict.evidence[0]["orphan_ms"] == 50_000


def test_a_run_ending_inside_the_settle_time_cannot_say():
    verdict = check(closed_with_stop_left(None), {}, ctx(12_000))
    assert verdict.status == "unknown" and verdict.metrics["pending_at_end"] == 1


def test_a_late_placement_landing_on_a_flat_symbol_counts_from_its_arrival():
    records = [*closed_with_stop_left(500), truth(30_000, {}, [S2]), truth(31_000, {}, [])]
    assert check(records, {}, ctx(60_000)).status == "pass"


def test_a_stop_that_waits_for_the_next_position_is_an_orphan():
    records = [*closed_with_stop_left(None)[:3], truth(20_000, {SYM: "4"}, [S1])]
    verdict = check(records, {}, ctx(60_000))
    assert verdict.status == "fail" and verdict.evidence[0]["orphan_ms"] == 10_000
    assert "new position opened under it" in verdict.evidence[0]["what"]


def test_a_stop_on_a_symbol_never_opened_is_an_orphan_from_its_appearance():
    records = [truth(1_000, {}, [S1]), truth(7_000, {}, [])]
    verdict = check(records, {}, ctx(60_000))
    assert verdict.status == "fail" and verdict.evidence[0]["orphan_ms"] == 6_000


def test_stops_of_an_open_position_and_a_trivial_history_pass():
    records = [truth(0, {SYM: "4"}, [S1, S2]), truth(50_000, {SYM: "4"}, [S2])]
    assert check(records, {}, ctx(60_000)).status == "pass"
    verdict = check([], {}, ctx(60_000))
    assert verdict.status == "pass" and verdict.metrics["orphaned_stops"] == 0
