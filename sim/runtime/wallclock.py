"""The wall clock inside a run reads virtual time; outside a run nothing is patched.

freezegun (1.5.5) is started once per run (``../shared/reference/virtual-time.md`` §5): it
patches ``time.*``, ``datetime.datetime``, ``datetime.date`` and every module-level alias of
them. Then three refinements:

* freezegun's ignore list is cleared for the run (and restored after): with it, every clock
  read walks the call stack;
* freezegun's frozen instant is replaced by a reader of the run's clock, so the wall clock
  follows virtual time *without any work when time moves*: moving it on every advance cost
  ~14 % of a tick-heavy run (bench/). The datetime is built on first read at each instant;
* ``time.time``, ``time.time_ns``, ``time.monotonic(_ns)`` and ``time.perf_counter(_ns)`` are
  exact readers of the integer-microsecond clock. freezegun derives ``time_ns()`` from a float
  (``int(time() * 1e9)``), which lands 1 ns *before* an exact millisecond about half the
  time, so ccxt's ``milliseconds()`` (``time_ns() // 10**6``) would stamp requests 1 ms
  early. Module-level aliases (``from time import time``) keep freezegun's float-derived
  readers, which agree to within a float ulp.

Never use ``real_asyncio=True``: the loop's clock is simpy's and reads no ``time`` function.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import time
from collections.abc import Callable, Iterator

import freezegun
import freezegun.api
import freezegun.config

from sim.runtime.units import US_PER_S

_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """While freezegun swaps module-level clock aliases (``from time import perf_counter``
    in any loaded module, Hypothesis' included), a gc callback could read an alias that is
    already fake while freezegun has no frozen instant yet (or any more): IndexError in the
    callback. Found when Hypothesis drove runs: its gc callback times collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _VirtualInstant:
    """Stands where freezegun keeps its frozen datetime: ``()`` gives the current virtual
    instant as a naive UTC datetime, rebuilt only when the instant has changed."""

    def __init__(self, now_us: Callable[[], int]) -> None:
        self._now_us = now_us
        self._at_us = -1
        self._at = _NAIVE_EPOCH

    def __call__(self) -> _dt.datetime:
        now_us = self._now_us()
        if now_us != self._at_us:
            self._at = _NAIVE_EPOCH + _dt.timedelta(microseconds=now_us)
            self._at_us = now_us
        return self._at


class VirtualWallClock:
    """Between :meth:`start` and :meth:`stop`, every wall clock reads ``now_us()``."""

    def __init__(self, now_us: Callable[[], int]) -> None:
        self._now_us = now_us
        self._freezer: freezegun.api._freeze_time | None = None
        self._saved_ignore: list[str] = []

    @property
    def active(self) -> bool:
        return self._freezer is not None

    def start(self) -> None:
        if freezegun.api.freeze_factories:
            raise RuntimeError(
                "freezegun is already active (a freeze_time() around the run?); a futsim run "
                "owns the wall clock. Remove the outer freeze_time."
            )
        self._saved_ignore = list(freezegun.config.settings.default_ignore_list)
        freezegun.configure(default_ignore_list=[])
        instant = _VirtualInstant(self._now_us)
        try:
            with _no_gc():
                self._freezer = freezegun.freeze_time(instant())
                self._freezer.start()
        except BaseException:
            self._freezer = None
            freezegun.configure(default_ignore_list=self._saved_ignore)
            raise
        freezegun.api.freeze_factories[-1] = instant
        self._install_exact_readers()

    def _install_exact_readers(self) -> None:
        now_us = self._now_us

        def fake_time() -> float:
            return now_us() / US_PER_S

        def fake_time_ns() -> int:
            return now_us() * 1_000

        # freezegun.stop() restores every one of these to the real function.
        time.time = time.monotonic = time.perf_counter = fake_time
        time.time_ns = time.monotonic_ns = time.perf_counter_ns = fake_time_ns

    def stop(self) -> None:
        if self._freezer is None:
            return
        try:
            with _no_gc():
                self._freezer.stop()
        finally:
            self._freezer = None
            freezegun.configure(default_ignore_list=self._saved_ignore)
