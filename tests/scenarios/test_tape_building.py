"""A scenario's prices: waypoints pinned on a seeded walk make one series, not two."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from sim.runner import build_tape
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SOON = (ROOT / "scenarios" / "soonusdt-2025-11-10.toml").read_text()


def test_a_walked_symbol_with_waypoints_is_one_series_with_the_waypoints_pinned(tmp_path):
    text = SOON.replace('symbols = ["SOONUSDT"]', 'symbols = ["SOONUSDT", "BTCUSDT"]').replace(
        "[bot]",
        '[[tape.walks]]\nsymbol = "BTCUSDT"\nstart = "97000.0"\nvol_ticks = 40.0\n\n'
        '[[tape.points]]\nat = "+30.5s"\nsymbol = "BTCUSDT"\nprice = "95000.0"\n\n[bot]',
        1,
    )
    path = tmp_path / "soonusdt-2025-11-10.toml"
    path.write_text(text)
    scenario = load_scenario(path)
    tape = build_tape(scenario)
    btc = [p for p in tape if p.symbol == "BTCUSDT"]
    per_instant = Counter(p.t_ms for p in btc)
    assert max(per_instant.values()) == 1  # one series
    pinned = [p for p in btc if p.t_ms == scenario.start_ms + 30_500]
    assert [p.mark for p in pinned] == [Decimal("95000.0")]
    after = next(p for p in btc if p.t_ms == scenario.start_ms + 31_000)
    assert abs(after.mark - Decimal("95000.0")) < Decimal("1000")  # the walk goes on from it
    assert build_tape(scenario) == tape  # seeded
