"""Every way a run can go wrong stops it with an error that says when, who and what to do."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from sim.runtime import (
    BotTaskCrashed,
    BusyLoop,
    RealIOForbidden,
    ShutdownOverrun,
    SimDeadlock,
    Simulation,
    Stall,
)
from tests.runtime.helpers import T0, now_ms, simulate


def ticker(env, period_us=1_000_000):
    """A perpetual simulated tape: keeps the event heap non-empty forever."""
    while True:
        yield env.timeout(period_us)


# ---------------------------------------------------------------- real I/O, threads, sleeps
@pytest.mark.parametrize(
    ("attempt", "needle"),
    [
        (lambda: asyncio.open_connection("fapi.binance.com", 443), "create_connection"),
        (lambda: asyncio.get_running_loop().getaddrinfo("fapi.binance.com", 443), "getaddrinfo"),
        (lambda: socket.create_connection(("fapi.binance.com", 443)), "socket.create_connection"),
        (lambda: socket.getaddrinfo("fapi.binance.com", 443), "socket.getaddrinfo"),
        (lambda: socket.socket().connect(("127.0.0.1", 9)), "socket.connect"),
        (lambda: threading.Thread(target=print).start(), "Thread.start"),
        (lambda: time.sleep(0.1), "time.sleep"),
    ],
    ids=[
        "open_connection",
        "loop.getaddrinfo",
        "socket.create_connection",
        "socket.getaddrinfo",
        "socket.connect",
        "thread",
        "time.sleep",
    ],
)
def test_real_io_threads_and_sleeps_are_refused_with_time_and_task(attempt, needle):
    async def worker():
        await asyncio.sleep(1.25)
        result = attempt()
        if asyncio.iscoroutine(result):
            await result

    async def main():
        await asyncio.create_task(worker(), name="feed")

    with pytest.raises(RealIOForbidden) as err:
        simulate(main)
    message = str(err.value)
    assert needle in message
    assert "2025-01-01T00:00:01.250000Z (virtual)" in message
    assert "in task feed (" in message and "worker@test_guards.py" in message


def test_guards_are_lifted_after_the_run():
    saved = (time.sleep, socket.create_connection, threading.Thread.start, socket.getaddrinfo)
    with pytest.raises(RealIOForbidden):
        simulate(lambda: _sleep_for_real())
    assert (
        time.sleep,
        socket.create_connection,
        threading.Thread.start,
        socket.getaddrinfo,
    ) == saved
    assert "connect" not in socket.socket.__dict__
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()


async def _sleep_for_real():
    time.sleep(0.01)


# ---------------------------------------------------------------- deadlock
def test_deadlock_is_reported_at_once_with_every_task_await_chain():
    async def main():
        ping, pong = asyncio.Event(), asyncio.Event()

        async def left():
            await ping.wait()
            pong.set()

        async def right():
            await pong.wait()
            ping.set()

        await asyncio.sleep(5)
        await asyncio.gather(
            asyncio.create_task(left(), name="left"), asyncio.create_task(right(), name="right")
        )

    with pytest.raises(SimDeadlock) as err:
        simulate(main, horizon_s=3600)
    message = str(err.value)
    assert "deadlock at 2025-01-01T00:00:05.000000Z (virtual)" in message
    assert (
        "left (test_deadlock_is_reported_at_once_with_every_task_await_chain.<locals>.main."
        "<locals>.left@test_guards.py" in message
    )
    assert "Event.wait@locks.py:213) awaiting a future nobody has resolved" in message
    assert "right (" in message and "main (" in message


def test_cancelled_timers_do_not_hide_a_deadlock():
    """A cancelled hour-long timer stays in simpy's heap (simpy cannot cancel); it must not
    postpone the deadlock report to the hour mark."""

    async def main():
        napper = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(2)
        napper.cancel()
        await asyncio.Event().wait()

    with pytest.raises(SimDeadlock, match=r"deadlock at 2025-01-01T00:00:02\.000000Z"):
        simulate(main, horizon_s=7200)


def test_a_labelled_future_says_what_it_stands_for():
    from sim.runtime import label_future

    async def main():
        fut = asyncio.get_running_loop().create_future()
        label_future(fut, "REST POST /fapi/v1/order (never answered)")
        await fut

    with pytest.raises(SimDeadlock, match=r"awaiting REST POST /fapi/v1/order \(never answered\)"):
        simulate(main)


# ---------------------------------------------------------------- stall
def test_stall_names_the_task_waiting_while_the_world_runs_on():
    sim = Simulation(horizon_s=3600, stall_after_s=10)
    sim.env.process(ticker(sim.env))

    async def main():
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def consumer():
            await queue.get()  # nothing is ever put

        async def napper():
            await asyncio.sleep(600)  # waiting on time itself is not a stall

        await asyncio.gather(
            asyncio.create_task(consumer(), name="user-stream"),
            asyncio.create_task(napper(), name="napper"),
        )

    with pytest.raises(Stall) as err:
        sim.run(main())
    message = str(err.value)
    assert "user-stream (" in message and "Queue.get@queues.py" in message
    assert "napper" not in message
    stalled_for_ms = (sim.env.now - T0) // 1000
    assert 10_000 <= stalled_for_ms <= 11_000  # scanned every tenth of the bound


# ---------------------------------------------------------------- busy loop
def test_busy_loop_at_one_instant_is_stopped():
    async def main():
        await asyncio.sleep(2)
        while True:
            await asyncio.sleep(0)

    with pytest.raises(BusyLoop, match=r"(?s)busy loop at 2025-01-01T00:00:02\.000000Z.*main \("):
        simulate(main, spin_limit=10_000)


def test_sub_microsecond_sleeps_count_as_the_same_instant():
    async def main():
        while True:
            await asyncio.sleep(1e-9)

    with pytest.raises(BusyLoop):
        simulate(main, spin_limit=10_000)


# ---------------------------------------------------------------- crashed tasks
def test_a_task_that_dies_unobserved_stops_the_run_with_the_cause():
    async def main():
        async def flaky_housekeeping():
            await asyncio.sleep(42)
            raise ValueError("bad row")

        asyncio.create_task(flaky_housekeeping())  # noqa: RUF006 - the bug under test
        await asyncio.sleep(3600)

    with pytest.raises(BotTaskCrashed) as err:
        simulate(main)
    message = str(err.value)
    assert message.startswith("task t2 (")
    assert (
        ".flaky_housekeeping) crashed at 2025-01-01T00:00:42.000000Z (virtual) with "
        "ValueError: bad row" in message
    )
    assert isinstance(err.value.__cause__, ValueError)


def test_non_strict_runs_leave_unobserved_exceptions_for_later():
    async def main():
        async def fails():
            raise ValueError("looked at later")

        task = asyncio.create_task(fails())
        await asyncio.sleep(10)
        return repr(task.exception()), now_ms()

    assert simulate(main, strict=False).value == ("ValueError('looked at later')", 10_000)


def test_an_awaited_task_exception_reaches_the_awaiter_unchanged():
    class Rejected(Exception):
        pass

    async def main():
        async def place():
            await asyncio.sleep(1)
            raise Rejected("-2021")

        try:
            await asyncio.create_task(place())
        except Rejected as exc:
            return str(exc), now_ms()

    assert simulate(main).value == ("-2021", 1000)


def test_a_callback_that_raises_stops_the_run():
    def bad_callback():
        raise KeyError("missing symbol")

    async def main():
        asyncio.get_running_loop().call_later(3, bad_callback)
        await asyncio.sleep(10)

    with pytest.raises(BotTaskCrashed, match=r"at 2025-01-01T00:00:03.*KeyError") as err:
        simulate(main)
    assert isinstance(err.value.__cause__, KeyError)


# ---------------------------------------------------------------- horizon and shutdown
def test_a_run_that_never_ends_by_itself_ends_at_the_horizon():
    sim = Simulation(horizon_s=600)
    sim.env.process(ticker(sim.env))  # masks the deadlock: time would run on forever

    async def main():
        await asyncio.Event().wait()

    result = sim.run(main())
    assert result.ended == "horizon"
    assert result.end_us - T0 == 600_000_000


def test_shutdown_work_within_the_grace_period_is_allowed():
    async def main():
        try:
            await asyncio.sleep(10_000)
        except asyncio.CancelledError:
            await asyncio.sleep(5)  # flush, cancel orders, close sockets...
            return "flushed"

    result = simulate(main, horizon_s=100, grace_s=10)
    assert (result.ended, result.value, (result.end_us - T0) // 1000) == (
        "horizon",
        "flushed",
        105_000,
    )


def test_a_task_that_ignores_cancellation_overruns_the_grace_period():
    async def main():
        while True:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                pass  # the classic bug: swallowing cancellation

    with pytest.raises(ShutdownOverrun) as err:
        simulate(main, horizon_s=100, grace_s=30)
    message = str(err.value)
    assert "hard stop at 2025-01-01T00:02:10.000000Z" in message
    assert "main (" in message and "a timer due at" in message


def test_background_tasks_are_cancelled_in_creation_order_when_main_returns():
    async def main():
        order = []

        async def worker(name):
            try:
                await asyncio.sleep(3600)
            finally:
                order.append((name, now_ms()))

        for name in ("w1", "w2", "w3", "w4"):
            asyncio.create_task(worker(name))  # noqa: RUF006 - left running on purpose
        await asyncio.sleep(7)
        return order

    result = simulate(main)
    assert result.ended == "completed"
    assert result.value == [("w1", 7000), ("w2", 7000), ("w3", 7000), ("w4", 7000)]


def test_runs_do_not_nest_and_run_once():
    sim = Simulation(horizon_s=10)

    async def inner():
        return 1

    async def main():
        return Simulation(horizon_s=10).run(inner())

    with pytest.raises(RuntimeError, match="cannot be nested"):
        sim.run(main())
    with pytest.raises(RuntimeError, match="runs once"):
        sim.run(inner())
