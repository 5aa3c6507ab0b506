"""The timeline plot of a run's report: one symbol's records drawn as an inline SVG.

Two panels share a time axis: the mark price (and the last price, dashed, where it differs)
with every open stop level thin and the most protective one bold, over the position held.
Above them, lanes for faults (labelled bars) and events (REST errors, bot notes); across both
panels, naked windows shaded red. Hovering any mark shows its details (SVG ``<title>``, no
script).

Invariant: the SVG text is a pure function of the records and the time range: no floats from
arithmetic history reach the text unformatted (every coordinate is printed with one decimal),
every collection is walked in a fixed order, and long price series are reduced to at most
:data:`MAX_POINTS` points by a deterministic min/max per bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Any

from sim.checkers.coverage import PROTECTIVE_TYPES, NakedWindow

MAX_POINTS = 2000  # per price series, after reduction
WIDTH = 1200
LEFT, RIGHT = 84, 18  # margins of the plot area
LANE_H = 18  # one fault lane
EVENTS_H = 40  # the events lane: errors above, notes below
AXIS_H = 46
GAP = 10
MAX_FAULT_LANES = 8
CHAR_W = 6.3  # estimated width of one character at 11px, for label placement
BOLD_W = 7.0  # the same, bold

COLORS = {
    "mark": "#1c4f9c",
    "last": "#6b86b3",
    "stop": "#7b2cbf",
    "naked": "#e03131",
    "fault": "#e8890c",
    "error": "#c92a2a",
    "note": "#5c677d",
    "long": "#2f9e44",
    "short": "#d9480f",
    "buy": "#2b8a3e",
    "sell": "#c92a2a",
    "grid": "#e6e9ef",
    "axis": "#495057",
    "marker": "#868e96",
}


# ---------------------------------------------------------------------------- the data
@dataclass(frozen=True, slots=True)
class Fault:
    id: int
    name: str
    start_ms: int
    end_ms: int | None  # None: never healed within the run
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Mark:
    """A point event on the time axis (an error, a note, a fill, a restart, a phase)."""

    t_ms: int
    label: str
    tip: str
    price: Decimal | None = None
    side: str = ""


@dataclass(slots=True)
class SymbolSeries:
    """What the plot of one symbol needs, extracted once from the records."""

    symbol: str
    prices: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)  # t, mark, last
    positions: list[tuple[int, Decimal]] = field(default_factory=list)  # changes only
    protective: list[tuple[int, Decimal | None]] = field(default_factory=list)  # changes only
    stop_segments: list[tuple[int, int, Decimal, str]] = field(default_factory=list)
    fills: list[Mark] = field(default_factory=list)
    notes: list[Mark] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Shared:
    """What every symbol's plot shows: the run's range, faults, errors, phases, restarts."""

    start_ms: int
    end_ms: int
    faults: tuple[Fault, ...]
    errors: tuple[Mark, ...]
    lines: tuple[Mark, ...]  # vertical markers: phase changes, crashes, restarts


def _closing_side(amount: Decimal) -> str:
    return "SELL" if amount > 0 else "BUY"


def _most_protective(symbol: str, amount: Decimal, algos: list[dict[str, Any]]) -> Decimal | None:
    """The stop that would close the position first: for a long the highest SELL stop, for a
    short the lowest BUY stop (the same stops ``coverage.protected`` counts)."""
    if amount == 0:
        return None
    levels = [
        Decimal(a["trigger"])
        for a in algos
        if a["symbol"] == symbol
        and a["side"] == _closing_side(amount)
        and a["type"] in PROTECTIVE_TYPES
        and a["status"] in ("NEW", "TRIGGERING")
        and (a["close_position"] or Decimal(a["qty"]) > 0)
        and a.get("trigger") not in (None, "None")
        and Decimal(a["trigger"]) > 0
    ]
    if not levels:
        return None
    return max(levels) if amount > 0 else min(levels)


def symbols_of(records: Iterable[dict[str, Any]]) -> list[str]:
    found: dict[str, None] = {}
    for r in records:
        kind = r["kind"]
        if kind in ("venue.price", "venue.fill"):
            found[r["symbol"]] = None
        elif kind == "venue.truth":
            for symbol in r["positions"]:
                found[symbol] = None
            for algo in r["open_algo_orders"]:
                found[algo["symbol"]] = None
    return sorted(found)


def series_for(records: Sequence[dict[str, Any]], symbol: str, end_ms: int) -> SymbolSeries:
    s = SymbolSeries(symbol)
    open_segments: dict[str, tuple[int, Decimal, str]] = {}  # algo id -> start, level, label
    for r in records:
        kind, t_ms = r["kind"], r["t_ms"]
        if kind == "venue.price" and r["symbol"] == symbol:
            s.prices.append((t_ms, Decimal(r["mark"]), Decimal(r["last"])))
        elif kind == "venue.truth":
            amount = Decimal(r["positions"].get(symbol, {}).get("amount", "0"))
            if not s.positions or s.positions[-1][1] != amount:
                s.positions.append((t_ms, amount))
            level = _most_protective(symbol, amount, r["open_algo_orders"])
            if not s.protective or s.protective[-1][1] != level:
                s.protective.append((t_ms, level))
            seen: dict[str, tuple[Decimal, str]] = {}
            for a in r["open_algo_orders"]:
                trigger = a.get("trigger")
                if a["symbol"] != symbol or trigger in (None, "None") or Decimal(trigger) <= 0:
                    continue
                label = f"{a['type']} {a['side']} @ {trigger} (algo {a['id']}, {a['client_id']})"
                seen[str(a["id"])] = (Decimal(trigger), label)
            for algo_id in sorted(open_segments):
                start, level_was, label = open_segments[algo_id]
                if algo_id not in seen or seen[algo_id][0] != level_was:
                    s.stop_segments.append((start, t_ms, level_was, label))
                    del open_segments[algo_id]
            for algo_id, (level_now, label) in seen.items():
                if algo_id not in open_segments:
                    open_segments[algo_id] = (t_ms, level_now, label)
        elif kind == "venue.fill" and r["symbol"] == symbol:
            tip = (
                f"fill {r['side']} {r['qty']} @ {r['price']} ({r['orig_type']}"
                f"{', reduce-only' if r.get('reduce_only') else ''}), {r.get('client_id', '')}"
            )
            s.fills.append(Mark(t_ms, r["side"], tip, Decimal(r["price"]), r["side"]))
        elif kind == "bot.command" and r.get("command") == "Note" and r.get("symbol") == symbol:
            tip = f"bot note {r.get('note', '')}: {r.get('detail', '')} (life {r.get('life', '')})"
            s.notes.append(Mark(t_ms, str(r.get("note", "")), tip))
    for algo_id in sorted(open_segments):
        start, level, label = open_segments[algo_id]
        s.stop_segments.append((start, end_ms, level, label))
    s.stop_segments.sort()
    return s


def params_of(record: dict[str, Any]) -> dict[str, Any]:
    """A fault record's parameters as an object (whatever the nemesis wrote)."""
    params = record.get("params")
    if isinstance(params, dict):
        return params
    return {} if params is None else {"params": params}


