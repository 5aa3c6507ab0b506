"""belief_matches_truth: the bot's samples after the convergence deadline against the venue."""

from __future__ import annotations

from sim.checkers.belief_matches_truth import check
from tests.checkers.histories import SYM, belief, ctx, stop, truth

CONVERGE = 30_000
CTX = ctx(60_000, heal=20_000, converge=CONVERGE)
S1, S2 = stop("s1", "1.9"), stop("s2", "2.0")


def test_an_equal_view_passes():
    records = [
        truth(0, {SYM: "4"}, [S1]),
        belief(CONVERGE, "4", [("s1", "1.9", "working")]),
        truth(40_000, {}, []),
        belief(59_000, "0", [], phase="FLAT"),
    ]
    verdict = check(records, {}, CTX)
    assert verdict.status == "pass"
    assert verdict.metrics["samples"] == 2 and verdict.metrics["instants"] == 2


def test_a_different_amount_fails_with_the_diff():
    records = [truth(0, {SYM: "4"}, [S1]), belief(CONVERGE, "0", [("s1", "1.9", "working")])]
    verdict = check(records, {}, CTX)
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert (item["bot_amount"], item["exchange_amount"]) == ("0", "4")
    assert [r["seq"] for r in item["records"]] == [1, 0]


def test_a_live_stop_missing_at_the_exchange_and_an_unknown_one_there_both_fail():
    records = [
        truth(0, {SYM: "4"}, [S2]),
        belief(CONVERGE, "4", [("s1", "1.9", "working")]),
    ]
    verdict = check(records, {}, CTX)
    assert verdict.status == "fail"
    item = verdict.evidence[0]
    assert item["missing_at_exchange"] == ["s1"] and item["unknown_to_bot"] == ["s2"]
    assert "bot_amount" not in item


def test_a_stop_in_flight_may_or_may_not_be_at_the_exchange():
    placing = belief(CONVERGE, "4", [("s1", "1.9", "working"), ("s2", "2.0", "placing")])
    landed = [truth(0, {SYM: "4"}, [S1, S2]), placing]
    not_yet = [truth(0, {SYM: "4"}, [S1]), placing]
    for records in (landed, not_yet):
        verdict = check(records, {}, CTX)
        assert verdict.status == "pass" and verdict.metrics["stops_in_flight"] == 1


def test_only_samples_from_the_deadline_on_are_judged():
    wrong_before = [truth(0, {SYM: "4"}, [S1]), belief(CONVERGE - 1, "0")]
    verdict = check(wrong_before, {}, CTX)
    assert verdict.status == "unknown" and "no bot.belief sample" in verdict.summary


def test_the_truth_is_the_one_recorded_before_the_sample():
    records = [
        truth(0, {SYM: "4"}, [S1]),
        belief(CONVERGE, "4", [("s1", "1.9", "working")]),
        truth(CONVERGE, {}, []),  # same instant, after the sample: the bot could not know
    ]
    assert check(records, {}, CTX).status == "pass"


def test_the_latest_life_speaks_for_the_bot():
    records = [
        truth(0, {SYM: "4"}, [S1]),
        belief(CONVERGE, "0", [], life=1),
        belief(CONVERGE, "4", [("s1", "1.9", "working")], life=2),
    ]
    assert check(records, {}, CTX).status == "pass"


def test_a_traded_symbol_never_sampled_is_unknown():
    records = [belief(CONVERGE, "0", [])]
    context = ctx(60_000, converge=CONVERGE, symbols=(SYM, "BTCUSDT"))
    verdict = check(records, {}, context)
    assert verdict.status == "unknown" and "BTCUSDT" in verdict.summary
