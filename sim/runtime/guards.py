"""Blocking-call guards: inside a run, the ways out of virtual time raise at once.

A real ``time.sleep`` would stall wall time while virtual time stands still; a real socket
would wait on the outside world; a real thread would race with the scheduler. The loop itself
refuses real I/O (:mod:`sim.runtime.loop`); these patches catch the same things when code
reaches for the ``socket``, ``time`` and ``threading`` modules directly. Each error names the
virtual time and the task, and says where such code belongs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sim.runtime.errors import RealIOForbidden

_INHERITED = object()


class BlockingCallGuard:
    """Context manager; ``describe_now()`` gives the "at <virtual time>, in task <t>" part."""

    _TARGETS: tuple[tuple[Any, str, str], ...] = (
        (time, "sleep", "use `await asyncio.sleep(...)`, which runs in virtual time"),
        (socket, "getaddrinfo", "exchange calls go through the simulated transport"),
        (socket, "create_connection", "exchange calls go through the simulated transport"),
        (socket.socket, "connect", "exchange calls go through the simulated transport"),
        (socket.socket, "connect_ex", "exchange calls go through the simulated transport"),
        (threading.Thread, "start", "use `asyncio.to_thread`, which the simulator runs inline"),
    )

    def __init__(self, describe_now: Callable[[], str]) -> None:
        self._describe_now = describe_now
        self._saved: list[tuple[Any, str, Any]] = []

    def _guard(self, owner: Any, name: str, hint: str) -> Callable[..., Any]:
        qualified = f"{getattr(owner, '__name__', owner)}.{name}"
        describe_now = self._describe_now

        def guarded(*args: Any, **kwargs: Any) -> Any:
            raise RealIOForbidden(
                f"{describe_now()}: {qualified}() is forbidden inside a simulation; {hint}."
            )

        return guarded

    def __enter__(self) -> BlockingCallGuard:
        for owner, name, hint in self._TARGETS:
            # socket.socket inherits connect() from _socket.socket: nothing of its own to save
            self._saved.append((owner, name, owner.__dict__.get(name, _INHERITED)))
            setattr(owner, name, self._guard(owner, name, hint))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for owner, name, original in reversed(self._saved):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._saved.clear()
