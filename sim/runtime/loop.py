"""SimLoop: an asyncio event loop whose clock and timers are simpy's.

The design is ``../shared/reference/virtual-time.md`` §3 ("one scheduler"):

* ``time()`` is simpy's clock (integer microseconds since the epoch) in seconds;
* every ``call_at``/``call_later`` is a simpy ``Timeout`` whose callback makes the handle ready;
* virtual time moves in exactly one place, :meth:`SimLoop._idle`: when asyncio has nothing
  left to run, simpy is stepped **one event at a time** until something becomes runnable.

Invariants this module protects:

* simpy advances only when asyncio is quiescent, so every simulated event is handled to
  completion before the next one, and every tie is broken by simpy's ``(time, priority,
  insertion)`` order: the schedule is a function of the program, not of the host;
* no real I/O, no threads: a selector-less loop cannot wait on the outside world;
* the loop never spins or waits silently: a deadlock, a busy loop, a stall, an unretrieved
  task exception or an overrun past the hard stop raises a :class:`~sim.runtime.errors.SimError`
  that names the virtual time and the tasks involved.

Private asyncio APIs used (pinned to Python 3.11): ``BaseEventLoop._ready``, ``_run_once``,
``_timer_handle_cancelled``, ``_clock_resolution``, ``_thread_id``, ``Handle._cancelled``,
``TimerHandle._scheduled``, ``Task._fut_waiter``, ``Future._exception``/``_log_traceback``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from asyncio.futures import _set_result_unless_cancelled
from collections.abc import Callable
from typing import Any

import simpy

from sim.runtime.errors import (
    BotTaskCrashed,
    BusyLoop,
    RealIOForbidden,
    ShutdownOverrun,
    SimDeadlock,
    Stall,
)
from sim.runtime.tasks import SimFuture, SimTask, await_chain, creation_order
from sim.runtime.units import US_PER_S, s_to_us, us_to_iso

# The watchdog measures real elapsed time; freezegun rewrites module-level aliases of the
# clock functions when a run starts, so keep the real one in a dict where it cannot reach.
_REAL = {"perf_counter": time.perf_counter}

#: A single virtual instant that takes longer than this in wall time is reported.
SLOW_INSTANT_WALL_S = 0.5


def _forbidden(name: str) -> Callable[..., Any]:
    def method(self: SimLoop, *args: Any, **kwargs: Any) -> Any:
        raise RealIOForbidden(
            f"{self.describe_now()}: loop.{name}() is real I/O, which a simulation cannot do. "
            "Inside a run every exchange call must go through the simulated transport "
            "(ccxt's `session` option); real sockets belong to the live runner."
        )

    method.__name__ = name
    return method


class _SimTimer(asyncio.TimerHandle):
    """An asyncio timer handle that is also its own simpy event: simpy's ``step()`` reads
    only ``callbacks`` and ``_ok`` from an event, so the handle goes into simpy's heap
    directly, with no ``Timeout`` object beside it (one allocation per timer saved)."""

    __slots__ = ("_ok", "callbacks")


class SimLoop(asyncio.BaseEventLoop):
    """An event loop on a simpy clock. Create one per run, with the run's Environment.

    ``spin_limit``: loop iterations allowed at one virtual instant before :class:`BusyLoop`.
    ``stall_after_s``: if set, a task waiting on the same future (one no timer will complete)
    for this many virtual seconds raises :class:`Stall`.
    ``strict``: raise :class:`BotTaskCrashed` for task exceptions nobody retrieved.
    """

    def __init__(
        self,
        env: simpy.Environment,
        *,
        spin_limit: int = 1_000_000,
        stall_after_s: float | None = None,
        strict: bool = True,
    ) -> None:
        super().__init__()
        self._env = env
        self._timer_callbacks = (self._fire_timer,)  # shared: simpy only iterates it
        # loop.time() returns epoch seconds, whose float ulp (2.4e-7 s) exceeds asyncio's
        # default resolution; with 1e-9 a due timer can look not-yet-due forever (§3.6).
        self._clock_resolution = 1e-6
        self._seq = 0  # creation number for tasks and futures (their hash)
        self._task_count = 0  # for the t<n> names
        self._dead_timers = 0  # cancelled timers still sitting in simpy's heap
        self._horizon_pending = 0  # 1 while the horizon event is in the heap
        self._hard_stop_us = math.inf
        self._spins = 0
        self._spin_limit = spin_limit
        self._strict = strict
        self._crashed: list[tuple[asyncio.Task, int]] = []
        self._callback_errors: list[dict[str, Any]] = []
        self._stall_after_us = None if stall_after_s is None else s_to_us(stall_after_s)
        self._stall_scan_due_us = env.now
        self._waits: dict[asyncio.Task, tuple[object, int]] = {}
        self._signal_handlers: dict[int, asyncio.Handle] = {}
        self._asyncgens_ordered: list[weakref.ref] = []
        self._last_activity_us = env.now
        self._instant_started_real = _REAL["perf_counter"]()
        #: (virtual µs, wall seconds) of instants slower than SLOW_INSTANT_WALL_S.
        self.slow_instants: list[tuple[int, float]] = []
        #: simpy events stepped and loop iterations run, for benchmarks and reports.
        self.simpy_steps = 0
        self.iterations = 0

    # ----------------------------------------------------------------- the clock
    @property
    def env(self) -> simpy.Environment:
        return self._env

    @property
    def now_us(self) -> int:
        return self._env.now

    def time(self) -> float:
        return self._env.now / US_PER_S

    def set_hard_stop(self, t_us: int | float) -> None:
        """Past this virtual instant the run is stuck: :class:`ShutdownOverrun`."""
        self._hard_stop_us = t_us

    def schedule_horizon(self, t_us: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` at ``t_us``. The horizon is not work: a run whose only pending
        event is the horizon is deadlocked, and is reported as such right away."""
        event = self._env.timeout(max(0, t_us - self._env.now))
        self._horizon_pending = 1

        def fire(_event: simpy.Event) -> None:
            self._horizon_pending = 0
            callback()

        event.callbacks.append(fire)

    def describe_now(self) -> str:
        """``at 2025-11-10T16:04:01.000000Z (virtual), in task t3 (...)``, for messages."""
        task = asyncio.current_task(self) if self.is_running() else None
        where = f"in task {await_chain(task)}" if task is not None else "outside any task"
        return f"at {us_to_iso(self._env.now)} (virtual), {where}"

    # ----------------------------------------------------------------- timers
    def call_later(self, delay, callback, *args, context=None):
        now_us = self._env._now
        return self._timer_at_us(
            now_us + s_to_us(delay) if delay > 0 else now_us, callback, args, context
        )

    def call_at(self, when, callback, *args, context=None):
        return self._timer_at_us(max(s_to_us(when), self._env._now), callback, args, context)

    def _timer_at_us(self, when_us, callback, args, context):
        self._check_closed()
        timer = _SimTimer(when_us / US_PER_S, callback, args, self, context)
        timer._scheduled = True
        timer.callbacks = self._timer_callbacks
        timer._ok = True
        if args and type(args[0]) is SimFuture:
            # A sleep or a wait_for bound: this future will be completed by time itself.
            args[0]._sim_wakes_us = when_us
        self._env.schedule(timer, simpy.core.NORMAL, when_us - self._env._now)
        return timer

    def _fire_timer(self, timer: _SimTimer) -> None:
        if timer._cancelled:
            self._dead_timers -= 1
            return
        timer._scheduled = False
        if timer._callback is _set_result_unless_cancelled:
            # asyncio.sleep's timer: resolving the future here rather than from a ready
            # handle runs no user code and schedules the same wake-up; it saves a loop
            # iteration per sleep (bench/: the per-timer cost).
            timer._run()
        else:
            self._ready.append(timer)

    def _timer_handle_cancelled(self, handle):
        if handle._scheduled:
            self._dead_timers += 1

    # ----------------------------------------------------------------- the scheduler
    def _run_once(self):
        ready = self._ready
        if not ready:
            self._idle()
        self._spins += 1
        if self._spins > self._spin_limit:
            self._raise_busy_loop()
        self.iterations += 1
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def _idle(self):
        """asyncio is quiescent: check health, then step simpy until something is runnable."""
        if self._crashed or self._callback_errors:
            self.check_health()
        env = self._env
        ready = self._ready
        queue = env._queue  # simpy's heap of (time, priority, insertion number, event)
        self._last_activity_us = env._now
        steps = 0
        while not ready:
            if len(queue) - self._dead_timers - self._horizon_pending <= 0:
                self._raise_deadlock()
            t_us = queue[0][0]  # env.peek(), without its empty-heap check (done above)
            if t_us != env._now:
                if t_us > self._hard_stop_us:
                    self._raise_overrun()
                self._advance(t_us)
            env.step()
            steps += 1
        self.simpy_steps += steps

    def _advance(self, t_us: int) -> None:
        self._spins = 0
        real_now = _REAL["perf_counter"]()
        spent = real_now - self._instant_started_real
        if spent > SLOW_INSTANT_WALL_S:
            self.slow_instants.append((self._env.now, spent))
        self._instant_started_real = real_now
        if self._stall_after_us is not None and t_us >= self._stall_scan_due_us:
            self._scan_stalls(t_us)

    # ----------------------------------------------------------------- tasks and futures
    def create_future(self):
        self._seq += 1
        fut = SimFuture(loop=self)
        fut._sim_seq = self._seq
        return fut

    def create_task(self, coro, *, name=None, context=None):
        self._check_closed()
        self._seq += 1
        self._task_count += 1
        task = SimTask.__new__(SimTask)
        task._sim_seq = self._seq  # before __init__: registering the task hashes it
        task.__init__(
            coro,
            loop=self,
            name=name if name is not None else f"t{self._task_count}",
            context=context,
        )
        task.add_done_callback(self._on_task_done)
        return task

    def _on_task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task._exception is not None:
            self._crashed.append((task, self._env.now))

    def pending_tasks(self) -> list[asyncio.Task]:
        """Every unfinished task of this loop, in creation order."""
        return sorted((t for t in asyncio.all_tasks(self) if not t.done()), key=creation_order)

    def run_in_executor(self, executor, func, *args):
        """Runs ``func`` inline, at the current virtual instant: no threads in a simulation."""
        self._check_closed()
        fut = self.create_future()
        try:
            result = func(*args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # delivered to the awaiter, as an executor would
            fut.set_exception(exc)
        else:
            fut.set_result(result)
        return fut

    def set_default_executor(self, executor):
        pass

    async def shutdown_default_executor(self):
        pass

    # ----------------------------------------------------------------- health
    def call_exception_handler(self, context):
        if self._strict and context.get("exception") is not None and "future" not in context:
            self._callback_errors.append(context)  # raised at the next quiescent point
            return
        super().call_exception_handler(context)

    def check_health(self) -> None:
        if self._callback_errors:
            context = self._callback_errors.pop(0)
            exc = context["exception"]
            raise BotTaskCrashed(
                f"at {us_to_iso(self._env.now)} (virtual): a loop callback raised "
                f"{type(exc).__name__}: {exc} ({context.get('message', '')})"
            ) from exc
        if self._crashed:
            crashed, self._crashed = self._crashed, []
            for task, at_us in crashed:
                if self._strict and task._log_traceback:
                    exc = task._exception
                    task._log_traceback = False  # we report it; asyncio need not log it too
                    raise BotTaskCrashed(
                        f"task {task.get_name()} ({task.get_coro().__qualname__}) crashed at "
                        f"{us_to_iso(at_us)} (virtual) with {type(exc).__name__}: {exc}; "
                        "nobody awaited it or retrieved its exception. Await the task, or "
                        "handle errors inside it (run with strict=False to leave such "
                        "exceptions for later)."
                    ) from exc

    def _scan_stalls(self, now_us: int) -> None:
        self._stall_scan_due_us = now_us + max(1, self._stall_after_us // 10)
        previous, current = self._waits, {}
        for task in self.pending_tasks():
            waiter = task._fut_waiter
            if waiter is None or getattr(waiter, "_sim_wakes_us", None) is not None:
                continue  # runnable, or waiting on time itself
            before = previous.get(task)
            since_us = before[1] if before is not None and before[0] is waiter else now_us
            current[task] = (waiter, since_us)
        self._waits = current
        stalled = [t for t, (_, since) in current.items() if now_us - since >= self._stall_after_us]
        if stalled:
            lines = "\n  ".join(
                f"{await_chain(t)} since {us_to_iso(current[t][1])}" for t in stalled
            )
            raise Stall(
                f"at {us_to_iso(now_us)} (virtual), {len(stalled)} task(s) waited on the same "
                f"thing for more than {self._stall_after_us / US_PER_S:g} virtual seconds while "
                f"the world ran on:\n  {lines}\nRaise stall_after_s if such waits are expected."
            )

    def _all_waits(self) -> str:
        tasks = self.pending_tasks()
        if not tasks:
            return "  (no unfinished tasks)"
        return "\n".join(f"  {await_chain(t)}" for t in tasks)

    def _raise_deadlock(self) -> None:
        raise SimDeadlock(
            f"deadlock at {us_to_iso(self._env.now)} (virtual): nothing is runnable and "
            f"nothing is scheduled (last asyncio activity at "
            f"{us_to_iso(self._last_activity_us)}). Every task waits on something that "
            f"nobody will complete:\n{self._all_waits()}"
        )

    def _raise_overrun(self) -> None:
        raise ShutdownOverrun(
            f"the run passed its hard stop at {us_to_iso(int(self._hard_stop_us))} (virtual: "
            f"horizon plus grace period) and these tasks had not finished:\n"
            f"{self._all_waits()}\nMake them exit on cancellation, or raise grace_s."
        )

    def _raise_busy_loop(self) -> None:
        raise BusyLoop(
            f"busy loop at {us_to_iso(self._env.now)} (virtual): {self._spin_limit:,} loop "
            f"iterations at one instant without time advancing (e.g. `while True: await "
            f"asyncio.sleep(0)`). Runnable and waiting tasks:\n{self._all_waits()}"
        )

    # ----------------------------------------------------------------- async generators
    def _asyncgen_firstiter_hook(self, agen):
        super()._asyncgen_firstiter_hook(agen)
        self._asyncgens_ordered.append(weakref.ref(agen))

    async def shutdown_asyncgens(self):
        """Close unfinished async generators in the order they started (stock asyncio uses a
        WeakSet, whose order is not reproducible)."""
        self._asyncgens_shutdown_called = True
        agens = [ref() for ref in self._asyncgens_ordered]
        self._asyncgens_ordered.clear()
        for agen in agens:
            if agen is not None and agen in self._asyncgens:
                self._asyncgens.discard(agen)
                try:
                    await agen.aclose()
                except Exception as exc:
                    self.call_exception_handler(
                        {"message": "an async generator raised while closing", "exception": exc}
                    )

    # ----------------------------------------------------------------- threads, signals, I/O
    def call_soon_threadsafe(self, callback, *args, context=None):
        if self._thread_id is not None and threading.get_ident() != self._thread_id:
            raise RealIOForbidden(
                f"{self.describe_now()}: call_soon_threadsafe() from another thread; a "
                "simulation has no other threads."
            )
        return self.call_soon(callback, *args, context=context)

    def add_signal_handler(self, sig, callback, *args):
        """Accepted so that a bot's shutdown wiring runs unchanged; a simulated process
        receives no signals, so it never fires."""
        self._signal_handlers[sig] = asyncio.Handle(callback, args, self, None)

    def remove_signal_handler(self, sig):
        return self._signal_handlers.pop(sig, None) is not None

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    for _name in (
        "create_connection",
        "create_server",
        "create_unix_connection",
        "create_unix_server",
        "create_datagram_endpoint",
        "connect_accepted_socket",
        "getaddrinfo",
        "getnameinfo",
        "sock_recv",
        "sock_recv_into",
        "sock_recvfrom",
        "sock_recvfrom_into",
        "sock_sendall",
        "sock_sendto",
        "sock_connect",
        "sock_accept",
        "sock_sendfile",
        "sendfile",
        "start_tls",
        "connect_read_pipe",
        "connect_write_pipe",
        "subprocess_shell",
        "subprocess_exec",
        "add_reader",
        "add_writer",
    ):
        locals()[_name] = _forbidden(_name)
    del _name

    def remove_reader(self, fd):
        return False

    def remove_writer(self, fd):
        return False
