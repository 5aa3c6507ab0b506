"""Properties of the exchange model over generated price paths and order flows."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.exchange.errors import BinanceError
from sim.exchange.events import AlgoUpdated, OrderUpdated
from sim.exchange.model import AlgoRequest, OrderRequest
from sim.exchange.triggers import crosses
from tests.exchange.specs import make_exchange

TICK = Decimal("0.0001")
START_TICKS = 20_333  # SOONUSDT at 2.0333

moves = st.integers(-400, 400)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("move"), moves, moves),
        st.tuples(
            st.just("market"), st.sampled_from(["BUY", "SELL"]), st.integers(1, 40), st.booleans()
        ),
        st.tuples(
            st.just("limit"),
            st.sampled_from(["BUY", "SELL"]),
            st.integers(3, 40),
            st.integers(-300, 300),
        ),
        st.tuples(
            st.just("stop"),
            st.sampled_from(["BUY", "SELL"]),
            st.integers(1, 600),
            st.sampled_from(["MARK_PRICE", "CONTRACT_PRICE"]),
        ),
    ),
    max_size=60,
)


def price(ticks: int) -> Decimal:
    return max(ticks, 1) * TICK


def run_flow(flow, seed, slippage):
    """Apply a generated flow; return the exchange, every event, and the last-price range
    each event's instant allowed."""
    ex = make_exchange(seed=seed, slippage_ticks_max=slippage, initial_wallet=Decimal(10**6))
    mark_ticks = last_ticks = START_TICKS
    prev_last = last_ticks
    seen = []  # (event, low, high)
    for t_ms, action in enumerate(flow, start=1):
        try:
            if action[0] == "move":
                prev_last = last_ticks
                mark_ticks = max(1, mark_ticks + action[1])
                last_ticks = max(1, mark_ticks + action[2] // 4)
                events = ex.update_price(t_ms, "SOONUSDT", price(mark_ticks), price(last_ticks))
            elif action[0] == "market":
                _, side, qty, reduce = action
                events = ex.place_order(
                    t_ms,
                    OrderRequest(
                        "SOONUSDT", side, "MARKET", quantity=Decimal(qty), reduce_only=reduce
                    ),
                )[1]
            elif action[0] == "limit":
                _, side, qty, offset = action
                events = ex.place_order(
                    t_ms,
                    OrderRequest(
                        "SOONUSDT",
                        side,
                        "LIMIT",
                        quantity=Decimal(qty),
                        price=price(last_ticks + offset),
                        time_in_force="GTC",
                    ),
                )[1]
            else:
                _, side, offset, working = action
                ref = mark_ticks if working == "MARK_PRICE" else last_ticks
                trigger = ref - offset if side == "SELL" else ref + offset
                events = ex.place_algo_order(
                    t_ms,
                    AlgoRequest(
                        "SOONUSDT",
                        side,
                        "STOP_MARKET",
                        trigger_price=price(trigger),
                        close_position=True,
                        working_type=working,
                    ),
                )[1]
        except BinanceError:
            continue
        low, high = sorted((prev_last, last_ticks))
        seen += [(event, price(low), price(high)) for event in events]
    return ex, seen


@settings(max_examples=150, deadline=None)
@given(flow=actions, seed=st.integers(0, 1000), slippage=st.integers(0, 25))
def test_position_is_the_signed_sum_of_fills_and_wallet_moves_by_pnl_minus_fees(
    flow, seed, slippage
):
    ex, seen = run_flow(flow, seed, slippage)
    fills = [
        (e.order.side, e.fill)
        for e, _, _ in seen
        if isinstance(e, OrderUpdated) and e.fill is not None
    ]
    signed = sum((f.qty if side == "BUY" else -f.qty for side, f in fills), Decimal(0))
    assert ex.account.position("SOONUSDT").amount == signed
    realized = sum((f.realized_pnl for _, f in fills), Decimal(0))
    fees = sum((f.fee for _, f in fills), Decimal(0))
    assert ex.account.wallet - Decimal(10**6) == realized - fees


@settings(max_examples=150, deadline=None)
@given(flow=actions, seed=st.integers(0, 1000), slippage=st.integers(0, 25))
def test_no_fill_happens_at_a_price_the_tape_did_not_reach(flow, seed, slippage):
    _, seen = run_flow(flow, seed, slippage)
    for event, low, high in seen:
        if isinstance(event, OrderUpdated) and event.fill is not None:
            assert low <= event.fill.price <= high, (event, low, high)


@settings(max_examples=200, deadline=None)
@given(
    order_type=st.sampled_from(["STOP_MARKET", "TAKE_PROFIT_MARKET"]),
    side=st.sampled_from(["BUY", "SELL"]),
    working=st.sampled_from(["MARK_PRICE", "CONTRACT_PRICE"]),
    offset=st.integers(1, 300),
    path=st.lists(st.tuples(moves, moves), min_size=1, max_size=40),
)
def test_a_stop_fires_on_the_first_update_that_crosses_its_trigger_never_earlier(
    order_type, side, working, offset, path
):
    ex = make_exchange()
    stop_like = order_type == "STOP_MARKET"
    away = offset if (side == "BUY") == stop_like else -offset
    trigger = price(START_TICKS + away)
    assume(not crosses(order_type, side, trigger, price(START_TICKS)))
    ex.place_algo_order(
        0,
        AlgoRequest(
            "SOONUSDT",
            side,
            order_type,
            trigger_price=trigger,
            quantity=Decimal(10),
            working_type=working,
        ),
    )
    mark = START_TICKS
    expected = fired = None
    for i, (mark_move, spread) in enumerate(path, start=1):
        mark = max(1, mark + mark_move)
        last = max(1, mark + spread // 4)
        latest = price(mark) if working == "MARK_PRICE" else price(last)
        if expected is None and crosses(order_type, side, trigger, latest):
            expected = i
        events = ex.update_price(i, "SOONUSDT", price(mark), price(last))
        if any(isinstance(e, AlgoUpdated) and e.algo.status == "TRIGGERING" for e in events):
            assert fired is None, "fired twice"
            fired = i
    assert fired == expected
