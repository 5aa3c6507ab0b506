"""Simulation: one deterministic run of an asyncio program on a simpy clock.

::

    sim = Simulation(seed=7, horizon_s=3600)
    sim.env.process(tape(sim.env, queue))      # the simulated world: simpy processes
    result = sim.run(bot.main())               # the program under test: plain asyncio

A run is a pure function of (program, seed, start time, horizon): inside it the loop is a
:class:`~sim.runtime.loop.SimLoop`, the wall clock reads virtual time, the process's entropy
reads seeded streams, and real sleeps, sockets and threads raise. All of it is undone when
:meth:`Simulation.run` returns or raises: outside a run nothing is patched.

Ending: ``main`` returns (``ended="completed"``) or is cancelled at the horizon
(``ended="horizon"``). Then every task still running is cancelled, in creation order, and
must finish within ``grace_s`` virtual seconds; otherwise :class:`ShutdownOverrun`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import simpy

from sim.runtime.entropy import EntropyPatch, Streams
from sim.runtime.errors import BotTaskCrashed, SimError
from sim.runtime.guards import BlockingCallGuard
from sim.runtime.loop import SimLoop
from sim.runtime.units import iso_to_us, s_to_us, us_to_iso
from sim.runtime.wallclock import VirtualWallClock
from sim.trace import Trace

DEFAULT_START_US = iso_to_us("2025-01-01T00:00:00Z")

_REAL = {"perf_counter": time.perf_counter}  # see loop.py: out of freezegun's reach
_active: list[Simulation] = []


@dataclass(frozen=True, slots=True)
class RunResult:
    value: Any
    ended: str  # "completed" (main returned) or "horizon" (main cancelled at the horizon)
    start_us: int
    end_us: int
    simpy_steps: int
    loop_iterations: int
    wall_s: float
    slow_instants: tuple[tuple[int, float], ...]

    @property
    def virtual_s(self) -> float:
        return (self.end_us - self.start_us) / 1e6


class Simulation:
    """One run. Build it, wire the simulated world to ``env``, then :meth:`run` once."""

    def __init__(
        self,
        *,
        horizon_s: float,
        seed: int | str = 0,
        start_us: int = DEFAULT_START_US,
        grace_s: float = 60.0,
        wallclock: bool = True,
        strict: bool = True,
        spin_limit: int = 1_000_000,
        stall_after_s: float | None = None,
    ) -> None:
        if horizon_s <= 0:
            raise ValueError(f"horizon_s must be > 0 (virtual seconds), got {horizon_s!r}")
        if grace_s < 0:
            raise ValueError(f"grace_s must be >= 0 (virtual seconds), got {grace_s!r}")
        self.start_us = start_us
        self.horizon_us = start_us + s_to_us(horizon_s)
        self.grace_us = s_to_us(grace_s)
        self.env = simpy.Environment(initial_time=start_us)
        self.loop = SimLoop(
            self.env, spin_limit=spin_limit, stall_after_s=stall_after_s, strict=strict
        )
        self.streams = Streams(seed)
        self.trace = Trace(clock_us=lambda: self.env.now)
        self._wallclock = wallclock
        self._strict = strict
        self._ended = "completed"
        self._used = False

    @property
    def now_us(self) -> int:
        return self.env.now

    def run(self, main: Coroutine[Any, Any, Any]) -> RunResult:
        """Run ``main`` to completion or to the horizon; returns a :class:`RunResult`.

        Raises what ``main`` raises, or a :class:`SimError` when the run cannot go on.
        """
        if not asyncio.iscoroutine(main):
            raise TypeError(
                f"run() takes a coroutine object (call your async function), "
                f"got {type(main).__name__}"
            )
        if self._used:
            main.close()
            raise RuntimeError("a Simulation runs once; build a new one for the next run")
        if _active or asyncio.events._get_running_loop() is not None:
            main.close()
            raise RuntimeError(
                "Simulation.run() cannot be nested in another run or called "
                "from a running event loop"
            )
        self._used = True
        loop = self.loop
        wall_started = _REAL["perf_counter"]()
        clock = VirtualWallClock(lambda: self.env.now) if self._wallclock else None
        _active.append(self)
        try:
            with contextlib.ExitStack() as stack:
                if clock is not None:
                    # First: freezegun's module scan can trigger lazy imports (e.g.
                    # concurrent.futures -> multiprocessing draws os.urandom); they must not
                    # consume the run's seeded entropy, or a run would depend on what the
                    # process imported before it.
                    clock.start()
                    stack.callback(clock.stop)
                stack.enter_context(EntropyPatch(self.streams))
                stack.enter_context(BlockingCallGuard(loop.describe_now))
                try:
                    value = self._drive(main)
                except BaseException:
                    self._abandon_tasks()
                    raise
        finally:
            _active.remove(self)
            loop.close()
        return RunResult(
            value=value,
            ended=self._ended,
            start_us=self.start_us,
            end_us=self.env.now,
            simpy_steps=loop.simpy_steps,
            loop_iterations=loop.iterations,
            wall_s=_REAL["perf_counter"]() - wall_started,
            slow_instants=tuple(loop.slow_instants),
        )

    def _drive(self, main: Coroutine[Any, Any, Any]) -> Any:
        loop = self.loop
        main_task = loop.create_task(main, name="main")

        def at_horizon() -> None:
            if not main_task.done():
                self._ended = "horizon"
                main_task.cancel(msg=f"futsim: horizon reached at {us_to_iso(self.env.now)}")

        loop.schedule_horizon(self.horizon_us, at_horizon)
        loop.set_hard_stop(self.horizon_us + self.grace_us)
        try:
            value = loop.run_until_complete(main_task)
        except asyncio.CancelledError:
            if self._ended != "horizon":
                raise
            value = None
        except SimError:
            raise
        except BaseException:
            self._finish_leftovers()
            raise
        self._finish_leftovers()
        return value

    def _abandon_tasks(self) -> None:
        """The run failed: close what is left now, deterministically and still in virtual
        time, instead of leaving it to the garbage collector after the loop has closed."""
        for task in self.loop.pending_tasks():
            task._log_destroy_pending = False  # the run's error already says why
            try:
                task.get_coro().close()
            except (RuntimeError, SimError):
                pass  # e.g. "coroutine ignored GeneratorExit": nothing more can be done

    def _finish_leftovers(self) -> None:
        """Cancel what is still running, in creation order, and let it finish in grace."""
        loop = self.loop
        loop.set_hard_stop(min(loop._hard_stop_us, self.env.now + self.grace_us))
        while pending := loop.pending_tasks():
            for task in pending:
                task.cancel(msg="futsim: run ending")
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            for task in pending:
                if self._strict and not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    raise BotTaskCrashed(
                        f"task {task.get_name()} raised {type(exc).__name__}: {exc} while "
                        f"being cancelled at the end of the run ({us_to_iso(self.env.now)})"
                    ) from exc
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.check_health()
