"""rate_budget: sliding windows of REST weight and order counts."""

from __future__ import annotations

from sim.checkers.rate_budget import check, weight_of
from tests.checkers.histories import ctx, rest

RISK = "GET /fapi/v3/positionRisk"
ALGO = "POST /fapi/v1/algoOrder"


def test_a_light_run_passes_and_reports_its_worst_windows():
    records = [rest(0, "GET /fapi/v1/exchangeInfo"), rest(10, RISK), rest(20, ALGO)]
    verdict = check(records, {}, ctx(1_000))
    assert verdict.status == "pass"
    assert verdict.metrics["worst_weight_60s"] == 6 and verdict.metrics["worst_orders_10s"] == 1
    assert verdict.evidence[0]["by_route"] == {"GET /fapi/v1/exchangeInfo": 1, RISK: 5}


def test_too_much_weight_in_one_minute_fails():
    records = [rest(i * 100, RISK) for i in range(481)]  # 2405 in 48 s
    verdict = check(records, {}, ctx(60_000))
    assert verdict.status == "fail" and "2405 weight" in verdict.summary
    assert verdict.evidence[0]["total"] == 2405 and verdict.evidence[0]["limit"] == 2400


def test_the_window_slides_and_excludes_requests_a_minute_old():
    records = [rest(i * 250, RISK) for i in range(481)]  # 2405 over 120 s
    verdict = check(records, {}, ctx(130_000))
    assert verdict.status == "pass" and verdict.metrics["worst_weight_60s"] == 240 * 5
    edge = [rest(0, RISK), rest(60_000, RISK)]
    assert check(edge, {"max_weight_per_minute": 5}, ctx(60_000)).status == "pass"


def test_too_many_orders_in_ten_seconds_fail_even_at_zero_weight():
    records = [rest(i * 30, ALGO) for i in range(301)]
    verdict = check(records, {}, ctx(10_000))
    assert verdict.status == "fail" and verdict.metrics["worst_weight_60s"] == 0
    assert verdict.metrics["worst_orders_10s"] == 301
    assert check(records, {"max_orders_per_10s": 400}, ctx(10_000)).status == "pass"


def test_unknown_routes_and_refused_requests_cost_one():
    assert weight_of("GET /fapi/v9/whatever") == 1 and weight_of("404") == 1
    records = [rest(0, "404", 0), rest(5, RISK, -1003, fault="rest_429")]
    assert check(records, {}, ctx(1_000)).metrics["worst_weight_60s"] == 6


def test_no_requests_pass():
    verdict = check([], {}, ctx(1_000))
    assert verdict.status == "pass" and verdict.metrics["requests"] == 0