def shared_of(records: Sequence[dict[str, Any]], start_ms: int, end_ms: int) -> Shared:
    started: dict[int, dict[str, Any]] = {}
    faults: list[Fault] = []
    errors: list[Mark] = []
    lines: list[Mark] = []
    for r in records:
        kind, t_ms = r["kind"], r["t_ms"]
        if kind == "fault.start":
            started[r["id"]] = r
        elif kind == "fault.stop" and r["id"] in started:
            first = started.pop(r["id"])
            faults.append(Fault(r["id"], first["fault"], first["t_ms"], t_ms, params_of(first)))
        elif kind == "venue.rest" and (r.get("code", 0) != 0 or r.get("status", 200) >= 400):
            label = str(r["code"]) if r.get("code") else f"HTTP {r['status']}"
            via = f", by fault {r['fault']}" if r.get("fault") else ""
            tip = f"{r['route']}: HTTP {r['status']}, code {r['code']}{via}"
            errors.append(Mark(t_ms, label, tip))
        elif kind == "run.phase":
            lines.append(Mark(t_ms, str(r["phase"]), f"run phase: {r['phase']}"))
        elif kind in ("bot.killed", "bot.crash"):
            what = "restart" if kind == "bot.killed" else "crash"
            detail = r.get("error", "")
            lines.append(Mark(t_ms, what, f"bot {what} (life {r.get('life', '')}) {detail}"))
        elif kind == "run.error":
            lines.append(Mark(t_ms, "run error", f"run error: {r['error']} {r.get('detail', '')}"))
    for first in started.values():
        faults.append(Fault(first["id"], first["fault"], first["t_ms"], None, params_of(first)))
    faults.sort(key=lambda f: (f.start_ms, f.id))
    return Shared(start_ms, end_ms, tuple(faults), tuple(errors), tuple(lines))


