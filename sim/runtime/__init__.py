"""The virtual-time runtime: unmodified asyncio code on a simpy clock, deterministically.

Public surface: :class:`Simulation` (one run), :class:`RunResult`, the errors, the unit
helpers, :class:`Streams`. The design and its pitfalls: ``../shared/reference/virtual-time.md``.
"""

from sim.runtime.entropy import Streams
from sim.runtime.errors import (
    BotTaskCrashed,
    BusyLoop,
    RealIOForbidden,
    ShutdownOverrun,
    SimDeadlock,
    SimError,
    SimStuck,
    Stall,
)
from sim.runtime.loop import SimLoop
from sim.runtime.simulation import DEFAULT_START_US, RunResult, Simulation
from sim.runtime.tasks import label_future

__all__ = [
    "DEFAULT_START_US",
    "BotTaskCrashed",
    "BusyLoop",
    "RealIOForbidden",
    "RunResult",
    "ShutdownOverrun",
    "SimDeadlock",
    "SimError",
    "SimLoop",
    "SimStuck",
    "Simulation",
    "Stall",
    "Streams",
    "label_future",
]
