"""Trailing-stop arithmetic: worked examples from the SOONUSDT incident, and properties over
random mark paths (on and off the tick grid), both sides, parameters within config ranges.

Properties of ``trailing.on_mark``: the stop only ratchets, stays on the tick grid, moves only
by at least ``min_move_ticks`` and ``min_move_interval_ms`` apart, and activation happens
exactly at the first mark past ``entry × (1 ± activation %)``. Through the Protector: every
stop the guard places sits strictly on the protective side of the mark it knew.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import messages as m
from bot.core.guard import GuardConfig
from bot.core.protector import Protector
from bot.core.trailing import (
    TrailParams,
    activation_price,
    beyond,
    initial_trail,
    on_mark,
    to_tick,
)
from tests.bot.guard_states import PARAMS

D = Decimal
SYMBOL = "SOONUSDT"

# ------------------------------------------------------------------ the incident, worked


def test_the_incident_initial_stop_is_6_percent_below_entry_rounded_down():
    assert initial_trail("long", D("2.0333"), PARAMS, 0).stop == D("1.9113")  # 1.911302


def test_the_incident_activation_price():
    assert activation_price("long", D("2.0333"), PARAMS) == D("2.0637995")
    # The trailing-stop manager logged entry 2.03332500 → activation 2.06382487(5).
    assert activation_price("long", D("2.033325"), PARAMS) == D("2.063824875")


def test_the_incident_marks_activate_at_2_068_and_move_the_stop_to_2_0473():
    trail = initial_trail("long", D("2.0333"), PARAMS, 0)
    trail = on_mark(trail, D("2.06130000"), 79_000, PARAMS)  # below activation
    assert not trail.activated and trail.stop == D("1.9113")
    trail = on_mark(trail, D("2.06801642"), 89_000, PARAMS)
    assert trail.activated and trail.best == D("2.06801642")
    assert trail.stop == D("2.0473")  # 2.06801642 × 0.99 = 2.0473362558, rounded down
    assert not trail.crossed
    # The price then falls through the level within two seconds: crossed, stop unchanged.
    trail = on_mark(trail, D("2.0470"), 91_000, PARAMS)
    assert trail.crossed and trail.stop == D("2.0473")


def test_activation_is_exact_at_the_threshold():
    trail = initial_trail("long", D("2.0333"), PARAMS, 0)
    assert not on_mark(trail, D("2.0637994"), 1, PARAMS).activated
    assert on_mark(trail, D("2.0637995"), 1, PARAMS).activated
    short = initial_trail("short", D("2.0333"), PARAMS, 0)
    assert short.stop == D("2.1553")
    assert not on_mark(short, D("2.0028006"), 1, PARAMS).activated  # 2.0333 × 0.985
    assert on_mark(short, D("2.0028005"), 1, PARAMS).activated


def test_rounding_is_away_from_the_market():
    tick = D("0.0001")
    assert to_tick(D("1.91139"), tick, "long") == D("1.9113")
    assert to_tick(D("2.15521"), tick, "short") == D("2.1553")
    assert to_tick(D("2.1553"), tick, "short") == D("2.1553")


# ------------------------------------------------------------------ strategies

TICKS = [D("0.00001"), D("0.0001"), D("0.001"), D("0.01"), D("0.1"), D("0.5")]


def pct(low: str, high: str, places: int = 2):
    scale = 10**places
    return st.integers(int(D(low) * scale), int(D(high) * scale)).map(lambda n: D(n) / scale)


@st.composite
def params(draw) -> TrailParams:
    """Within the config's ranges (0 < pct < 100; callback 0.1–20, Binance's range)."""
    return TrailParams(
        initial_stop_pct=draw(pct("0.1", "50")),
        activation_pct=draw(pct("0.01", "20")),
        callback_pct=draw(pct("0.1", "20", 1)),
        tick=draw(st.sampled_from(TICKS)),
        min_move_ticks=draw(st.integers(1, 5)),
        min_move_interval_ms=draw(st.sampled_from([0, 0, 250, 1000, 3000])),
    )


@st.composite
def scenarios(draw):
    """(side, params, entry, [(t_ms, mark)]): a random walk of marks from the entry, each
    either on the tick grid or carrying extra digits (the mark price stream is not on it)."""
    side = draw(st.sampled_from(["long", "short"]))
    p = draw(params())
    entry = draw(st.integers(200, 200_000)) * p.tick
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(1, 3000),  # ms to the next mark
                st.integers(-250, 250),  # move in basis points
                st.booleans(),  # on the grid
                st.integers(0, 9999),  # extra digits when off the grid
            ),
            min_size=1,
            max_size=60,
        )
    )
    marks, price, t_ms = [], entry, 1_000_000
    for dt, bp, on_grid, extra in steps:
        t_ms += dt
        price = max(price * (1 + D(bp) / 10_000), p.tick * 10)
        shown = to_tick(price, p.tick, "long")
        if not on_grid:
            shown += p.tick * D(extra) / 10_000
        marks.append((t_ms, shown))
    return side, p, entry, marks


def trails(side, p, entry, marks):
    """The trail before and after each mark."""
    trail = initial_trail(side, entry, p, 1_000_000)
    for t_ms, price in marks:
        after = on_mark(trail, price, t_ms, p)
        yield trail, after, t_ms, price
        trail = after


FAST = settings(max_examples=200, deadline=None)

# ------------------------------------------------------------------ properties of on_mark


@FAST
@given(scenarios())
def test_the_stop_only_ratchets(scenario):
    side = scenario[0]
    for before, after, _, _ in trails(*scenario):
        if side == "long":
            assert after.stop >= before.stop
        else:
            assert after.stop <= before.stop


@FAST
@given(scenarios())
def test_the_stop_is_always_on_the_tick_grid(scenario):
    tick = scenario[1].tick
    assert initial_trail(scenario[0], scenario[2], scenario[1], 0).stop % tick == 0
    for _, after, _, _ in trails(*scenario):
        assert after.stop % tick == 0


@FAST
@given(scenarios())
def test_moves_respect_min_move_ticks_and_min_move_interval(scenario):
    side, p = scenario[0], scenario[1]
    for before, after, t_ms, price in trails(*scenario):
        if after.stop != before.stop:
            assert abs(after.stop - before.stop) >= p.min_move_ticks * p.tick
            assert t_ms - before.last_move_ms >= p.min_move_interval_ms
            assert after.last_move_ms == t_ms
        else:
            assert after.last_move_ms == before.last_move_ms
        assert after.crossed == beyond(side, after.stop, price)


@FAST
@given(scenarios())
def test_activation_happens_exactly_at_the_first_mark_past_the_threshold(scenario):
    side, p, entry, marks = scenario
    factor = p.activation_pct / 100
    threshold = entry * (1 + factor) if side == "long" else entry * (1 - factor)
    past = [(price >= threshold) if side == "long" else (price <= threshold) for _, price in marks]
    first = past.index(True) if True in past else len(marks)
    for i, (_, after, _, price) in enumerate(trails(*scenario)):
        assert after.activated == (i >= first)
        if i == first:
            assert after.best == price


@FAST
@given(scenarios())
def test_once_activated_the_stop_trails_the_best_mark_by_the_callback_at_most(scenario):
    """A stop that has moved never sits closer to the best mark than the callback allows
    (the initial stop may: with initial_stop_pct < callback_pct the ratchet keeps it)."""
    side, p, entry = scenario[0], scenario[1], scenario[2]
    rate = p.callback_pct / 100
    initial = initial_trail(side, entry, p, 0).stop
    for _, after, _, _ in trails(*scenario):
        if after.activated and after.stop != initial:
            limit = after.best * (1 - rate) if side == "long" else after.best * (1 + rate)
            assert (after.stop <= limit) if side == "long" else (after.stop >= limit)


# ------------------------------------------------------------------ through the guard


def drive(side, p, entry, marks, policy, mark_first=False):
    """Entry fill, then the marks (with ``mark_first``, the first mark before the fill);
    every placement is accepted and every cancel confirmed at once. Returns each PlaceStop
    with the last mark the guard had been told before it."""
    config = GuardConfig("fs", p, policy, triggering_timeout_ms=5000, confirm_timeout_ms=10000)
    protector = Protector({SYMBOL: config}, rest_lag_bound_ms=10_000)
    placed: list[tuple[m.PlaceStop, Decimal | None]] = []
    last_mark: Decimal | None = None
    closed = False

    def respond(commands, t_ms):
        nonlocal closed
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            if isinstance(command, m.PlaceStop):
                placed.append((command, last_mark))
                queue += protector.handle(m.OrderAccepted(SYMBOL, command.client_id, t_ms))
            elif isinstance(command, m.CancelStop):
                queue += protector.handle(m.StopCancelled(SYMBOL, command.client_id, t_ms))
            elif isinstance(command, m.ClosePosition):
                closed = True

    quantity = D(3)
    t0 = marks[0][0] - 1
    respond(protector.handle(m.EntryRequested(SYMBOL, side, quantity, t0 - 200)), t0)
    if mark_first:
        last_mark = marks[0][1]
        respond(protector.handle(m.MarkPriced(SYMBOL, last_mark, t0 - 100)), t0 - 100)
    delta = quantity if side == "long" else -quantity
    respond(protector.handle(m.FillReported(SYMBOL, delta, entry, t0, t0)), t0)
    for t_ms, price in marks:
        if closed:
            break
        last_mark = price
        respond(protector.handle(m.MarkPriced(SYMBOL, price, t_ms)), t_ms)
    return placed


@FAST
@given(scenarios(), st.sampled_from(["close", "reprice"]), st.booleans())
def test_every_stop_the_guard_places_is_on_the_protective_side_of_the_known_mark(
    scenario, policy, mark_first
):
    side, p = scenario[0], scenario[1]
    for command, known in drive(*scenario, policy, mark_first):
        assert command.trigger % p.tick == 0
        assert command.side == ("sell" if side == "long" else "buy")
        if known is not None:
            if side == "long":
                assert command.trigger < known, (command, known)
            else:
                assert command.trigger > known, (command, known)


@FAST
@given(scenarios(), st.sampled_from(["close", "reprice"]), st.booleans())
def test_the_stops_the_guard_places_only_ratchet(scenario, policy, mark_first):
    side = scenario[0]
    levels = [command.trigger for command, _ in drive(*scenario, policy, mark_first)]
    assert levels == (sorted(levels) if side == "long" else sorted(levels, reverse=True))


def test_the_guard_places_the_incident_stops():
    marks = [(1_079_000, D("2.0613")), (1_089_000, D("2.06801642"))]
    params = dataclasses.replace(PARAMS, min_move_interval_ms=1000)
    placed = drive("long", params, D("2.0333"), marks, "close")
    assert [(c.trigger, known) for c, known in placed] == [
        (D("1.9113"), None),
        (D("2.0473"), D("2.06801642")),
    ]
