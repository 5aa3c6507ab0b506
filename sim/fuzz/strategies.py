"""Hypothesis strategies for futsim worlds: a public module to compose in your own tests.

::

    from hypothesis import given
    from sim.fuzz import strategies as fs

    @given(fs.programs(symbols=("SOONUSDT",), safety_ms=60_000))
    def test_my_bot(program):
        report = run_program(program, variant="my-variant")
        assert report.all_passed

Everything drawn here is structured data that Hypothesis shrinks directly, while the
simulator stays deterministic (``../shared/reference/anchors.md``: Hypothesis, TigerBeetle):

* :func:`price_paths`: a symbol's mark on its tick grid: drift, volatility, jumps, feed gaps
  and scripted points, from a drawn seed (a shrunk path is a calmer path);
* :func:`fault_schedules`: timed faults with parameters, with **swarm selection** (the set of
  enabled kinds is drawn first, per run, so some runs hammer one fault and others mix them);
* :func:`entry_schedules`: entries at valid quantities (step size, minimum notional);
* :func:`bot_configs`: the bot's ``[protection]`` and ``[reconcile]`` settings within their
  valid ranges;
* :func:`programs`: all of it, as a :class:`~sim.fuzz.program.Program`.

Fault parameters stay inside the envelope a correct bot is designed for (REST slower than
the bot's request timeout would fail every bot, and is a scenario of its own:
``long-rest-latency`` in the closing notes); the envelope is stated by
:meth:`Program.checkers`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

from hypothesis import strategies as st

from sim.fuzz.program import STEP_MS, Gap, Jump, PricePath, Program
from sim.scenario.load import EXCHANGE_INFO
from sim.scenario.model import FAULT_KINDS, EntrySpec, Fault

# Typical prices, so a path is on a realistic part of each symbol's tick grid.
START_PRICES = {
    "SOONUSDT": Decimal("2.0333"),
    "XRPUSDT": Decimal("0.6000"),
    "SOLUSDT": Decimal("150.000"),
    "ETHUSDT": Decimal("3000.00"),
    "BTCUSDT": Decimal("60000.0"),
}
ROUTES = (
    "",
    "POST /fapi/v1/algoOrder",
    "DELETE /fapi/v1/algoOrder",
    "POST /fapi/v1/order",
    "GET /fapi/v3/positionRisk",
)
EVENTS = ("ALGO_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE")
INSTANT_KINDS = ("bot_crashed", "listen_key_expired", "stream_disconnected")


@functools.cache
def symbol_filters(symbol: str) -> tuple[Decimal, Decimal, Decimal]:
    """``(tick size, step size, minimum notional)`` from the exchangeInfo fixture."""
    info = json.loads(EXCHANGE_INFO.read_text())
    for s in info["symbols"]:
        if s["symbol"] == symbol:
            f = {x["filterType"]: x for x in s["filters"]}
            return (
                Decimal(f["PRICE_FILTER"]["tickSize"]).normalize(),
                Decimal(f["LOT_SIZE"]["stepSize"]).normalize(),
                Decimal(f["MIN_NOTIONAL"]["notional"]),
            )
    raise ValueError(f"{symbol}: not in {EXCHANGE_INFO}; use one of {', '.join(START_PRICES)}")


# ------------------------------------------------------------------ prices
def _near(near: Sequence[int], lo_ms: int, hi_ms: int, anywhere: st.SearchStrategy[int]):
    """An instant: most often within ``[lo_ms, hi_ms]`` of one of ``near`` (where the bot
    is busy: FoundationDB's BUGGIFY puts faults where the code is, not uniformly in time),
    else ``anywhere``. Never before 0."""
    if not near:
        return anywhere
    close = st.tuples(st.sampled_from(tuple(near)), _ms(lo_ms, hi_ms)).map(
        lambda t: max(0, t[0] + t[1])
    )
    return st.one_of(close, close, close, anywhere)


@st.composite
def price_paths(draw, symbol: str, *, duration_ms: int, near: Sequence[int] = ()) -> PricePath:
    """``near``: instants (the entries) after which jumps and gaps tend to come, so stops
    get tested; jumps are on the step grid."""
    tick, _, _ = symbol_filters(symbol)
    anywhere = st.integers(0, duration_ms // STEP_MS).map(lambda k: k * STEP_MS)
    # a move right after an entry, between two ticks of the feed, meets the first stop in
    # flight (-2021 in a fast market); later ones meet the trailing stop, or fire it
    on_step = _near(near, 0, 30_000, anywhere).map(
        lambda t: min(duration_ms, t - t % STEP_MS + STEP_MS)
    )
    offsets = st.one_of(_near(near, 1, 1500, anywhere), on_step)
    return PricePath(
        symbol=symbol,
        start=START_PRICES[symbol],
        tick=tick,
        seed=draw(st.integers(0, 2**16)),
        drift_bps=draw(st.sampled_from((0.0, 0.0, 1.0, -1.0, 3.0, -3.0, 8.0, -8.0))),
        vol_bps=draw(st.sampled_from((0.0, 2.0, 5.0, 10.0, 20.0, 40.0))),
        jumps=tuple(
            draw(
                st.lists(st.builds(Jump, offsets, st.integers(-500, 500).filter(bool)), max_size=3)
            )
        ),
        gaps=tuple(
            draw(
                st.lists(
                    st.builds(
                        Gap,
                        offsets,
                        st.integers(1, 10).map(lambda k: k * STEP_MS),
                        st.integers(-300, 300),
                    ),
                    max_size=2,
                )
            )
        ),
        scripted=tuple(draw(st.lists(st.tuples(offsets, st.integers(-500, 500)), max_size=2))),
    )


# ------------------------------------------------------------------ entries
def quantity_for(symbol: str, price: Decimal, notional: Decimal) -> Decimal:
    """The smallest quantity on the step grid worth at least ``notional`` (and the minimum
    notional with a 10 % margin) at ``price``."""
    _, step, min_notional = symbol_filters(symbol)
    target = max(notional, min_notional * Decimal("1.1"))
    steps = (target / price / step).to_integral_value(ROUND_CEILING)
    return (steps * step).normalize()


@st.composite
def entry_schedules(
    draw, symbols: Sequence[str], *, safety_ms: int, max_entries: int = 4
) -> tuple[EntrySpec, ...]:
    """Entries during the safety phase; quantities sized from each symbol's start price
    (:data:`START_PRICES`; the venue rejects orders below the minimum notional, so none is
    drawn)."""
    entries: list[EntrySpec] = []
    for _ in range(draw(st.integers(1, max_entries))):
        symbol = draw(st.sampled_from(tuple(symbols)))
        # often just before a tape point: the price then moves while the first stop is in
        # flight, the fast market in which -2021 meets a fresh position
        late_ms = draw(st.one_of(st.integers(0, 999), st.integers(600, 999)))
        at_ms = draw(st.integers(1, safety_ms // 1000 - 1)) * 1000 + late_ms
        notional = Decimal(draw(st.sampled_from((10, 50, 200, 1000))))
        entries.append(
            EntrySpec(
                at_ms=at_ms,
                symbol=symbol,
                side=draw(st.sampled_from(("long", "short"))),
                quantity=quantity_for(symbol, START_PRICES[symbol], notional),
            )
        )
    return tuple(sorted(entries, key=lambda e: (e.at_ms, e.symbol)))


# ------------------------------------------------------------------ faults
def _ms(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo // 10, hi // 10).map(lambda k: k * 10)


def _events() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True).map(
        lambda e: tuple(x for x in EVENTS if x in e)
    )


def _latency_params() -> st.SearchStrategy[dict]:
    route = st.sampled_from(ROUTES)
    fixed = st.fixed_dictionaries(
        {"route": route, "distribution": st.just("fixed"), "ms": _ms(0, 1500)}
    )
    uniform = st.tuples(_ms(0, 600), _ms(0, 900)).map(
        lambda lo_d: {"distribution": "uniform", "lo_ms": lo_d[0], "hi_ms": lo_d[0] + lo_d[1]}
    )
    lognormal = st.fixed_dictionaries(
        {
            "distribution": st.just("lognormal"),
            "median_ms": _ms(10, 300),
            "sigma": st.sampled_from((0.25, 0.5, 1.0)),
        }
    )
    spikes = st.one_of(
        st.just({}),
        st.tuples(st.sampled_from((0.01, 0.05, 0.2)), _ms(100, 800), _ms(0, 700)).map(
            lambda t: {"spike_probability": t[0], "spike_lo_ms": t[1], "spike_hi_ms": t[1] + t[2]}
        ),
    )
    shaped = st.tuples(route, st.one_of(uniform, lognormal), spikes).map(
        lambda t: {"route": t[0], **t[1], **t[2]}
    )
    return st.one_of(fixed, shaped)


def fault_params(kind: str, symbols: Sequence[str]) -> st.SearchStrategy[dict]:
    """Params for one fault of ``kind``, inside the envelope (see the module's docstring)."""
    symbol = st.sampled_from(tuple(symbols))
    route = st.sampled_from(ROUTES)
    count = st.integers(0, 4)
    table = {
        "rest_latency": _latency_params(),
        "rest_response_dropped": st.fixed_dictionaries({"route": route, "count": count}),
        "rest_error_burst": st.fixed_dictionaries(
            {"route": route, "status": st.sampled_from((429, 418, 500, 502, 503))}
        ),
        "rest_unknown_outcome": st.fixed_dictionaries(
            {"route": route, "status": st.sampled_from((503, 500, 502, 504)), "count": count}
        ),
        "rest_position_omitted": st.fixed_dictionaries({"symbol": symbol, "calls": count}),
        "user_stream_delayed": st.fixed_dictionaries(
            {"events": _events(), "delay_ms": _ms(100, 5000)}
        ),
        "user_stream_dropped": st.fixed_dictionaries({"events": _events(), "count": count}),
        "user_stream_duplicated": st.fixed_dictionaries({"events": _events()}),
        "user_stream_held": st.fixed_dictionaries(
            {"events": _events(), "order": st.sampled_from(("by_type", "reversed"))}
        ),
        "stream_disconnected": st.fixed_dictionaries(
            {"streams": st.sampled_from(("user", "market", "all"))}
        ),
        "listen_key_expired": st.just({}),
        "order_forced_2021": st.fixed_dictionaries(
            {"route": st.just("POST /fapi/v1/algoOrder"), "count": st.integers(1, 3)}
        ),
        "algo_stuck_triggering": st.fixed_dictionaries({"symbol": symbol}),
        "bot_crashed": st.fixed_dictionaries({"restart_after_ms": _ms(0, 3000)}),
        "repository_write_lag": st.fixed_dictionaries({"delay_ms": _ms(10, 3000)}),
    }
    return table[kind]


# How long a fault may last, by kind: a burst of refusals or a stuck trigger longer than this
# is an outage, which no bot survives with zero naked time; a scenario of its own says so.
MAX_LENGTH_MS = {
    "rest_error_burst": 1500,
    "rest_response_dropped": 8000,
    "rest_unknown_outcome": 8000,
    "order_forced_2021": 8000,
    "algo_stuck_triggering": 60_000,
    "rest_latency": 60_000,
}


@st.composite
def fault_schedules(
    draw,
    symbols: Sequence[str],
    *,
    safety_ms: int,
    kinds: Sequence[str] = FAULT_KINDS,
    max_faults: int = 8,
    near: Sequence[int] = (),
) -> tuple[Fault, ...]:
    """A schedule of faults during the safety phase (``[0, safety_ms)``), in time order, each
    with its position as its index. Swarm selection: the enabled kinds are drawn first.
    ``near``: instants where the bot is busy (its entries); most faults start shortly
    before or after one of them, where a fault can meet a request (FoundationDB's BUGGIFY
    puts faults where the code is, not uniformly in time)."""
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kind {unknown[0]!r}; known: {', '.join(FAULT_KINDS)}")
    # a few kinds per world, so their interactions get the whole schedule (swarm testing)
    enabled = draw(st.lists(st.sampled_from(tuple(kinds)), min_size=1, max_size=4, unique=True))
    latest = safety_ms - 1000
    drafts = []
    for _ in range(draw(st.integers(0, max_faults))):
        kind = draw(st.sampled_from(enabled))
        at_ms = min(latest, draw(_near(near, -3000, 20_000, _ms(0, latest))))
        params = draw(fault_params(kind, symbols))
        until_ms = None
        if kind not in INSTANT_KINDS:
            longest = MAX_LENGTH_MS.get(kind, 60_000)
            if str(params.get("route", "")).startswith("GET "):
                # reads may fail for long: the bot waits, nothing is naked; but past its
                # stale-entry horizon (60 s late) a waiting entry is rightly dropped
                longest = 30_000
            longest = min(longest, safety_ms - at_ms)
            until_ms = at_ms + draw(_ms(10, longest))
        drafts.append((at_ms, kind, until_ms, params))
    drafts.sort(key=lambda d: (d[0], d[1]))
    return tuple(
        Fault(kind=kind, at_ms=at, until_ms=until, params=_normalized(kind, params), index=i)
        for i, (at, kind, until, params) in enumerate(drafts)
    )


def _normalized(kind: str, params: dict) -> dict:
    from sim.nemesis import validate_params  # completes defaults as the loader would

    return validate_params(kind, params)


# ------------------------------------------------------------------ the bot
def bot_configs() -> st.SearchStrategy[dict[str, dict]]:
    """``[protection]`` and ``[reconcile]`` settings within the ranges the bot's config
    accepts (Binance's callback rate is 0.1 to 10 %)."""
    protection = st.fixed_dictionaries(
        {
            # scalpers' stops down to 0.3 %, which a fast market jumps over (-2021)
            "initial_stop_pct": st.sampled_from(("0.3", "0.5", "1", "2", "3", "6", "10")),
            "activation_pct": st.sampled_from(("0.2", "0.5", "1", "1.5", "3")),
            "callback_pct": st.sampled_from(("0.1", "0.2", "0.5", "1", "2", "3")),
            "on_immediate_trigger": st.sampled_from(("close", "reprice")),
            "min_move_ticks": st.integers(1, 5),
            "min_move_interval_ms": st.sampled_from((250, 1000, 5000)),
        }
    )
    reconcile = st.fixed_dictionaries(
        {"interval_ms": st.sampled_from((60_000, 60_000, 15_000, 5_000, 2_000))}
    )
    return st.fixed_dictionaries({"protection": protection, "reconcile": reconcile})


# ------------------------------------------------------------------ everything
@st.composite
def programs(
    draw,
    *,
    symbols: Sequence[str] | None = None,
    safety_ms: int = 60_000,
    kinds: Sequence[str] = FAULT_KINDS,
    max_faults: int = 8,
) -> Program:
    """A whole world: 1-2 symbols (or ``symbols``), their price paths, entries, a fault
    schedule drawn from ``kinds`` (swarm), and the bot's settings."""
    if symbols is None:
        symbols = draw(
            st.lists(st.sampled_from(tuple(START_PRICES)), min_size=1, max_size=2, unique=True)
        )
    duration_ms = safety_ms + 40_000
    entries = draw(entry_schedules(symbols, safety_ms=safety_ms))
    at = tuple(e.at_ms for e in entries)
    paths = tuple(draw(price_paths(s, duration_ms=duration_ms, near=at)) for s in symbols)
    moves = tuple(j.at_ms for p in paths for j in p.jumps) + tuple(
        g.at_ms for p in paths for g in p.gaps
    )
    near = (0, *at, *moves)  # start-up, where stops are placed, and where they fire
    return Program(
        paths=paths,
        entries=entries,
        faults=draw(
            fault_schedules(
                symbols, safety_ms=safety_ms, kinds=kinds, max_faults=max_faults, near=near
            )
        ),
        config=draw(bot_configs()),
        immediate_trigger=draw(st.sampled_from(("reject", "reject", "accept_and_fire"))),
        rest_latency_ms=draw(st.sampled_from((0, 20, 50, 150, 400))),
        ws_latency_ms=draw(st.sampled_from((0, 10, 50))),
        safety_ms=safety_ms,
        seed=draw(st.integers(1, 1000)),
    )
