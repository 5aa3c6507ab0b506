"""loss_bounded: realized loss per closed position against stop distance plus slippage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sim.checkers.loss_bounded import check, closed_positions
from tests.checkers.histories import ctx, fill, price

STOP = {"stop_pct": "6"}


def long_closed_at(exit_price: str, realized: str) -> list[dict]:
    return [
        fill(0, "BUY", "4", "2", fee="0.004"),  # entry notional 8
        fill(60_000, "SELL", "4", exit_price, realized=realized, fee="0.0038"),
    ]


def test_a_stop_out_at_the_stop_distance_passes():
    verdict = check(long_closed_at("1.88", "-0.48"), STOP, ctx(90_000))
    assert verdict.status == "pass"
    assert verdict.metrics["positions"] == 1
    assert verdict.metrics["worst_loss_pct"] == "6.0975"  # (0.48 + 0.0078) / 8


def test_a_loss_beyond_stop_plus_slippage_fails_with_the_position():
    verdict = check(long_closed_at("1.80", "-0.8"), STOP, ctx(90_000))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert item["entry_notional"] == "8" and item["bound"] == "0.52"
    assert item["loss"] == "0.8078" and item["side"] == "long"
    assert [r["seq"] for r in item["records"]] == [0, 1]
    # more slippage allowed: passes
    assert check(long_closed_at("1.80", "-0.8"), {**STOP, "slippage_pct": 5}, ctx(1)).status == (
        "pass"
    )


def test_the_stop_distance_comes_from_the_context_or_is_required():
    assert check(long_closed_at("1.80", "-0.8"), {}, ctx(1, initial_stop_pct="6")).status == "fail"
    with pytest.raises(ValueError, match=r"stop_pct.*required"):
        check([], {}, ctx(1))
    with pytest.raises(ValueError, match="slippage_pct"):
        check([], {**STOP, "slippage_pct": "lots"}, ctx(1))


def test_an_open_position_without_prices_is_counted_not_judged():
    verdict = check([fill(0, "SELL", "4", "2")], STOP, ctx(1))
    assert verdict.status == "pass"
    assert verdict.metrics["positions"] == 0 and verdict.metrics["open_at_end"] == 1
    assert "no position was closed" in verdict.summary


def test_an_open_position_is_judged_at_its_last_mark():
    """A naked position that ran past its stop lost the money, realized or not (the
    SOONUSDT incident's position, still open at the end)."""
    entry = [fill(0, "BUY", "4", "2", fee="0.004")]
    within = check([*entry, price(50_000, "1.90")], STOP, ctx(60_000))
    assert within.status == "pass"  # 5.05 % down: inside 6 + 0.5
    beyond = check([*entry, price(50_000, "1.95"), price(55_000, "1.84")], STOP, ctx(60_000))
    assert beyond.status == "fail"
    (item,) = beyond.evidence
    assert item["mark"] == "1.84" and item["unrealized_pnl"] == "-0.64"
    assert "still open at the end" in item["what"]


def test_partial_closes_and_a_flip_split_positions_and_fees():
    records = [
        fill(0, "SELL", "4", "2", fee="0.004"),  # short 4
        fill(1_000, "BUY", "1", "2.1", realized="-0.1", fee="0.001"),
        fill(2_000, "BUY", "7", "2.1", realized="-0.3", fee="0.007"),  # closes 3, opens long 4
        fill(3_000, "SELL", "4", "2.2", realized="0.4", fee="0.004"),
    ]
    closed, still_open = closed_positions(records)
    assert not still_open
    (short, _, _), (long, _, _) = closed
    assert short.entry_notional == 8 and short.realized == Decimal("-0.4")
    assert short.fees == Decimal("0.004") + Decimal("0.001") + Decimal("0.003")
    assert long.entry_notional == Decimal("8.4") and long.fees == Decimal("0.008")
    verdict = check(records, STOP, ctx(5_000))
    assert verdict.status == "pass" and verdict.metrics["positions"] == 2
