"""run_checkers, the registry and the context."""

from __future__ import annotations

import json

import pytest

from sim.checkers import REGISTRY
from sim.checkers.context import CheckContext
from sim.checkers.run import run_checkers
from tests.checkers.histories import SYM, T0, ctx, stop, truth

CATALOGUE = (
    "stop_coverage",
    "no_orphan_stops",
    "belief_matches_truth",
    "trailing_monotonic",
    "loss_bounded",
    "errors_handled",
    "rate_budget",
    "no_duplicate_stops",
)
# beyond DESIGN.md's minimum: a liveness check (a bot safe because it never enters fails it)
BEYOND_THE_CATALOGUE = ("entries_on_time",)


def test_the_registry_holds_the_design_catalogue_and_our_additions():
    assert sorted(REGISTRY) == sorted(CATALOGUE + BEYOND_THE_CATALOGUE)


def test_named_checkers_run_in_order_with_their_params():
    records = [truth(0, {SYM: "4"}, [stop("s1", "1.9")]), truth(5_000, {}, [])]
    verdicts = run_checkers(
        records, {"no_duplicate_stops": {"max_stops": 1}, "stop_coverage": None}, ctx(10_000)
    )
    assert [v.checker for v in verdicts] == ["no_duplicate_stops", "stop_coverage"]
    assert [v.status for v in verdicts] == ["pass", "pass"]
    assert verdicts[0].to_dict()["checker"] == "no_duplicate_stops"


def test_an_unknown_checker_names_itself_and_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown checker 'stop_coverge'; known checkers: "):
        run_checkers([], {"stop_coverge": {}}, ctx(1))


def test_an_unknown_parameter_names_the_checker_and_the_known_ones():
    with pytest.raises(ValueError, match=r"'rate_budget'.*'max_weight'.*max_orders_per_10s"):
        run_checkers([], {"rate_budget": {"max_weight": 1}}, ctx(1))


def test_every_checker_accepts_an_empty_history():
    verdicts = run_checkers([], {name: {} for name in CATALOGUE if name != "loss_bounded"}, ctx(1))
    assert {v.checker: v.status for v in verdicts}["belief_matches_truth"] == "unknown"
    assert all(v.status == "pass" for v in verdicts if v.checker != "belief_matches_truth")


def test_the_context_checks_its_instants():
    with pytest.raises(ValueError, match="start_ms <= heal_ms <= converge_ms"):
        CheckContext(start_ms=T0, end_ms=T0, heal_ms=T0 + 5, converge_ms=T0)
    with pytest.raises(ValueError, match="initial_stop_pct"):
        ctx(1, initial_stop_pct="six")
    spanning = CheckContext.spanning([truth(0), truth(700)], converge_ms=T0 + 100)
    assert (spanning.start_ms, spanning.end_ms, spanning.heal_ms) == (T0, T0 + 700, T0)
    assert ctx(1, initial_stop_pct=6).initial_stop_pct == 6


def test_verdicts_are_plain_json_even_when_failing():
    from tests.checkers.histories import belief, fill, price, record, rest

    records = [
        price(0, "2.0333"),
        fill(0, "BUY", "4", "2", fee="0.004"),
        truth(0, {SYM: "4"}, [stop("s1", "2.0"), stop("s2", "1.9"), stop("s3", "1.8")]),
        truth(1_000, {SYM: "4"}, []),
        rest(1_100, "POST /fapi/v1/algoOrder", -2021),
        record(1_200, "bot.crash", life=1, error="boom"),
        fill(9_000, "SELL", "4", "1.5", realized="-2", fee="0.003"),
        truth(9_000, {}, [stop("s4", "1.9")]),
        belief(9_500, "4", [("s9", "1.9", "working")]),
    ]
    context = ctx(30_000, converge=9_000, initial_stop_pct="6")
    verdicts = run_checkers(records, dict.fromkeys(CATALOGUE), context)
    statuses = {v.checker: v.status for v in verdicts}
    assert statuses == {
        "stop_coverage": "fail",
        "no_orphan_stops": "fail",
        "belief_matches_truth": "fail",
        "trailing_monotonic": "pass",
        "loss_bounded": "fail",
        "errors_handled": "fail",
        "rate_budget": "pass",
        "no_duplicate_stops": "fail",
    }
    for verdict in verdicts:
        text = json.dumps(verdict.to_dict(), sort_keys=True)
        assert json.loads(text)["checker"] == verdict.checker
