"""Latency models: integer microseconds, drawn only from the generator passed in."""

from __future__ import annotations

import random

import pytest

from sim.transport.latency import ByEndpoint, Fixed, LogNormal, Uniform, WithSpikes, sampler
from sim.transport.link import Message


def draws(model, n=2000, seed="s"):
    rng = random.Random(seed)
    return [model.draw_us(rng) for _ in range(n)]


def test_fixed_is_exact_and_draws_nothing():
    rng = random.Random(1)
    state = rng.getstate()
    assert Fixed(250).draw_us(rng) == 250_000
    assert Fixed(0.5).draw_us(rng) == 500
    assert rng.getstate() == state


def test_uniform_stays_in_range_and_hits_both_ends_of_a_narrow_range():
    values = draws(Uniform(1, 1.002))
    assert all(isinstance(v, int) for v in values)
    assert min(values) == 1000 and max(values) == 1002


def test_lognormal_median_and_cap():
    values = sorted(draws(LogNormal(median_ms=40, sigma=0.5)))
    median = values[len(values) // 2]
    assert 36_000 < median < 44_000
    capped = draws(LogNormal(median_ms=40, sigma=3, cap_ms=100))
    assert max(capped) == 100_000 and min(capped) >= 0


def test_spikes_happen_at_about_the_given_rate_and_within_their_range():
    values = draws(WithSpikes(Fixed(10), probability=0.1, lo_ms=1000, hi_ms=5000), n=5000)
    spikes = [v for v in values if v != 10_000]
    assert 350 < len(spikes) < 650
    assert all(1_000_000 <= v <= 5_000_000 for v in spikes)


def test_same_seed_same_draws_and_the_global_generator_is_untouched():
    model = WithSpikes(LogNormal(40, 0.7), probability=0.05, lo_ms=500, hi_ms=900)
    global_state = random.getstate()
    assert draws(model, seed="x") == draws(model, seed="x")
    assert draws(model, seed="x") != draws(model, seed="y")
    assert random.getstate() == global_state


def test_by_endpoint_picks_the_model_by_message_kind():
    model = ByEndpoint(Fixed(30), {("POST", "/fapi/v1/order"): Fixed(250)})
    rng = random.Random(0)
    assert model.draw_us(rng, Message("POST /fapi/v1/order")) == 250_000
    assert model.draw_us(rng, Message("GET /fapi/v1/order")) == 30_000
    draw = sampler(model, rng)
    assert draw(Message("POST /fapi/v1/order")) == 250_000


@pytest.mark.parametrize(
    "build",
    [
        lambda: Fixed(-1),
        lambda: Uniform(5, 1),
        lambda: LogNormal(0, 1),
        lambda: LogNormal(10, -1),
        lambda: WithSpikes(Fixed(1), probability=1.5, lo_ms=1, hi_ms=2),
        lambda: ByEndpoint(Fixed(1), {"POST /fapi/v1/order": Fixed(2)}),
    ],
)
def test_nonsense_parameters_are_refused(build):
    with pytest.raises(ValueError):
        build()
