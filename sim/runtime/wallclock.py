"""The wall clock inside a run reads virtual time; outside a run nothing is patched.

freezegun (1.5.5) is started once per run and moved forward only when virtual time moves
(``../shared/reference/virtual-time.md`` §5): it patches ``time.*``, ``datetime.datetime``,
``datetime.date`` and every module-level alias of them. Two refinements:

* freezegun's ignore list is cleared for the run (and restored after): with it, every clock
  read walks the call stack;
* ``time.time``, ``time.time_ns``, ``time.monotonic(_ns)`` and ``time.perf_counter(_ns)`` are
  then replaced by exact readers of the integer-microsecond clock. freezegun derives
  ``time_ns()`` from a float (``int(time() * 1e9)``), which lands 1 ns *before* an exact
  millisecond about half the time, so ccxt's ``milliseconds()`` (``time_ns() // 10**6``)
  would stamp requests 1 ms early. Module-level aliases (``from time import time``) keep
  freezegun's float-derived readers, which agree to within a float ulp.

Never use ``real_asyncio=True``: the loop's clock is simpy's and reads no ``time`` function.
"""

from __future__ import annotations

import datetime as _dt
import time

import freezegun
import freezegun.api
import freezegun.config

from sim.runtime.units import US_PER_S, us_to_datetime

_CLOCK_NAMES = ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")


class VirtualWallClock:
    """Started with :meth:`start` at the run's first instant; :meth:`advance` on each move."""

    def __init__(self, start_us: int) -> None:
        self._now_us = start_us
        self._freezer: freezegun.api._freeze_time | None = None
        self._factory = None
        self._saved_ignore: list[str] | None = None

    @property
    def active(self) -> bool:
        return self._freezer is not None

    def start(self) -> None:
        if freezegun.api.freeze_factories:
            raise RuntimeError(
                "freezegun is already active (a freeze_time() outside the run?); a futsim run "
                "owns the wall clock. Remove the outer freeze_time."
            )
        self._saved_ignore = list(freezegun.config.settings.default_ignore_list)
        freezegun.configure(default_ignore_list=[])
        try:
            naive_utc = us_to_datetime(self._now_us).replace(tzinfo=None)
            self._freezer = freezegun.freeze_time(naive_utc)
            self._factory = self._freezer.start()
        except BaseException:
            self._freezer = None
            freezegun.configure(default_ignore_list=self._saved_ignore)
            raise
        self._install_exact_readers()

    def _install_exact_readers(self) -> None:
        clock = self

        def fake_time() -> float:
            return clock._now_us / US_PER_S

        def fake_time_ns() -> int:
            return clock._now_us * 1_000

        readers = {
            "time": fake_time,
            "time_ns": fake_time_ns,
            "monotonic": fake_time,
            "monotonic_ns": fake_time_ns,
            "perf_counter": fake_time,
            "perf_counter_ns": fake_time_ns,
        }
        for name in _CLOCK_NAMES:  # freezegun.stop() restores every one of these
            setattr(time, name, readers[name])

    def advance(self, t_us: int) -> None:
        """Move the wall clock to ``t_us`` (never backwards)."""
        delta_us = t_us - self._now_us
        if delta_us <= 0:
            return
        self._now_us = t_us
        if self._factory is not None:
            self._factory.tick(_dt.timedelta(microseconds=delta_us))

    def stop(self) -> None:
        if self._freezer is None:
            return
        try:
            self._freezer.stop()
        finally:
            self._freezer = None
            self._factory = None
            freezegun.configure(default_ignore_list=self._saved_ignore)
