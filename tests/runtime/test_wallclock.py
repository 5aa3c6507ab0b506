"""Inside a run the wall clock reads virtual time; outside a run nothing is patched."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from sim.runtime import Simulation
from sim.runtime.units import iso_to_us, us_to_datetime
from tests.runtime.helpers import T0, simulate


def _stamps():
    return {
        "time": time.time(),
        "time_ns": time.time_ns(),
        "monotonic": time.monotonic(),
        "monotonic_ns": time.monotonic_ns(),
        "perf_counter": time.perf_counter(),
        "perf_counter_ns": time.perf_counter_ns(),
        "now": dt.datetime.now(),
        "now_utc": dt.datetime.now(dt.UTC),
        "utcnow": dt.datetime.utcnow(),
        "today": dt.date.today(),
        "loop": asyncio.get_running_loop().time(),
    }


def test_every_clock_reads_the_exact_virtual_instant():
    async def main():
        samples = [_stamps()]
        for delay in (0.001, 1.5, 86_400 - 0.25):
            await asyncio.sleep(delay)
            samples.append(_stamps())
        return samples

    samples = simulate(main, horizon_s=2 * 86_400).value
    for stamp, expected_us in zip(
        samples, [T0, T0 + 1_000, T0 + 1_501_000, T0 + 86_401_251_000], strict=True
    ):
        expected = us_to_datetime(expected_us)
        assert stamp["time"] == stamp["loop"] == expected_us / 1e6
        assert stamp["time_ns"] == expected_us * 1_000
        assert stamp["monotonic"] == stamp["perf_counter"] == expected_us / 1e6
        assert stamp["monotonic_ns"] == stamp["perf_counter_ns"] == expected_us * 1_000
        assert stamp["now"] == expected.replace(tzinfo=None)
        assert stamp["utcnow"] == expected.replace(tzinfo=None)
        assert stamp["now_utc"] == expected
        assert stamp["today"] == expected.date()


def test_the_run_starts_at_its_start_time():
    start = iso_to_us("2025-11-10T16:02:31.092Z")

    async def main():
        return time.time_ns() // 1_000_000

    assert simulate(main, start_us=start).value == start // 1000


def test_ccxt_milliseconds_is_the_virtual_millisecond_exactly():
    """ccxt signs requests with milliseconds() = time_ns() // 10**6: never 1 ms early."""
    from ccxt.base.exchange import Exchange

    async def main():
        seen = []
        for _ in range(1000):
            await asyncio.sleep(0.001)
            seen.append(Exchange.milliseconds() - asyncio.get_running_loop().now_us // 1000)
        return set(seen)

    assert simulate(main).value == {0}


def test_module_level_aliases_of_clock_functions_read_virtual_time():
    from tests.runtime import clock_alias_module as aliased

    async def main():
        await asyncio.sleep(2)
        return aliased.read_time(), aliased.read_datetime()

    value, when = simulate(main).value
    assert value == pytest.approx((T0 + 2_000_000) / 1e6, abs=1e-6)
    assert when == us_to_datetime(T0 + 2_000_000).replace(tzinfo=None)


def _clock_functions():
    return (
        time.time,
        time.time_ns,
        time.monotonic,
        time.perf_counter,
        time.sleep,
        dt.datetime,
        dt.date,
    )


def test_nothing_is_patched_outside_a_run_even_after_a_failing_run():
    before = _clock_functions()

    async def fails():
        await asyncio.sleep(1)
        raise RuntimeError("bot bug")

    with pytest.raises(RuntimeError, match="bot bug"):
        Simulation(horizon_s=10).run(fails())
    assert _clock_functions() == before
    real_now = dt.datetime.now(dt.UTC)
    assert real_now.year >= 2026  # the real date, not the run's 2025-01-01
    assert abs(time.time() - real_now.timestamp()) < 5


def test_wallclock_can_be_left_real_for_programs_that_do_not_read_it():
    async def main():
        return time.time()

    assert simulate(main, wallclock=False).value > 1.7e9 + 3e7  # not 2025-01-01
