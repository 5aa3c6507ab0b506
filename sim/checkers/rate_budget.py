"""rate_budget: REST request weight and order counts stay under Binance's limits.

Rule. Every ``venue.rest`` record is a request that reached the venue, whether the venue or a
fault answered it (Binance counts refused requests too). Each costs the IP weight of its route
(:data:`WEIGHTS`; a route not in the table costs 1) and, for order placements, counts toward
the order limits (:data:`ORDER_COUNTS`: ``POST /fapi/v1/algoOrder`` costs no IP weight but
counts one order, ``reference/binance-usdm.md`` §3.2). Over every sliding window — the
requests in ``(t - 60 s, t]`` and ``(t - 10 s, t]`` for each request's ``t`` — the weight must
not exceed ``max_weight_per_minute`` and the order count ``max_orders_per_minute`` and
``max_orders_per_10s``. (Binance resets its counters on whole minutes; a sliding window is
stricter, never looser.)

The record carries no query parameters, so a route whose weight depends on them (e.g.
``openOrders`` without a symbol costs 40) is charged the with-symbol weight, as the reference
bot always sends one.

Evidence: the worst window of each measure.

Parameters: ``max_weight_per_minute`` (default 2400), ``max_orders_per_10s`` (default 300),
``max_orders_per_minute`` (default 1200).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import as_ms, settings
from sim.checkers.verdict import FAIL, PASS, Verdict

NAME = "rate_budget"

# IP weight per route (Binance USDⓈ-M, 2026; with the symbol given where that matters).
WEIGHTS: dict[str, int] = {
    "GET /fapi/v1/ping": 1,
    "GET /fapi/v1/time": 1,
    "GET /fapi/v1/exchangeInfo": 1,
    "GET /fapi/v1/premiumIndex": 1,
    "GET /fapi/v1/ticker/24hr": 1,
    "GET /fapi/v1/ticker/price": 1,
    "GET /fapi/v2/ticker/price": 1,
    "GET /fapi/v1/leverageBracket": 1,
    "POST /fapi/v1/leverage": 1,
    "GET /fapi/v1/positionSide/dual": 30,
    "POST /fapi/v1/positionSide/dual": 1,
    "GET /fapi/v3/account": 5,
    "GET /fapi/v2/account": 5,
    "GET /fapi/v3/balance": 5,
    "GET /fapi/v2/balance": 5,
    "GET /fapi/v3/positionRisk": 5,
    "GET /fapi/v2/positionRisk": 5,
    "POST /fapi/v1/order": 1,
    "GET /fapi/v1/order": 1,
    "DELETE /fapi/v1/order": 1,
    "PUT /fapi/v1/order": 1,
    "GET /fapi/v1/openOrders": 1,
    "GET /fapi/v1/allOrders": 5,
    "DELETE /fapi/v1/allOpenOrders": 1,
    "POST /fapi/v1/batchOrders": 5,
    "POST /fapi/v1/algoOrder": 0,
    "GET /fapi/v1/algoOrder": 1,
    "DELETE /fapi/v1/algoOrder": 1,
    "GET /fapi/v1/openAlgoOrders": 1,
    "DELETE /fapi/v1/algoOpenOrders": 1,
    "GET /fapi/v1/allAlgoOrders": 5,
    "POST /fapi/v1/listenKey": 1,
    "PUT /fapi/v1/listenKey": 1,
    "DELETE /fapi/v1/listenKey": 1,
}
UNKNOWN_ROUTE_WEIGHT = 1

# Orders counted toward the 10 s and 1 min order limits.
ORDER_COUNTS: dict[str, int] = {
    "POST /fapi/v1/order": 1,
    "PUT /fapi/v1/order": 1,
    "POST /fapi/v1/batchOrders": 5,  # up to 5 orders; the record does not say how many
    "POST /fapi/v1/algoOrder": 1,
}


def weight_of(route: str) -> int:
    return WEIGHTS.get(route, UNKNOWN_ROUTE_WEIGHT)


def _worst_window(
    requests: list[tuple[int, str, int]], span_ms: int
) -> tuple[int, int, int, dict[str, int]]:
    """``(total, first t_ms, last t_ms, {route: cost})`` of the costliest sliding window of
    ``span_ms`` over ``(t_ms, route, cost)`` requests."""
    window: deque[tuple[int, str, int]] = deque()
    total = best = 0
    best_span = (0, 0)
    best_routes: dict[str, int] = {}
    for request in requests:
        window.append(request)
        total += request[2]
        while window[0][0] <= request[0] - span_ms:
            total -= window.popleft()[2]
        if total > best:
            best, best_span = total, (window[0][0], request[0])
            best_routes = {}
            for _, route, cost in window:
                best_routes[route] = best_routes.get(route, 0) + cost
    return best, best_span[0], best_span[1], dict(sorted(best_routes.items()))


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    s = settings(
        NAME,
        params,
        {"max_weight_per_minute": 2400, "max_orders_per_10s": 300, "max_orders_per_minute": 1200},
    )
    limits = {name: as_ms(NAME, name, s[name], "requests or weight units") for name in s}
    rest = [r for r in records if r["kind"] == "venue.rest"]
    weights = [(r["t_ms"], r["route"], weight_of(r["route"])) for r in rest]
    orders = [
        (r["t_ms"], r["route"], ORDER_COUNTS[r["route"]])
        for r in rest
        if r["route"] in ORDER_COUNTS
    ]
    measures = (
        ("max_weight_per_minute", "weight", weights, 60_000),
        ("max_orders_per_minute", "orders", orders, 60_000),
        ("max_orders_per_10s", "orders", orders, 10_000),
    )
    metrics: dict[str, int | str] = {"requests": len(rest), "orders": sum(c for *_, c in orders)}
    evidence = []
    exceeded = []
    for limit_name, unit, requests, span_ms in measures:
        worst, first_ms, last_ms, routes = _worst_window(requests, span_ms)
        limit = limits[limit_name]
        metrics[f"worst_{unit}_{span_ms // 1000}s"] = worst
        over = worst > limit
        if worst:
            evidence.append(
                {
                    "t_ms": first_ms,
                    "until_ms": last_ms,
                    "what": f"the worst {span_ms // 1000} s window: {worst} {unit} "
                    f"(limit {limit})" + (" EXCEEDED" if over else ""),
                    "measure": limit_name,
                    "total": worst,
                    "limit": limit,
                    "by_route": routes,
                }
            )
        if over:
            exceeded.append(f"{worst} {unit} in {span_ms // 1000} s (limit {limit})")
    if exceeded:
        return Verdict(
            NAME, FAIL, "over Binance's limits: " + "; ".join(exceeded), tuple(evidence), metrics
        )
    if not rest:
        return Verdict(NAME, PASS, "no REST request reached the venue", (), metrics)
    summary = (
        f"{len(rest)} request(s); worst minute {metrics['worst_weight_60s']} weight, worst 10 s "
        f"{metrics['worst_orders_10s']} order(s): within limits"
    )
    return Verdict(NAME, PASS, summary, tuple(evidence), metrics)
