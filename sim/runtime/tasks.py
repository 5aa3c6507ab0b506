"""Tasks and futures with deterministic identity, and where-is-it-waiting descriptions.

Invariant: nothing about a task or future that can reach behaviour depends on its memory
address. Stock asyncio hashes tasks and futures by ``id()``, and asyncio itself iterates sets
of them (``asyncio.wait``'s done set, ``TaskGroup`` cancellation, ``all_tasks``), so their
order changed from run to run (``../shared/reference/virtual-time.md`` §8.2). Here both hash by
their creation number within the loop, and tasks are named ``t<n>`` by the loop, not by
asyncio's process-wide counter.
"""

from __future__ import annotations

import asyncio
import os

from sim.runtime.units import us_to_iso


class SimFuture(asyncio.Future):
    """A future hashed by creation number. ``_sim_label`` names what it stands for
    (e.g. ``"REST POST /fapi/v1/order"``) in deadlock and stall reports; ``_sim_wakes_us``
    is set when a timer will complete it (a sleep, a ``wait_for`` bound)."""

    __slots__ = ("_sim_label", "_sim_seq", "_sim_wakes_us")

    def __hash__(self) -> int:
        return self._sim_seq


class SimTask(asyncio.Task):
    """A task hashed by creation number."""

    __slots__ = ("_sim_seq",)

    def __hash__(self) -> int:
        return self._sim_seq


def creation_order(task: asyncio.Future) -> tuple[int, str]:
    """Sort key: creation number first; tasks made by ``asyncio.Task(...)`` directly (which
    bypasses the loop) have none and sort after, by name."""
    seq = getattr(task, "_sim_seq", None)
    if seq is None:
        name = task.get_name() if isinstance(task, asyncio.Task) else ""
        return (1 << 62, name)
    return (seq, "")


def label_future(fut: asyncio.Future, label: str) -> None:
    """Attach a human label to a future created by the simulated world, for reports."""
    if isinstance(fut, SimFuture):
        fut._sim_label = label


def describe_awaitable(waiter: object) -> str:
    if waiter is None:
        return "nothing (runnable)"
    if isinstance(waiter, asyncio.Task):
        return f"task {waiter.get_name()}"
    label = getattr(waiter, "_sim_label", None)
    wakes_us = getattr(waiter, "_sim_wakes_us", None)
    if label:
        return label
    if wakes_us is not None:
        return f"a timer due at {us_to_iso(wakes_us)}"
    return "a future nobody has resolved"


def await_chain(task: asyncio.Task) -> str:
    """``t2 (main.<locals>.stuck@bot.py:25 -> Queue.get@queues.py:158) awaiting <what>``.

    Built from code objects and line numbers only: no reprs, no addresses.
    """
    frames: list[str] = []
    coro = task.get_coro()
    while coro is not None:
        frame = (
            getattr(coro, "cr_frame", None)
            or getattr(coro, "gi_frame", None)
            or getattr(coro, "ag_frame", None)
        )
        if frame is None:
            break
        filename = os.path.basename(frame.f_code.co_filename)
        frames.append(f"{getattr(coro, '__qualname__', '?')}@{filename}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    where = " -> ".join(frames) if frames else "not started"
    return f"{task.get_name()} ({where}) awaiting {describe_awaitable(task._fut_waiter)}"
