"""Price tapes: the mark and contract (last) prices that drive the exchange model.

A tape is a time-ordered list of points ``(t_ms, symbol, mark, last)``. It comes from a file
(CSV or parquet, read with polars; columns ``t_ms``, ``symbol``, ``mark`` and optionally
``last``; prices as decimal strings) or from :func:`generate_tape` (a seeded random walk on the
symbol's tick grid, with scripted points). The contract price is a series of its own, so a
``workingType`` of MARK_PRICE and one of CONTRACT_PRICE can see different prices.

A bad tape is refused with :class:`TapeError`, naming the file, the row and the fix.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl


class TapeError(ValueError):
    """A tape that cannot drive a run; the message names the file, row and column."""


@dataclass(frozen=True, slots=True)
class TapePoint:
    t_ms: int
    symbol: str
    mark: Decimal
    last: Decimal


def _decimal(value: object, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise TapeError(f"{where}: {value!r} is not a decimal price") from None
    if not number.is_finite() or number <= 0:
        raise TapeError(f"{where}: a price must be a positive number, got {value!r}")
    return number


def load_tape(path: str | Path) -> list[TapePoint]:
    """Read a tape file. Prices are read as strings, never through floats."""
    path = Path(path)
    if not path.exists():
        raise TapeError(f"{path}: no such tape file")
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif path.suffix == ".csv":
            frame = pl.read_csv(
                path, schema_overrides={"mark": pl.String, "last": pl.String, "symbol": pl.String}
            )
        else:
            raise TapeError(f"{path}: a tape is a .csv or .parquet file")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise TapeError(f"{path}: cannot be read as a tape ({exc})") from None
    missing = [c for c in ("t_ms", "symbol", "mark") if c not in frame.columns]
    if missing:
        raise TapeError(
            f"{path}: missing column(s) {', '.join(missing)}; a tape needs t_ms, "
            "symbol, mark (and optionally last)"
        )
    # Fix: checked before the t_ms type, which a header-only CSV leaves as text, so an empty
    # tape was reported as "column t_ms must hold integer milliseconds".
    if frame.height == 0:
        raise TapeError(f"{path}: the tape is empty; add at least one row of t_ms,symbol,mark")
    if frame["t_ms"].dtype not in (pl.Int64, pl.Int32, pl.UInt64, pl.UInt32):
        raise TapeError(f"{path}: column t_ms must hold integer milliseconds since the epoch")
    has_last = "last" in frame.columns
    points, previous = [], None
    # Fix: a CSV's rows are numbered as its lines (line 1 is the header); a parquet file has
    # no header line, so its rows count from 1 (they were reported one too high).
    first_row = 2 if path.suffix == ".csv" else 1
    for row_no, row in enumerate(frame.iter_rows(named=True), start=first_row):
        where = f"{path}, row {row_no}"
        t_ms = row["t_ms"]
        # Fix: an empty t_ms or symbol cell crashed with a TypeError (or became the symbol
        # "None") instead of naming the row.
        if t_ms is None:
            raise TapeError(f"{where}, column t_ms: empty; give the instant in integer ms")
        if row["symbol"] is None:
            raise TapeError(f"{where}, column symbol: empty; name the symbol, e.g. SOONUSDT")
        if previous is not None and t_ms < previous:
            raise TapeError(
                f"{where}: t_ms {t_ms} is earlier than the row before "
                f"({previous}); sort the tape by time"
            )
        previous = t_ms
        mark = _decimal(row["mark"], f"{where}, column mark")
        last = (
            _decimal(row["last"], f"{where}, column last")
            if has_last and row["last"] is not None
            else mark
        )
        points.append(TapePoint(int(t_ms), str(row["symbol"]), mark, last))
    return points


def write_tape(points: Iterable[TapePoint], path: str | Path) -> Path:
    """Write a tape as CSV or parquet (by suffix), prices as strings."""
    rows = list(points)
    frame = pl.DataFrame(
        {
            "t_ms": [p.t_ms for p in rows],
            "symbol": [p.symbol for p in rows],
            "mark": [str(p.mark) for p in rows],
            "last": [str(p.last) for p in rows],
        },
        schema={"t_ms": pl.Int64, "symbol": pl.String, "mark": pl.String, "last": pl.String},
    )
    path = Path(path)
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path)
    return path


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """A random walk for one symbol: ``vol_ticks`` is the standard deviation of one step's
    move in ticks; ``spread_ticks`` bounds how far the contract price strays from the mark."""

    symbol: str
    start: Decimal
    tick: Decimal
    vol_ticks: float
    spread_ticks: int = 0


def generate_tape(
    walks: Iterable[WalkSpec],
    *,
    start_ms: int,
    duration_ms: int,
    step_ms: int,
    rng: random.Random,
    scripted: Mapping[tuple[str, int], Decimal] | None = None,
) -> list[TapePoint]:
    """Seeded random walks on each symbol's tick grid, one point per symbol per ``step_ms``.

    ``scripted`` pins the mark (and last) at given ``(symbol, t_ms)`` instants, which need not
    fall on the step grid; the walk continues from each pinned price.
    """
    scripted = dict(scripted or {})
    walks = list(walks)
    # Fix: a price off the tick grid (or a symbol without a walk) was silently truncated to
    # the tick below (or ignored), so a scripted crossing could move or vanish.
    by_symbol = {w.symbol: w for w in walks}
    for w in walks:
        if w.start % w.tick != 0:
            raise TapeError(
                f"walk {w.symbol}: start {w.start} is not a multiple of the tick {w.tick}; "
                "round it to the tick"
            )
    for (symbol, t_ms), price in scripted.items():
        walk = by_symbol.get(symbol)
        if walk is None:
            raise TapeError(
                f"scripted price at t_ms {t_ms}: no walk for symbol {symbol!r} "
                f"(walks: {', '.join(by_symbol)}); add a WalkSpec or fix the symbol"
            )
        if price <= 0 or price % walk.tick != 0:
            raise TapeError(
                f"scripted price {price} for {symbol} at t_ms {t_ms} is not a positive "
                f"multiple of the tick {walk.tick}; round it to the tick"
            )
    ticks = {w.symbol: int(w.start / w.tick) for w in walks}
    times = set(range(start_ms, start_ms + duration_ms + 1, step_ms))
    times.update(t for (_, t) in scripted)
    points = []
    for t_ms in sorted(times):
        for walk in walks:
            pinned = scripted.get((walk.symbol, t_ms))
            on_grid = (t_ms - start_ms) % step_ms == 0
            if pinned is not None:
                ticks[walk.symbol] = int(pinned / walk.tick)
            elif t_ms != start_ms and on_grid:
                step = round(rng.gauss(0, walk.vol_ticks))
                ticks[walk.symbol] = max(1, ticks[walk.symbol] + step)
            elif not on_grid:
                continue  # another symbol's scripted instant
            mark_ticks = ticks[walk.symbol]
            spread = rng.randint(-walk.spread_ticks, walk.spread_ticks) if walk.spread_ticks else 0
            if pinned is not None:
                # Fix: the contract price too is pinned, as documented (it drifted by the
                # spread, so a CONTRACT_PRICE stop at the scripted price did not fire there).
                # The draw above still happens, so pinning does not shift the later points.
                spread = 0
            points.append(
                TapePoint(
                    t_ms,
                    walk.symbol,
                    mark_ticks * walk.tick,
                    max(1, mark_ticks + spread) * walk.tick,
                )
            )
    return points


def waypoint_tape(
    symbol: str,
    tick: Decimal,
    waypoints: Iterable[tuple[int, Decimal]],
    *,
    step_ms: int,
    spread_ticks: int = 0,
) -> list[TapePoint]:
    """A scripted path: straight lines between ``(t_ms, price)`` waypoints, one point every
    ``step_ms``, each rounded to the tick grid; every waypoint is hit exactly. The contract
    price sits ``spread_ticks`` below the mark (0: equal)."""
    marks = sorted(waypoints)
    if len(marks) < 2:
        raise TapeError(f"{symbol}: a scripted path needs at least two waypoints")
    points = []
    for (t0, p0), (t1, p1) in itertools.pairwise(marks):
        if t1 <= t0:
            raise TapeError(f"{symbol}: waypoint times must increase ({t0} then {t1})")
        times = list(range(t0, t1, step_ms))
        for t_ms in times:
            price = p0 + (p1 - p0) * (t_ms - t0) / (t1 - t0)
            ticks = (price / tick).to_integral_value()
            points.append(TapePoint(t_ms, symbol, ticks * tick, (ticks - spread_ticks) * tick))
    t_end, p_end = marks[-1]
    ticks = (p_end / tick).to_integral_value()
    points.append(TapePoint(t_end, symbol, ticks * tick, (ticks - spread_ticks) * tick))
    return points
