"""What every fault is: a small object built from a :class:`~sim.scenario.model.Fault`, with
``start()`` (take effect) and ``heal()`` (undo it), acting on the world of one run.

A fault never touches the exchange model's rules (DESIGN.md, principle 4): it acts on the
links (``session``), on what the venue answers (``venue.interceptors``), on venue behaviours
the model exposes for this purpose (``hold_triggers``, ``expire_listen_key``), or on the
bot's process. Each kind declares ``PARAMS`` (its data) and is checked at construction, so a
bad schedule fails before the run starts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from sim.nemesis.params import FaultParamError, Param, check_params
from sim.scenario.model import Fault

if TYPE_CHECKING:
    from sim.botrun import BotProcess
    from sim.runtime import Simulation
    from sim.transport.session import SimSession
    from sim.venue import FakeBinance


@dataclass(slots=True)
class World:
    """What faults act on. ``process`` is None when no bot runs (venue-only runs);
    ``start_ms`` is the run's start and ``heal_at_ms`` the instant every fault heals by
    (both epoch ms; fault times are offsets from ``start_ms``). ``shared`` holds state that
    overlapping faults of one kind must agree on (who still holds a symbol's triggers, which
    write lags are active), keyed by the fault kind."""

    sim: Simulation
    venue: FakeBinance
    session: SimSession
    process: BotProcess | None
    start_ms: int
    heal_at_ms: int
    shared: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def now_ms(self) -> int:
        return self.sim.env.now // 1000

    def rng(self, index: int) -> random.Random:
        """The fault's own seeded stream: its draws never shift anyone else's."""
        return self.sim.streams[f"faults:{index}"]

    def state(self, kind: str) -> dict[Any, Any]:
        return self.shared.setdefault(kind, {})


class Quota:
    """How many more times a fault acts: ``count`` = 0 means every time while active, else
    the first ``count`` matches (over every link or request the fault sees)."""

    def __init__(self, count: int) -> None:
        self.left = count if count > 0 else None
        self.used = 0

    def take(self) -> bool:
        """True (and one used) if the fault still acts on this match."""
        if self.left is not None:
            if self.left == 0:
                return False
            self.left -= 1
        self.used += 1
        return True


class FaultEffect:
    """Base of every fault kind. Subclasses set ``kind``, ``PARAMS``, ``INSTANT`` (start and
    stop at the same instant; ``heal`` is then a no-op) and implement :meth:`start` /
    :meth:`heal`. ``check`` validates params that depend on each other; ``bind`` checks
    them against the world (a symbol the venue lists, a bot process to crash)."""

    kind: ClassVar[str]
    PARAMS: ClassVar[Mapping[str, Param]] = {}
    INSTANT: ClassVar[bool] = False

    def __init__(self, fault: Fault, world: World) -> None:
        if fault.kind != self.kind:
            raise ValueError(f"{type(self).__name__} is fault {self.kind!r}, not {fault.kind!r}")
        self.fault = fault
        self.index = fault.index
        self.world = world
        #: when it takes effect and when it heals (epoch ms; equal for an instantaneous one)
        self.starts_ms = world.start_ms + fault.at_ms
        if self.INSTANT:
            self.heals_ms = self.starts_ms
        elif fault.until_ms is not None:
            self.heals_ms = world.start_ms + fault.until_ms
        else:
            self.heals_ms = world.heal_at_ms
        self.params = self.normalize(fault.params)
        self.bind()

    @classmethod
    def normalize(cls, params: Any) -> dict[str, Any]:
        values = check_params(cls.kind, cls.PARAMS, params)
        cls.check(values)
        return values

    @classmethod
    def check(cls, values: dict[str, Any]) -> None:
        """Cross-param rules; raise :class:`FaultParamError`."""

    def bind(self) -> None:
        """World checks at construction; raise :class:`FaultParamError` or ``ValueError``."""

    def start(self) -> None:
        raise NotImplementedError

    def heal(self) -> None:
        """Undo :meth:`start` (idempotent)."""

    # ------------------------------------------------------------------ helpers
    def error(self, param: str | None, message: str) -> FaultParamError:
        return FaultParamError(self.kind, param, message)

    def require_process(self) -> BotProcess:
        if self.world.process is None:
            raise self.error(
                None,
                "needs the bot's process, and this run has none. Fix: build the Nemesis "
                "with process=BotProcess() and run the bot with sim.botrun.run_bot(spec, "
                "process)",
            )
        return self.world.process

    def require_symbol(self, param: str = "symbol") -> str:
        symbol = self.params[param]
        listed = self.world.venue.exchange.specs
        if symbol not in listed:
            raise self.error(
                param,
                f"the venue does not list {symbol!r}. Fix: use one of "
                f"{', '.join(sorted(listed))}, or add it to the scenario's exchange symbols",
            )
        return symbol

    def __repr__(self) -> str:
        return f"{type(self).__name__}(index={self.index}, params={self.params})"
