"""asyncio's primitives keep their semantics on the virtual clock, at exact virtual instants."""

from __future__ import annotations

import asyncio
import threading

import pytest

from sim.runtime import Simulation
from tests.runtime.helpers import T0, now_ms, simulate


def test_sleep_wakes_at_exactly_the_requested_instant():
    async def main():
        marks = []
        for delay in (0.25, 1, 0.001, 59.999):
            await asyncio.sleep(delay)
            marks.append(now_ms())
        return marks

    assert simulate(main).value == [250, 1250, 1251, 61250]


def test_month_long_sleep_is_just_a_number():
    async def main():
        await asyncio.sleep(30 * 86_400)
        return now_ms()

    assert simulate(main, horizon_s=31 * 86_400).value == 30 * 86_400 * 1000


def test_wait_for_times_out_at_exactly_t0_plus_bound_and_the_server_side_work_still_happens():
    """A client-side timeout never cancels work already handed to the simulated world."""
    sim = Simulation(horizon_s=60)
    effects = []
    handed = {}

    def server(env):  # the simulated exchange: takes 5 s, then acts and answers
        yield env.timeout(5_000_000)
        effects.append(((env.now - T0) // 1000, "filled"))
        fut = handed["response"]
        if not fut.done():  # the client gave up: the answer is dropped, the effect stays
            fut.set_result("ack")

    async def main():
        handed["response"] = asyncio.get_running_loop().create_future()
        sim.env.process(server(sim.env))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(handed["response"], 0.75)
        timed_out_at = now_ms()
        await asyncio.sleep(10)
        return timed_out_at

    result = sim.run(main())
    assert result.value == 750
    assert effects == [(5000, "filled")]


def test_asyncio_timeout_fires_at_its_deadline_and_can_be_rescheduled():
    async def main():
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await asyncio.sleep(2)
        fired_at = now_ms()
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(1.5) as cm:
            cm.reschedule(loop.time() + 2.5)
            await asyncio.sleep(2)
        return fired_at, now_ms()

    assert simulate(main).value == (1500, 3500)


def test_shield_protects_inner_work_from_the_outer_timeout():
    async def main():
        finished = []

        async def inner():
            await asyncio.sleep(4)
            finished.append(now_ms())

        task = asyncio.create_task(inner())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 1)
        timed_out_at = now_ms()
        await task
        return timed_out_at, finished

    assert simulate(main).value == (1000, [4000])


def test_cancel_interrupts_a_sleep_and_runs_finally_at_the_cancel_instant():
    async def main():
        seen = []

        async def sleeper():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append(("cancelled", now_ms()))
                raise
            finally:
                seen.append(("finally", now_ms()))

        task = asyncio.create_task(sleeper())
        await asyncio.sleep(3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    assert simulate(main).value == [("cancelled", 3000), ("finally", 3000)]


def test_queue_delivery_backpressure_and_timed_get():
    async def main():
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        log = []

        async def producer():
            for item in range(3):
                await queue.put(item)  # blocks while the queue is full
                log.append(("put", item, now_ms()))

        async def consumer():
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), 5)
                except TimeoutError:
                    log.append(("idle", now_ms()))
                    return
                log.append(("got", item, now_ms()))
                await asyncio.sleep(1)

        await asyncio.gather(producer(), consumer())
        return log

    # The same interleaving stock asyncio produces (wait_for wraps get() in a task).
    assert simulate(main).value == [
        ("put", 0, 0),
        ("put", 1, 0),
        ("got", 0, 0),
        ("put", 2, 1000),
        ("got", 1, 1000),
        ("got", 2, 2000),
        ("idle", 8000),
    ]


def test_event_releases_every_waiter_at_the_instant_it_is_set():
    async def main():
        event = asyncio.Event()
        woke = []

        async def waiter(name):
            await event.wait()
            woke.append((name, now_ms()))

        tasks = [asyncio.create_task(waiter(n)) for n in ("a", "b", "c")]
        await asyncio.sleep(2.5)
        event.set()
        await asyncio.gather(*tasks)
        return woke

    assert simulate(main).value == [("a", 2500), ("b", 2500), ("c", 2500)]


