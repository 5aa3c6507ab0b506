"""Faults on the bot's process (``sim.botrun.BotProcess``): a crash with a restart, and a
database whose writes land late. The repository survives a crash; memory and writes still
in flight do not.
"""

from __future__ import annotations

from typing import ClassVar

from sim.nemesis.base import FaultEffect
from sim.nemesis.params import Param


class BotCrashed(FaultEffect):
    """The bot's process dies now; a new life starts ``restart_after_ms`` later (new
    memory, new ccxt, the same repository file). Instantaneous."""

    kind = "bot_crashed"
    INSTANT = True
    PARAMS: ClassVar = {
        "restart_after_ms": Param("ms", 1000, "how long the process stays down"),
    }

    def bind(self) -> None:
        self.require_process()

    def start(self) -> None:
        self.require_process().crash(self.params["restart_after_ms"])


class RepositoryWriteLag(FaultEffect):
    """The bot's database writes land ``delay_ms`` after they are made (reads see only what
    has landed; a crash loses the rest). Heal: new writes land at once (writes already
    lagging still land late). Overlapping lags: the largest active one applies."""

    kind = "repository_write_lag"
    PARAMS: ClassVar = {
        "delay_ms": Param("ms", help="how late each write lands"),
    }

    def bind(self) -> None:
        self.require_process()

    def _apply(self) -> None:
        lags = self.world.state(self.kind)
        self.require_process().set_write_lag(max(lags.values(), default=0))

    def start(self) -> None:
        self.world.state(self.kind)[self.index] = self.params["delay_ms"]
        self._apply()

    def heal(self) -> None:
        if self.world.state(self.kind).pop(self.index, None) is not None:
            self._apply()
