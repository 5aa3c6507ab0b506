"""sim.tape: price tapes from files and from the generator, and FakeBinance playing them.

A tape is what moves the market in a scenario, so three things matter to a user: a price
in the file is the price the exchange sees (exactly: no float on the way), a bad file is
refused with a message that says where and how to fix it, and each point takes effect at
its own instant (a stop fires on the first point that crosses it, not a step later).
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sim.tape import TapeError, TapePoint, WalkSpec, generate_tape, load_tape, write_tape
from tests.venue.harness import SOON, T0_MS, run_ccxt

D = Decimal


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_then_load_keeps_every_decimal_exact(tmp_path, suffix):
    points = [
        TapePoint(1_000, "SOONUSDT", D("2.0333"), D("2.0334")),
        # A float would print this as 0.30000000000000004 too; the next one it cannot keep.
        TapePoint(2_000, "SOONUSDT", D("0.30000000000000004"), D("0.30000000000000004")),
        TapePoint(2_000, "BTCUSDT", D("1.00000000000000000001"), D("97000.10")),
        TapePoint(3_500, "SOONUSDT", D("1.9113"), D("1.9100")),
    ]
    loaded = load_tape(write_tape(points, tmp_path / f"tape{suffix}"))
    assert loaded == points
    assert [(str(p.mark), str(p.last)) for p in loaded] == [
        ("2.0333", "2.0334"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1.00000000000000000001", "97000.10"),
        ("1.9113", "1.9100"),
    ]


def test_a_csv_without_last_uses_the_mark_as_the_contract_price(tmp_path):
    path = tmp_path / "marks.csv"
    path.write_text("t_ms,symbol,mark\n1000,SOONUSDT,2.0333\n2000,SOONUSDT,2.0300\n")
    assert load_tape(path) == [
        TapePoint(1000, "SOONUSDT", D("2.0333"), D("2.0333")),
        TapePoint(2000, "SOONUSDT", D("2.0300"), D("2.0300")),
    ]


def test_a_parquet_without_last_and_an_empty_last_cell_use_the_mark(tmp_path):
    path = tmp_path / "marks.parquet"
    pl.DataFrame({"t_ms": [1000], "symbol": ["SOONUSDT"], "mark": ["2.0333"]}).write_parquet(path)
    assert load_tape(path) == [TapePoint(1000, "SOONUSDT", D("2.0333"), D("2.0333"))]
    csv = tmp_path / "gap.csv"
    csv.write_text("t_ms,symbol,mark,last\n1000,SOONUSDT,2.0333,\n2000,SOONUSDT,2.0300,2.0301\n")
    assert [p.last for p in load_tape(csv)] == [D("2.0333"), D("2.0301")]


def _csv(text: str):
    def write(path: Path) -> Path:
        path = path / "tape.csv"
        path.write_text(text)
        return path

    return write


def _parquet(**columns):
    def write(path: Path) -> Path:
        path = path / "tape.parquet"
        pl.DataFrame(columns).write_parquet(path)
        return path

    return write


def _named(name: str, text: str = ""):
    def write(path: Path) -> Path:
        path = path / name
        if text:
            path.write_text(text)
        return path

    return write


HEADER = "t_ms,symbol,mark,last\n"
BAD_TAPES = [
    (
        "missing-column",
        _csv("t_ms,mark\n1000,2.0\n"),
        "missing column(s) symbol; a tape needs t_ms, symbol, mark (and optionally last)",
    ),
    (
        "non-integer-t_ms",
        _csv(HEADER + "1000.5,SOONUSDT,2.0,2.0\n"),
        "column t_ms must hold integer milliseconds since the epoch",
    ),
    (
        "empty-t_ms-cell",
        _csv(HEADER + "1000,SOONUSDT,2.0,2.0\n,SOONUSDT,2.1,2.1\n"),
        "row 3, column t_ms: empty; give the instant in integer ms",
    ),
    (
        "unsorted",
        _csv(HEADER + "2000,SOONUSDT,2.0,2.0\n1000,SOONUSDT,2.1,2.1\n"),
        "row 3: t_ms 1000 is earlier than the row before (2000); sort the tape by time",
    ),
    (
        "unsorted-parquet",  # no header line: the second row is row 2
        _parquet(t_ms=[2000, 1000], symbol=["S", "S"], mark=["2.0", "2.1"]),
        "row 2: t_ms 1000 is earlier than the row before (2000); sort the tape by time",
    ),
    (
        "zero-price",
        _csv(HEADER + "1000,SOONUSDT,0,2.0\n"),
        "row 2, column mark: a price must be a positive number, got '0'",
    ),
    (
        "negative-last",
        _csv(HEADER + "1000,SOONUSDT,2.0,-2.0\n"),
        "row 2, column last: a price must be a positive number, got '-2.0'",
    ),
    (
        "non-numeric-price",
        _csv(HEADER + "1000,SOONUSDT,2.0,abc\n"),
        "row 2, column last: 'abc' is not a decimal price",
    ),
    (
        "empty-mark-cell",
        _csv(HEADER + "1000,SOONUSDT,,2.0\n"),
        "row 2, column mark: None is not a decimal price",
    ),
    (
        "empty-symbol-cell",
        _csv(HEADER + "1000,,2.0,2.0\n"),
        "row 2, column symbol: empty; name the symbol, e.g. SOONUSDT",
    ),
    ("header-only", _csv(HEADER), "the tape is empty; add at least one row"),
    ("empty-file", _csv(""), "cannot be read as a tape (empty CSV)"),
    ("not-parquet", _named("tape.parquet", "not parquet"), "cannot be read as a tape"),
    ("unknown-suffix", _named("tape.json", "[]"), "a tape is a .csv or .parquet file"),
    ("missing-file", _named("nowhere.csv"), "no such tape file"),
]


@pytest.mark.parametrize(
    ("write", "message"), [c[1:] for c in BAD_TAPES], ids=[c[0] for c in BAD_TAPES]
)
def test_a_bad_tape_is_refused_naming_the_file_the_place_and_the_fix(tmp_path, write, message):
    path = write(tmp_path)
    with pytest.raises(TapeError) as refused:
        load_tape(path)
    text = str(refused.value)
    assert text.startswith(str(path))
    assert message in text


# ------------------------------------------------------------------ the generator
WALKS = [
    WalkSpec("SOONUSDT", D("2.0333"), D("0.0001"), vol_ticks=4.0, spread_ticks=3),
    WalkSpec("BTCUSDT", D("97000.0"), D("0.1"), vol_ticks=20.0),
]


def _generate(seed, scripted=None, walks=WALKS):
    return generate_tape(
        walks,
        start_ms=T0_MS,
        duration_ms=600_000,
        step_ms=1_000,
        rng=random.Random(seed),
        scripted=scripted,
    )


def test_generate_tape_is_a_function_of_its_seed():
    assert _generate(7) == _generate(7)
    assert _generate(7) != _generate(8)


def test_generated_prices_sit_on_the_tick_grid_and_the_contract_price_within_the_spread():
    points = _generate(3)
    ticks = {w.symbol: w.tick for w in WALKS}
    assert len(points) == 2 * 601  # one point per symbol per second, both ends included
    assert [p.t_ms for p in points] == sorted(p.t_ms for p in points)
    assert all(p.mark % ticks[p.symbol] == 0 and p.last % ticks[p.symbol] == 0 for p in points)
    soon = [p for p in points if p.symbol == "SOONUSDT"]
    assert max(abs(p.last - p.mark) for p in soon) == 3 * D("0.0001")  # reached, never passed
    assert all(p.last == p.mark for p in points if p.symbol == "BTCUSDT")  # spread 0
    assert soon[0].mark == D("2.0333")  # the walk starts at its start price


def test_scripted_points_are_pinned_exactly_at_their_instant_on_and_off_the_step_grid():
    on_grid, off_grid = T0_MS + 200_000, T0_MS + 300_500
    scripted = {("SOONUSDT", on_grid): D("1.9113"), ("SOONUSDT", off_grid): D("2.5000")}
    points = _generate(3, scripted)
    at = {(p.symbol, p.t_ms): p for p in points}
    # Mark and contract price both: a CONTRACT_PRICE stop at the scripted price fires there.
    assert at[("SOONUSDT", on_grid)] == TapePoint(on_grid, "SOONUSDT", D("1.9113"), D("1.9113"))
    assert at[("SOONUSDT", off_grid)] == TapePoint(off_grid, "SOONUSDT", D("2.5"), D("2.5"))
    assert ("BTCUSDT", off_grid) not in at  # an instant of SOONUSDT's script only
    assert ("BTCUSDT", on_grid) in at
    assert len(points) == 2 * 601 + 1
    # The walk continues from the pinned price: the next point is one step away from it.
    after = at[("SOONUSDT", off_grid + 500)]
    assert abs(after.mark - D("2.5")) <= 40 * D("0.0001")  # 10 standard deviations


def test_a_script_the_generator_cannot_honour_is_refused():
    with pytest.raises(TapeError, match=r"1\.91135 for SOONUSDT at t_ms .* tick 0\.0001; round"):
        _generate(1, {("SOONUSDT", T0_MS + 1000): D("1.91135")})
    with pytest.raises(TapeError, match="no walk for symbol 'SOONUSD'"):
        _generate(1, {("SOONUSD", T0_MS + 1000): D("1.9113")})
    with pytest.raises(TapeError, match=r"start 2\.03335 is not a multiple of the tick"):
        _generate(1, walks=[WalkSpec("SOONUSDT", D("2.03335"), D("0.0001"), 1.0)])


# ------------------------------------------------------------------ FakeBinance.play
TAPE = [  # seconds after T0: (mark, last)
    (10, "2.0000", "2.0000"),
    (20, "1.9100", "1.9200"),  # the mark crosses 1.9113, the contract price does not
    (30, "1.9114", "1.9114"),
    (40, "1.9200", "1.9113"),  # the contract price touches 1.9113 (a SELL stop fires at <=)
    (50, "1.8500", "1.8500"),
]


@pytest.mark.parametrize(
    ("working_type", "fires_at_s", "fill_price"),
    # A MARK_PRICE stop fires on the mark and its market child fills at the contract price.
    [("CONTRACT_PRICE", 40, "1.9113"), ("MARK_PRICE", 20, "1.9200")],
)
def test_play_applies_each_point_at_its_instant_and_a_stop_fires_on_the_first_crossing(
    tmp_path, working_type, fires_at_s, fill_price
):
    path = write_tape(
        [TapePoint(T0_MS + s * 1000, "SOONUSDT", D(m), D(c)) for s, m, c in TAPE],
        tmp_path / "tape.csv",
    )

    async def body(ex, venue, sim):
        await ex.create_order(SOON, "market", "buy", 4, None, {"clientOrderId": "entry"})
        await ex.create_order(
            SOON,
            "STOP_MARKET",
            "sell",
            None,
            None,
            {
                "stopPrice": 1.9113,
                "closePosition": True,
                "workingType": working_type,
                "clientOrderId": "stop",
            },
        )
        venue.play(load_tape(path))
        seen = []
        await asyncio.sleep(5)
        for _ in TAPE:  # halfway between points: what the exchange holds, and since when
            await asyncio.sleep(10)
            seen.append(
                (
                    venue.exchange.price_time_ms("SOONUSDT") - T0_MS,
                    str(venue.exchange.mark("SOONUSDT")),
                    str(venue.exchange.last("SOONUSDT")),
                )
            )
        return seen

    seen, _, venue, sim = run_ccxt(body, horizon_s=120)
    # Requests take no time here (rest_ms=0): play() starts at T0, samples are taken at
    # T0 + 15 s, 25 s, ...: each shows the point before it, stamped with its own instant.
    assert seen == [(s * 1000, m, c) for s, m, c in TAPE]
    stop = venue.exchange.algos[4000001]
    assert (stop.status, stop.trigger_ms - T0_MS) == ("FINISHED", fires_at_s * 1000)
    child = venue.exchange.orders[stop.actual_order_id]
    assert (child.status, str(child.avg_price), child.update_ms - T0_MS) == (
        "FILLED",
        fill_price,
        fires_at_s * 1000,
    )
    # Ground truth in the venue's trace: the position went flat at the crossing point.
    flat = [
        r["t_ms"] - T0_MS
        for r in sim.trace.records()
        if r["kind"] == "venue.truth" and r["positions"] == {}
    ]
    assert flat[0] == fires_at_s * 1000
