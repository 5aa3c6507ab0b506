"""The runtime's workloads, each timed by wall clock from outside the run.

* :func:`ticks_on_sim` — the *tick stream* workload: ``symbols`` simpy producers each put
  ``(seq, price)`` on an ``asyncio.Queue`` every virtual second (producer ``i`` offset by
  ``i * 37`` ms), and one asyncio consumer per symbol awaits the queue, keeps a running max
  and sleeps 10 ms. Run with ``wallclock=True`` (freezegun active) until the horizon.
  Measures the whole stack: simpy stepping, the loop's idle/advance path, timers, the
  wall-clock hook, task wake-ups.
* :func:`ticks_on_bare_simpy` — the same structure in pure simpy (``Store`` put/get,
  ``env.timeout(10 ms)``), driven by a plain ``env.peek()``/``env.step()`` loop that counts
  the events it processes: the floor the runtime's per-event cost is compared against.
* :func:`sleeps_on_sim` / :func:`sleeps_on_bare_simpy` — the cost of one timer: one asyncio
  task awaiting ``asyncio.sleep(0.001)`` ``n`` times, against one simpy process yielding
  ``env.timeout(1000)`` ``n`` times under ``env.run()``.

Every function returns wall seconds (``time.perf_counter`` around the run, Simulation or
Environment construction excluded) plus the counters needed to normalise it.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

import simpy

from sim.runtime import DEFAULT_START_US, Simulation

US = 1_000_000
TICK_US = US
OFFSET_US = 37_000
CONSUMER_SLEEP_S = 0.010


@dataclass(frozen=True)
class Timing:
    wall_s: float
    events: int  # simpy events stepped (timers, for the sleep workloads)
    loop_iterations: int = 0
    consumed: int = 0


def _price(i: int, seq: int) -> int:
    return 5_000_000 + (seq * 7_919 + i * 104_729) % 10_007


def _timed(run):
    gc.collect()
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def ticks_on_sim(symbols: int, horizon_s: int) -> Timing:
    """The tick stream on a :class:`Simulation` (``wallclock=True``) for ``horizon_s``."""
    sim = Simulation(seed=1, horizon_s=horizon_s, wallclock=True)
    queues = [asyncio.Queue() for _ in range(symbols)]  # binds to the run's loop on first use
    consumed = [0]

    def producer(i: int, queue: asyncio.Queue):
        yield sim.env.timeout(i * OFFSET_US)
        seq = 0
        while True:
            queue.put_nowait((seq, _price(i, seq)))
            seq += 1
            yield sim.env.timeout(TICK_US)

    async def consumer(queue: asyncio.Queue) -> None:
        best = 0
        while True:
            _seq, price = await queue.get()
            best = max(best, price)
            consumed[0] += 1
            await asyncio.sleep(CONSUMER_SLEEP_S)

    async def main() -> None:
        for queue in queues:
            asyncio.get_running_loop().create_task(consumer(queue))
        await asyncio.Event().wait()  # never set: the run ends at the horizon

    for i, queue in enumerate(queues):
        sim.env.process(producer(i, queue))
    wall_s, result = _timed(lambda: sim.run(main()))
    if result.ended != "horizon" or consumed[0] < symbols * (horizon_s - 1):
        raise AssertionError(f"tick workload misbehaved: {result.ended}, {consumed[0]} ticks")
    return Timing(wall_s, result.simpy_steps, result.loop_iterations, consumed[0])


def ticks_on_bare_simpy(symbols: int, horizon_s: int) -> Timing:
    """The same tick stream in pure simpy; ``events`` counts every ``env.step()``."""
    env = simpy.Environment(initial_time=DEFAULT_START_US)
    until = DEFAULT_START_US + horizon_s * US
    stores = [simpy.Store(env) for _ in range(symbols)]
    consumed = [0]

    def producer(i: int, store: simpy.Store):
        yield env.timeout(i * OFFSET_US)
        seq = 0
        while True:
            store.put((seq, _price(i, seq)))
            seq += 1
            yield env.timeout(TICK_US)

    def consumer(store: simpy.Store):
        best = 0
        while True:
            _seq, price = yield store.get()
            best = max(best, price)
            consumed[0] += 1
            yield env.timeout(int(CONSUMER_SLEEP_S * US))

    for i, store in enumerate(stores):
        env.process(producer(i, store))
        env.process(consumer(store))

    def drive() -> int:
        n = 0
        while env.peek() < until:
            env.step()
            n += 1
        return n

    wall_s, events = _timed(drive)
    return Timing(wall_s, events, consumed=consumed[0])


def sleeps_on_sim(n: int) -> Timing:
    """One task awaiting ``asyncio.sleep(0.001)`` ``n`` times (``wallclock=True``)."""
    sim = Simulation(seed=1, horizon_s=n / 1000 + 60, wallclock=True)

    async def main() -> None:
        for _ in range(n):
            await asyncio.sleep(0.001)

    wall_s, result = _timed(lambda: sim.run(main()))
    if result.ended != "completed" or result.end_us - result.start_us != n * 1000:
        raise AssertionError(f"sleep workload misbehaved: {result}")
    return Timing(wall_s, n, result.loop_iterations)


def sleeps_on_bare_simpy(n: int) -> Timing:
    """One simpy process yielding ``env.timeout(1000)`` (1 ms) ``n`` times, ``env.run()``."""
    env = simpy.Environment(initial_time=DEFAULT_START_US)

    def sleeper():
        for _ in range(n):
            yield env.timeout(1000)

    env.process(sleeper())
    wall_s, _ = _timed(env.run)
    return Timing(wall_s, n)


def timer_chain_on_sim(n: int) -> Timing:
    """The timer path alone: a callback that re-arms ``loop.call_later(0.001, ...)`` ``n``
    times (no coroutine, future or task wake-up in between; ``wallclock=True``)."""
    sim = Simulation(seed=1, horizon_s=n / 1000 + 60, wallclock=True)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        left = [n]

        def tick() -> None:
            left[0] -= 1
            if left[0]:
                loop.call_later(0.001, tick)
            else:
                done.set_result(None)

        loop.call_later(0.001, tick)
        await done

    wall_s, result = _timed(lambda: sim.run(main()))
    if result.ended != "completed" or result.end_us - result.start_us != n * 1000:
        raise AssertionError(f"timer chain workload misbehaved: {result}")
    return Timing(wall_s, n, result.loop_iterations)
