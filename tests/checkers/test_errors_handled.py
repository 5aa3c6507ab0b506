"""errors_handled: crashes, and -2021 refusals of protective stops followed (or not) by
protection or a close within the bound."""

from __future__ import annotations

from sim.checkers.errors_handled import check
from tests.checkers.histories import SYM, command, ctx, record, rest, stop, truth

ALGO = "POST /fapi/v1/algoOrder"
OLD, NEW = stop("s1", "1.9113"), stop("s3", "2.0400")


def soon_incident(*after: dict) -> list[dict]:
    """The SOONUSDT shape: old stop cancelled first, new stop refused with -2021."""
    return [
        truth(0, {SYM: "4"}, [OLD]),
        rest(89_000, "DELETE /fapi/v1/algoOrder"),
        truth(89_000, {SYM: "4"}, []),
        command(89_500, "PlaceStop", symbol=SYM, client_id="s2", trigger="2.0473"),
        rest(90_000, ALGO, -2021),
        command(90_001, "Note", symbol=SYM, note="stop_refused", detail="-2021"),
        *after,
    ]


def test_the_incident_fails_the_refusal_left_the_position_naked():
    verdict = check(soon_incident(), {}, ctx(120_000))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert item["symbol"] == SYM and item["code"] == -2021 and item["amount"] == "4"
    assert "still naked" in item["what"]
    assert [r["seq"] for r in item["records"]] == [4, 2]
    assert verdict.metrics["refusals_unhandled"] == 1 and verdict.metrics["notes"] == 1


def test_a_close_within_the_bound_handles_it_and_one_after_does_not():
    closed_in_time = soon_incident(truth(90_400, {}, []))
    verdict = check(closed_in_time, {}, ctx(120_000))
    assert verdict.status == "pass" and "closed after 400 ms" in verdict.evidence[0]["what"]
    closed_late = soon_incident(truth(93_500, {}, []))
    assert check(closed_late, {}, ctx(120_000)).status == "fail"
    assert check(closed_late, {"bound_ms": 4_000}, ctx(120_000)).status == "pass"


def test_a_stop_re_placed_within_the_bound_handles_it():
    verdict = check(soon_incident(truth(91_000, {SYM: "4"}, [NEW])), {}, ctx(120_000))
    assert verdict.status == "pass" and "protected after 1000 ms" in verdict.evidence[0]["what"]


def test_a_refusal_while_the_old_stop_still_protects_is_handled_at_once():
    records = [truth(0, {SYM: "4"}, [OLD]), rest(90_000, ALGO, -4142)]
    verdict = check(records, {}, ctx(120_000))
    assert verdict.status == "pass" and verdict.metrics["stop_refusals"] == 1


def test_refusals_while_flat_and_other_routes_or_codes_are_not_judged():
    records = [
        truth(0, {}, []),
        rest(1_000, ALGO, -2021),
        truth(2_000, {SYM: "4"}, []),
        rest(2_100, "POST /fapi/v1/order", -2021),
        rest(2_200, ALGO, -1001, fault="rest_5xx"),
        truth(2_500, {SYM: "4"}, [OLD]),
    ]
    verdict = check(records, {}, ctx(10_000))
    assert verdict.status == "pass" and verdict.metrics["stop_refusals"] == 0
    assert verdict.metrics["rest_errors"] == "-2021:2,-1001:1"


def test_a_refusal_too_close_to_the_end_is_unknown():
    assert check(soon_incident(), {}, ctx(91_000)).status == "unknown"


def test_crashes_fail():
    for kind in ("bot.crash", "run.error"):
        records = [record(5_000, kind, error="ValueError: boom", detail="", life=1)]
        verdict = check(records, {}, ctx(10_000))
        assert verdict.status == "fail" and kind in verdict.summary
    killed = [record(5_000, "bot.killed", life=1, lost_writes=0)]
    assert check(killed, {}, ctx(10_000)).status == "pass"


def test_with_two_open_symbols_the_latest_place_stop_names_the_refused_one():
    other = stop("b1", "29000", symbol="BTCUSDT")
    records = [
        truth(0, {SYM: "4", "BTCUSDT": "1"}, [other]),
        command(900, "PlaceStop", symbol="BTCUSDT", client_id="b2", trigger="30000"),
        rest(1_000, ALGO, -2021),
    ]
    verdict = check(records, {}, ctx(10_000))
    assert verdict.status == "pass" and verdict.evidence[0]["symbol"] == "BTCUSDT"
    without_command = [records[0], records[2]]
    verdict = check(without_command, {}, ctx(10_000))
    assert verdict.status == "fail" and verdict.evidence[0]["symbol"] == SYM