def test_lock_is_fifo_and_hands_over_at_release_time():
    async def main():
        lock = asyncio.Lock()
        held = []

        async def worker(name, hold_s):
            async with lock:
                held.append((name, now_ms()))
                await asyncio.sleep(hold_s)

        await asyncio.gather(worker("a", 1), worker("b", 0.5), worker("c", 2))
        return held, now_ms()

    assert simulate(main).value == ([("a", 0), ("b", 1000), ("c", 1500)], 3500)


def test_gather_returns_in_argument_order_and_finishes_with_the_slowest():
    async def main():
        async def after(delay, value):
            await asyncio.sleep(delay)
            return value

        values = await asyncio.gather(after(3, "slow"), after(1, "fast"), after(2, "mid"))
        return values, now_ms()

    assert simulate(main).value == (["slow", "fast", "mid"], 3000)


def test_gather_propagates_the_first_exception_unchanged():
    class Boom(Exception):
        pass

    async def main():
        async def fails():
            await asyncio.sleep(1)
            raise Boom("at one second")

        async def slow():
            await asyncio.sleep(5)

        with pytest.raises(Boom, match="at one second"):
            await asyncio.gather(fails(), slow())
        return now_ms()

    assert simulate(main, strict=False).value == 1000


def test_task_group_failure_cancels_siblings_at_the_failure_instant_in_creation_order():
    async def main():
        cancelled = []

        async def sibling(name):
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.append((name, now_ms()))
                raise

        async def fails():
            await asyncio.sleep(2)
            raise ValueError("child failed")

        with pytest.raises(ExceptionGroup) as group:
            async with asyncio.TaskGroup() as tg:
                for name in ("s1", "s2", "s3", "s4", "s5"):
                    tg.create_task(sibling(name))
                tg.create_task(fails())
        assert group.group_contains(ValueError, match="child failed")
        return cancelled

    assert simulate(main).value == [
        ("s1", 2000),
        ("s2", 2000),
        ("s3", 2000),
        ("s4", 2000),
        ("s5", 2000),
    ]


def test_create_task_names_tasks_per_loop_and_keeps_given_names():
    async def main():
        async def noop():
            await asyncio.sleep(0)

        plain = [asyncio.create_task(noop()) for _ in range(3)]
        named = asyncio.create_task(noop(), name="feeder")
        await asyncio.gather(*plain, named)
        return [t.get_name() for t in plain] + [named.get_name(), asyncio.current_task().get_name()]

    # main is created first as "main" (task 1); its children continue the count.
    assert simulate(main).value == ["t2", "t3", "t4", "feeder", "main"]
    assert simulate(main).value == ["t2", "t3", "t4", "feeder", "main"]  # not process-global


def test_to_thread_and_run_in_executor_run_inline_at_the_current_instant():
    main_thread = threading.get_ident()

    def blocking_work(x):
        return x * 2, threading.get_ident()

    def broken():
        raise OSError("disk full")

    async def main():
        await asyncio.sleep(1)
        doubled, thread = await asyncio.to_thread(blocking_work, 21)
        loop = asyncio.get_running_loop()
        again, _ = await loop.run_in_executor(None, blocking_work, 5)
        with pytest.raises(OSError, match="disk full"):
            await asyncio.to_thread(broken)
        return doubled, again, thread == main_thread, now_ms()

    assert simulate(main).value == (42, 10, True, 1000)


def test_timers_due_at_the_same_instant_fire_in_scheduling_order():
    async def main():
        loop = asyncio.get_running_loop()
        fired = []
        loop.call_later(1, fired.append, "first")
        loop.call_at(loop.time() + 1, fired.append, "second")
        loop.call_later(0.5, fired.append, "earlier")
        loop.call_later(1, fired.append, "third")
        await asyncio.sleep(2)
        return fired

    assert simulate(main).value == ["earlier", "first", "second", "third"]


def test_cancelled_timer_never_fires():
    async def main():
        loop = asyncio.get_running_loop()
        fired = []
        handle = loop.call_later(1, fired.append, "cancelled")
        loop.call_later(2, fired.append, "kept")
        handle.cancel()
        await asyncio.sleep(3)
        return fired

    assert simulate(main).value == ["kept"]


def test_signal_handlers_are_accepted_and_never_fire():
    import signal

    async def main():
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
        await asyncio.sleep(1)
        return loop.remove_signal_handler(signal.SIGTERM)

    assert simulate(main).value is True