# ---------------------------------------------------------------------------- formatting
def fmt_rel(t_ms: int, start_ms: int) -> str:
    """``+89.400 s``: milliseconds after the run's start, exact."""
    d = t_ms - start_ms
    sign = "-" if d < 0 else "+"
    return f"{sign}{abs(d) // 1000}.{abs(d) % 1000:03d} s"


def fmt_utc(t_ms: int, *, date: bool = False) -> str:
    moment = datetime.fromtimestamp(t_ms // 1000, UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return f"{text}.{t_ms % 1000:03d}"


def fmt_duration(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d} s"


def _n(value: float) -> str:
    """A coordinate: one decimal, no negative zero."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _text(x: float, y: float, body: str, *, cls: str = "", anchor: str = "start") -> str:
    cls_attr = f' class="{cls}"' if cls else ""
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{_n(x)}" y="{_n(y)}"{cls_attr}{anchor_attr}>{escape(body)}</text>'


def _title(tip: str) -> str:
    return f"<title>{escape(tip)}</title>"


# ---------------------------------------------------------------------------- scales
_TIME_STEPS_MS = (
    1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
    60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
    21_600_000, 43_200_000, 86_400_000,
)  # fmt: skip


def time_step_ms(span_ms: int, max_ticks: int = 10) -> int:
    for step in _TIME_STEPS_MS:
        if span_ms / step <= max_ticks:
            return step
    return _TIME_STEPS_MS[-1] * max(1, math.ceil(span_ms / _TIME_STEPS_MS[-1] / max_ticks))


def _seconds_label(rel_ms: int, step_ms: int) -> str:
    if step_ms % 1000 == 0:
        return f"+{rel_ms // 1000} s"
    decimals = 1 if step_ms % 100 == 0 else 2 if step_ms % 10 == 0 else 3
    whole, frac = divmod(rel_ms, 1000)
    return f"+{whole}.{f'{frac:03d}'[:decimals]} s"


def _utc_label(t_ms: int, step_ms: int) -> str:
    text = fmt_utc(t_ms)
    return text if step_ms % 1000 else text[:8]


def nice_ticks(lo: Decimal, hi: Decimal, count: int = 5) -> tuple[list[Decimal], int]:
    """Round values covering [lo, hi] and the decimals to print them with."""
    span = hi - lo
    if span <= 0:
        span = abs(hi) / 100 or Decimal(1)
    raw = span / count
    exponent = raw.adjusted()  # floor(log10(raw))
    base = Decimal(1).scaleb(exponent)
    for mult in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if base * mult >= raw:
            step = base * mult
            break
    decimals = max(0, -step.normalize().as_tuple().exponent)
    first = (lo / step).to_integral_value(rounding="ROUND_CEILING") * step
    ticks = []
    value = first
    while value <= hi:
        ticks.append(value)
        value += step
    return ticks, decimals


@dataclass(frozen=True, slots=True)
class Scale:
    lo: float
    hi: float
    top: float  # pixel of hi
    bottom: float  # pixel of lo

    def __call__(self, value: Decimal | float) -> float:
        span = self.hi - self.lo or 1.0
        return self.bottom - (float(value) - self.lo) / span * (self.bottom - self.top)


@dataclass(frozen=True, slots=True)
class TimeScale:
    t0: int
    t1: int
    left: float = LEFT
    right: float = WIDTH - RIGHT

    def __call__(self, t_ms: int) -> float:
        span = max(self.t1 - self.t0, 1)
        return self.left + (t_ms - self.t0) / span * (self.right - self.left)


# ---------------------------------------------------------------------------- series helpers
def visible_steps(points: Sequence[tuple[int, Any]], t0: int, t1: int) -> list[tuple[int, Any]]:
    """A step series cut to [t0, t1]: the value in force at t0, then the changes inside."""
    out: list[tuple[int, Any]] = []
    for t_ms, value in points:
        if t_ms <= t0:
            out = [(t0, value)]
        elif t_ms <= t1:
            out.append((t_ms, value))
        else:
            break
    return out


def reduce_minmax(points: list[tuple[int, Decimal]], t0: int, t1: int, limit: int = MAX_POINTS):
    """At most ``limit`` points: per time bucket its lowest and highest point, in time order
    (the first on ties), so spikes survive and the same input gives the same output."""
    if len(points) <= limit:
        return points
    buckets = limit // 2
    span = max(t1 - t0, 1)
    out: list[tuple[int, Decimal]] = []
    current = -1
    group: list[tuple[int, Decimal]] = []

    def flush() -> None:
        if not group:
            return
        low = min(group, key=lambda p: p[1])
        high = max(group, key=lambda p: p[1])
        out.extend(sorted({low, high}))

    for point in points:
        bucket = min((point[0] - t0) * buckets // span, buckets - 1)
        if bucket != current:
            flush()
            group = []
            current = bucket
        group.append(point)
    flush()
    return out


def _step_path(points: Sequence[tuple[int, Decimal]], end_ms: int, tx: TimeScale, sy: Scale):
    """Polyline points of a step series held until ``end_ms``."""
    coords: list[str] = []
    for i, (t_ms, value) in enumerate(points):
        y = _n(sy(value))
        coords.append(f"{_n(tx(t_ms))},{y}")
        t_next = points[i + 1][0] if i + 1 < len(points) else end_ms
        coords.append(f"{_n(tx(t_next))},{y}")
    return " ".join(coords)


def _pack_lanes(items: list[tuple[float, float]], max_lanes: int) -> list[int]:
    """First-fit lanes for [x0, x1] intervals given in order; overflow goes to the last."""
    lane_ends: list[float] = []
    lanes: list[int] = []
    for x0, x1 in items:
        for i, end in enumerate(lane_ends):
            if x0 >= end:
                lane_ends[i] = x1
                lanes.append(i)
                break
        else:
            if len(lane_ends) < max_lanes:
                lane_ends.append(x1)
                lanes.append(len(lane_ends) - 1)
            else:
                lane_ends[-1] = max(lane_ends[-1], x1)
                lanes.append(max_lanes - 1)
    return lanes


# ---------------------------------------------------------------------------- the plot
@dataclass(frozen=True, slots=True)
class PlotSpec:
    uid: str  # unique within the page (clip path ids)
    t0: int
    t1: int
    price_h: int = 300
    position_h: int = 90
    title: str = ""


def render_timeline(
    series: SymbolSeries, shared: Shared, naked: Sequence[NakedWindow], spec: PlotSpec
) -> str:
    t0, t1 = spec.t0, spec.t1
    tx = TimeScale(t0, t1)
    end_ms = min(t1, shared.end_ms)
    faults = [f for f in shared.faults if _fault_applies(f, series.symbol)]
    faults = [f for f in faults if f.start_ms <= t1 and (f.end_ms or shared.end_ms) >= t0]
    fault_items, lanes_used = _fault_layout(faults, tx, shared.end_ms)
    y = 8.0
    fault_top = y
    y += lanes_used * LANE_H + (4 if lanes_used else 0)
    events_top = y
    y += EVENTS_H
    price_top = y
    price_bottom = price_top + spec.price_h
    pos_top = price_bottom + GAP
    pos_bottom = pos_top + spec.position_h
    height = pos_bottom + AXIS_H

    marks = visible_steps([(t, m) for t, m, _ in series.prices], t0, t1)
    lasts = visible_steps([(t, last) for t, _, last in series.prices], t0, t1)
    show_last = any(a[1] != b[1] for a, b in zip(marks, lasts, strict=True))
    marks = reduce_minmax(marks, t0, t1)
    lasts = reduce_minmax(lasts, t0, t1) if show_last else []
    protective = visible_steps(series.protective, t0, t1)
    segments = [sg for sg in series.stop_segments if sg[0] <= t1 and sg[1] >= t0]
    positions = visible_steps(series.positions, t0, t1)

    values = [v for _, v in marks] + [v for _, v in lasts] + [sg[2] for sg in segments]
    values += [v for _, v in protective if v is not None]
    values += [f.price for f in series.fills if f.price is not None and t0 <= f.t_ms <= t1]
    sy = _price_scale(values, price_top, price_bottom)
    amounts = [a for _, a in positions] + [Decimal(0)]
    sp = _position_scale(amounts, pos_top, pos_bottom)

    clip = f"clip-{spec.uid}"
    out = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" '
        f'height="{_n(height)}" role="img" aria-label="{escape(series.symbol)} timeline">',
        f'<defs><clipPath id="{clip}"><rect x="{LEFT}" y="{_n(price_top)}" '
        f'width="{WIDTH - LEFT - RIGHT}" height="{_n(pos_bottom - price_top)}"/></clipPath>'
        "</defs>",
    ]
    out += _frames(price_top, price_bottom, pos_top, pos_bottom)
    out += _time_axis(tx, pos_bottom, price_top, shared.start_ms)
    out += _price_axis(sy, values)
    out += _position_axis(sp, amounts)
    out.append(f'<g clip-path="url(#{clip})">')
    out += _fault_bands(fault_items, price_top, pos_bottom)
    out += _naked_bands(naked, tx, t0, t1, price_top, pos_bottom, shared.start_ms)
    out += _position_area(positions, end_ms, tx, sp)
    out += _stop_lines(segments, protective, end_ms, tx, sy, t0, t1)
    if lasts:
        out.append(
            f'<polyline class="price-last" points="{_step_path(lasts, end_ms, tx, sy)}" '
            f'fill="none" stroke="{COLORS["last"]}" stroke-width="1.2" stroke-dasharray="5 3"/>'
        )
    if marks:
        out.append(
            f'<polyline class="price-mark" points="{_step_path(marks, end_ms, tx, sy)}" '
            f'fill="none" stroke="{COLORS["mark"]}" stroke-width="1.6"/>'
        )
    out += _fills(series.fills, tx, sy, t0, t1)
    out += _vertical_lines(shared.lines, tx, t0, t1, price_top, pos_bottom)
    out.append("</g>")
    out += _naked_labels(naked, tx, t0, t1, price_top, shared.start_ms)
    out += _fault_bars(fault_items, fault_top, shared.start_ms)
    out += _events_lane(shared.errors, series.notes, tx, t0, t1, events_top, shared.start_ms)
    out += _lane_labels(lanes_used, fault_top, events_top)
    out += _panel_titles(price_top, price_bottom, pos_top, pos_bottom)
    if not marks:
        out.append(
            _text(
                (LEFT + WIDTH - RIGHT) / 2,
                (price_top + price_bottom) / 2,
                "no price records for this symbol in this range",
                cls="empty",
                anchor="middle",
            )
        )
    out.append("</svg>")
    return "\n".join(out)


def _fault_applies(fault: Fault, symbol: str) -> bool:
    return fault.params.get("symbol") in (None, "", symbol)


def _fault_layout(faults: list[Fault], tx: TimeScale, run_end_ms: int):
    items = []
    spans = []
    for f in faults:
        x0 = max(tx(f.start_ms), tx.left)
        x1 = min(tx(f.end_ms if f.end_ms is not None else run_end_ms), tx.right)
        x1 = max(x1, x0 + 3)
        label = f.name
        label_w = len(label) * CHAR_W + 8
        inside = x1 - x0 >= label_w
        label_end = x1 if inside else min(x1 + label_w, tx.right + RIGHT)
        items.append((f, x0, x1, inside))
        spans.append((x0, label_end + 4))
    lanes = _pack_lanes(spans, MAX_FAULT_LANES)
    placed = [
        (f, x0, x1, inside, lane) for (f, x0, x1, inside), lane in zip(items, lanes, strict=True)
    ]
    return placed, (max(lanes) + 1 if lanes else 0)


def _fault_tip(f: Fault, start_ms: int) -> str:
    until = fmt_rel(f.end_ms, start_ms) if f.end_ms is not None else "the end (never healed)"
    params = ", ".join(f"{k}={v}" for k, v in sorted(f.params.items()))
    return f"fault #{f.id} {f.name} from {fmt_rel(f.start_ms, start_ms)} to {until}" + (
        f" ({params})" if params else ""
    )


def _fault_bars(items, top: float, start_ms: int) -> list[str]:
    out = []
    for f, x0, x1, inside, lane in items:
        y = top + lane * LANE_H
        tip = _title(_fault_tip(f, start_ms))
        out.append(
            f'<g class="fault">{tip}<rect x="{_n(x0)}" y="{_n(y)}" width="{_n(x1 - x0)}" '
            f'height="{LANE_H - 4}" rx="3" fill="{COLORS["fault"]}" fill-opacity="0.85"/>'
        )
        if inside:
            out.append(_text(x0 + 4, y + LANE_H - 8, f.name, cls="fault-label in"))
        else:
            out.append(_text(x1 + 4, y + LANE_H - 8, f.name, cls="fault-label"))
        out.append("</g>")
    return out


def _fault_bands(items, top: float, bottom: float) -> list[str]:
    return [
        f'<rect class="fault-band" x="{_n(x0)}" y="{_n(top)}" width="{_n(x1 - x0)}" '
        f'height="{_n(bottom - top)}" fill="{COLORS["fault"]}" fill-opacity="0.08"/>'
        for _f, x0, x1, _inside, _lane in items
    ]


def _price_scale(values: list[Decimal], top: float, bottom: float) -> Scale:
    if not values:
        return Scale(0.0, 1.0, top, bottom)
    lo, hi = float(min(values)), float(max(values))
    pad = (hi - lo) * 0.06 or abs(hi) * 0.01 or 1.0
    return Scale(lo - pad, hi + pad, top + 4, bottom - 4)


def _position_scale(amounts: list[Decimal], top: float, bottom: float) -> Scale:
    lo, hi = float(min(amounts)), float(max(amounts))
    if lo == hi:
        hi = lo + 1.0
    pad = (hi - lo) * 0.08
    return Scale(lo - (pad if lo < 0 else 0.0), hi + (pad if hi > 0 else 0.0), top + 2, bottom)


def _frames(price_top, price_bottom, pos_top, pos_bottom) -> list[str]:
    w = WIDTH - LEFT - RIGHT
    return [
        f'<rect class="panel" x="{LEFT}" y="{_n(price_top)}" width="{w}" '
        f'height="{_n(price_bottom - price_top)}" fill="#fff" stroke="#ced4da"/>',
        f'<rect class="panel" x="{LEFT}" y="{_n(pos_top)}" width="{w}" '
        f'height="{_n(pos_bottom - pos_top)}" fill="#fff" stroke="#ced4da"/>',
    ]


def _time_axis(tx: TimeScale, axis_y: float, grid_top: float, start_ms: int) -> list[str]:
    step = time_step_ms(tx.t1 - tx.t0)
    first = start_ms + math.ceil((tx.t0 - start_ms) / step) * step
    out = []
    t_ms = first
    while t_ms <= tx.t1:
        x = _n(tx(t_ms))
        out.append(
            f'<line x1="{x}" y1="{_n(grid_top)}" x2="{x}" y2="{_n(axis_y)}" '
            f'stroke="{COLORS["grid"]}"/>'
            f'<line x1="{x}" y1="{_n(axis_y)}" x2="{x}" y2="{_n(axis_y + 5)}" '
            f'stroke="{COLORS["axis"]}"/>'
        )
        for dy, label, cls in (
            (18, _seconds_label(t_ms - start_ms, step), "tick"),
            (33, _utc_label(t_ms, step), "tick utc"),
        ):
            half = len(label) * CHAR_W / 2
            x_label = min(max(tx(t_ms), 34 + half), WIDTH - 2 - half)  # never cut at an edge
            out.append(_text(x_label, axis_y + dy, label, cls=cls, anchor="middle"))
        t_ms += step
    out.append(_text(4, axis_y + 18, "run time", cls="axis-name"))
    out.append(_text(4, axis_y + 33, "UTC", cls="axis-name"))
    return out


def _price_axis(sy: Scale, values: list[Decimal]) -> list[str]:
    if not values:
        return []
    ticks, decimals = nice_ticks(Decimal(repr(sy.lo)), Decimal(repr(sy.hi)))
    out = []
    for tick in ticks:
        y = _n(sy(tick))
        out.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{COLORS["grid"]}"/>'
        )
        out.append(_text(LEFT - 6, sy(tick) + 4, f"{tick:.{decimals}f}", cls="tick", anchor="end"))
    return out


def _position_axis(sp: Scale, amounts: list[Decimal]) -> list[str]:
    out = []
    for value in sorted({min(amounts), Decimal(0), max(amounts)}):
        y = sp(value)
        out.append(
            f'<line x1="{LEFT}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}" '
            f'stroke="{"#adb5bd" if value == 0 else COLORS["grid"]}"/>'
        )
        out.append(_text(LEFT - 6, y + 4, f"{value.normalize():f}", cls="tick", anchor="end"))
    return out


def _naked_in_range(naked, t0, t1):
    return [w for w in naked if w.start_ms <= t1 and w.end_ms >= t0]


def _naked_tip(w: NakedWindow, start_ms: int) -> str:
    entry = " (entry window)" if w.first else ""
    return (
        f"NAKED {w.symbol}: position {w.amount} without a working stop for "
        f"{fmt_duration(w.duration_ms)}, {fmt_rel(w.start_ms, start_ms)} → "
        f"{fmt_rel(w.end_ms, start_ms)}{entry}"
    )


def _naked_bands(naked, tx, t0, t1, top, bottom, start_ms) -> list[str]:
    out = []
    for w in _naked_in_range(naked, t0, t1):
        x0, x1 = tx(max(w.start_ms, t0)), tx(min(w.end_ms, t1))
        if x1 - x0 < 3:  # a sub-pixel window must still be seen
            mid = (x0 + x1) / 2
            x0, x1 = mid - 1.5, mid + 1.5
        out.append(
            f'<rect class="naked" x="{_n(x0)}" y="{_n(top)}" width="{_n(x1 - x0)}" '
            f'height="{_n(bottom - top)}" fill="{COLORS["naked"]}" fill-opacity="0.22">'
            f"{_title(_naked_tip(w, start_ms))}</rect>"
        )
    return out


def _naked_labels(naked, tx, t0, t1, top, start_ms) -> list[str]:
    out = []
    last_end = -1e9
    for w in _naked_in_range(naked, t0, t1):
        x = tx(max(w.start_ms, t0))
        label = f"naked {fmt_duration(w.duration_ms)}"
        x_text = min(x + 3, WIDTH - RIGHT - len(label) * CHAR_W - 4)
        out.append(
            f'<rect class="naked-tick" x="{_n(x - 1)}" y="{_n(top - 5)}" width="3" height="5" '
            f'fill="{COLORS["naked"]}"/>'
        )
        if x_text >= last_end:
            out.append(
                f'<g class="naked-label">{_title(_naked_tip(w, start_ms))}'
                f"{_text(x_text, top + 13, label, cls='naked-text')}</g>"
            )
            last_end = x_text + len(label) * CHAR_W + 8
    return out


def _position_area(positions, end_ms, tx: TimeScale, sp: Scale) -> list[str]:
    out = []
    zero = sp(Decimal(0))
    for i, (t_ms, amount) in enumerate(positions):
        if amount == 0:
            continue
        t_next = positions[i + 1][0] if i + 1 < len(positions) else end_ms
        x0, x1 = tx(t_ms), tx(t_next)
        y = sp(amount)
        color = COLORS["long"] if amount > 0 else COLORS["short"]
        tip = f"position {amount:f} from {t_ms} ms for {fmt_duration(t_next - t_ms)}"
        out.append(
            f'<rect class="position" x="{_n(x0)}" y="{_n(min(y, zero))}" '
            f'width="{_n(max(x1 - x0, 0.5))}" height="{_n(abs(zero - y))}" fill="{color}" '
            f'fill-opacity="0.35" stroke="{color}" stroke-width="1">{_title(tip)}</rect>'
        )
    return out


def _stop_lines(segments, protective, end_ms, tx, sy, t0, t1) -> list[str]:
    out = []
    color = COLORS["stop"]
    if len(segments) <= 400:
        for start, stop, level, label in segments:
            y = _n(sy(level))
            out.append(
                f'<line class="stop-level" x1="{_n(tx(max(start, t0)))}" y1="{y}" '
                f'x2="{_n(tx(min(stop, t1)))}" y2="{y}" stroke="{color}" stroke-width="1" '
                f'stroke-opacity="0.45">{_title(label)}</line>'
            )
    else:  # one path for thousands of levels: no tooltips, but the same picture
        d = " ".join(
            f"M{_n(tx(max(a, t0)))} {_n(sy(level))}H{_n(tx(min(b, t1)))}"
            for a, b, level, _ in segments
        )
        out.append(
            f'<path class="stop-level" d="{d}" stroke="{color}" stroke-width="1" '
            f'stroke-opacity="0.45" fill="none"/>'
        )
    run: list[tuple[int, Decimal]] = []
    runs: list[tuple[list[tuple[int, Decimal]], int]] = []
    for i, (t_ms, level) in enumerate(protective):
        t_next = protective[i + 1][0] if i + 1 < len(protective) else end_ms
        if level is None:
            if run:
                runs.append((run, t_ms))
                run = []
            continue
        run.append((t_ms, level))
        if i + 1 == len(protective):
            runs.append((run, t_next))
    for points, until in runs:
        out.append(
            f'<polyline class="stop-protective" points="{_step_path(points, until, tx, sy)}" '
            f'fill="none" stroke="{color}" stroke-width="2.6" stroke-linejoin="round"/>'
        )
    return out


def _fills(fills: list[Mark], tx, sy, t0, t1) -> list[str]:
    out = []
    for f in fills:
        if not t0 <= f.t_ms <= t1 or f.price is None:
            continue
        x, y = tx(f.t_ms), sy(f.price)
        if f.side == "BUY":
            shape = f"M{_n(x)} {_n(y - 7)}L{_n(x + 6)} {_n(y + 4)}L{_n(x - 6)} {_n(y + 4)}Z"
            color = COLORS["buy"]
        else:
            shape = f"M{_n(x)} {_n(y + 7)}L{_n(x + 6)} {_n(y - 4)}L{_n(x - 6)} {_n(y - 4)}Z"
            color = COLORS["sell"]
        out.append(
            f'<path class="fill" d="{shape}" fill="{color}" stroke="#fff" stroke-width="1">'
            f"{_title(f.tip)}</path>"
        )
    return out


def _vertical_lines(lines, tx, t0, t1, top, bottom) -> list[str]:
    out = []
    last_end = -1e9
    for m in lines:
        if not t0 <= m.t_ms <= t1:
            continue
        x = tx(m.t_ms)
        out.append(
            f'<g class="vline">{_title(m.tip)}<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" '
            f'y2="{_n(bottom)}" stroke="{COLORS["marker"]}" stroke-dasharray="2 3"/>'
        )
        if x + 3 >= last_end:
            out.append(_text(x + 3, bottom - 5, m.label, cls="vline-label"))
            last_end = x + 3 + len(m.label) * CHAR_W + 6
        out.append("</g>")
    return out


def _clustered(marks: Iterable[Mark], tx: TimeScale, t0: int, t1: int, px: float = 6.0):
    """Marks that fall within ``px`` of each other with the same label become one."""
    groups: dict[tuple[int, str], list[Mark]] = {}
    for m in marks:
        if t0 <= m.t_ms <= t1:
            groups.setdefault((int((tx(m.t_ms) - tx.left) // px), m.label), []).append(m)
    return [groups[key] for key in sorted(groups, key=lambda k: (groups[k][0].t_ms, k[1]))]


def _group_tip(group: list[Mark], start_ms: int, limit: int = 12) -> str:
    lines = [f"{fmt_rel(m.t_ms, start_ms)} {m.tip}" for m in group[:limit]]
    if len(group) > limit:
        lines.append(f"… and {len(group) - limit} more")
    return "\n".join(lines)


def _events_lane(errors, notes, tx, t0, t1, top, start_ms) -> list[str]:
    out = [
        f'<line x1="{LEFT}" y1="{_n(top + EVENTS_H - 3)}" x2="{WIDTH - RIGHT}" '
        f'y2="{_n(top + EVENTS_H - 3)}" stroke="{COLORS["grid"]}"/>'
    ]

    def diamond(x: float, y: float, n: int) -> str:
        return (
            f'<path d="M{_n(x)} {_n(y - 5)}L{_n(x + 5)} {_n(y)}L{_n(x)} {_n(y + 5)}'
            f'L{_n(x - 5)} {_n(y)}Z" fill="{COLORS["error"]}"/>'
        )

    def dot(x: float, y: float, n: int) -> str:
        return (
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{4 if n == 1 else 5}" '
            f'fill="{COLORS["note"]}" fill-opacity="0.8"/>'
        )

    out += _marker_row(_clustered(errors, tx, t0, t1), tx, top + 9, diamond, "error", start_ms)
    out += _marker_row(_clustered(notes, tx, t0, t1), tx, top + 27, dot, "note", start_ms)
    return out


def _marker_row(groups, tx: TimeScale, y: float, shape, cls: str, start_ms: int) -> list[str]:
    """Markers with hover details; then a label beside each marker that has room for one
    (up to the next marker), so dense stretches stay readable and are read by hovering."""
    xs = [tx(group[0].t_ms) for group in groups]
    out = [
        f'<g class="{cls}">{_title(_group_tip(group, start_ms))}{shape(x, y, len(group))}</g>'
        for group, x in zip(groups, xs, strict=True)
    ]
    label_end = -1e9
    for i, (group, x) in enumerate(zip(groups, xs, strict=True)):
        label = group[0].label + (f" ×{len(group)}" if len(group) > 1 else "")
        end = x + 7 + len(label) * BOLD_W
        room = xs[i + 1] - 8 if i + 1 < len(xs) else WIDTH
        if x + 7 >= label_end and end <= room:
            out.append(
                f'<g class="{cls}-tag">{_title(_group_tip(group, start_ms))}'
                f"{_text(x + 7, y + 4, label, cls=f'{cls}-label')}</g>"
            )
            label_end = end + 6
    return out


def _lane_labels(lanes_used, fault_top, events_top) -> list[str]:
    out = []
    if lanes_used:
        out.append(_text(LEFT - 8, fault_top + 11, "faults", cls="lane-name", anchor="end"))
    out.append(_text(LEFT - 8, events_top + 13, "errors", cls="lane-name", anchor="end"))
    out.append(_text(LEFT - 8, events_top + 31, "bot notes", cls="lane-name", anchor="end"))
    return out


def _panel_titles(price_top, price_bottom, pos_top, pos_bottom) -> list[str]:
    """Vertical titles at the far left, clear of the tick labels."""
    return [
        f'<text class="panel-name" transform="translate(14 {_n((top + bottom) / 2)}) '
        f'rotate(-90)" text-anchor="middle">{name}</text>'
        for name, top, bottom in (
            ("price", price_top, price_bottom),
            ("position", pos_top, pos_bottom),
        )
    ]
