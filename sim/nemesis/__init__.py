"""The nemesis: faults as data (``sim.scenario.model.Fault``), turned into effects on the
links, the venue's answers and the bot's process, each with a heal (DESIGN.md, principle 4).

::

    nemesis = Nemesis(sim, venue, session, process, scenario.faults,
                      start_ms=scenario.start_ms, heal_at_ms=scenario.phases.heal_at_ms)
    nemesis.arm()

Modules: :mod:`~sim.nemesis.params` (param specs and checks), :mod:`~sim.nemesis.base`
(:class:`FaultEffect`, :class:`World`), one module per channel (:mod:`~sim.nemesis.rest`,
:mod:`~sim.nemesis.stream`, :mod:`~sim.nemesis.venue`, :mod:`~sim.nemesis.process`),
:mod:`~sim.nemesis.catalogue` (kind → class, :func:`validate_params`) and
:mod:`~sim.nemesis.schedule` (:class:`Nemesis`).
"""

from sim.nemesis.base import FaultEffect, World
from sim.nemesis.catalogue import (
    FAULTS,
    fault_class,
    is_instantaneous,
    params_of,
    validate_params,
)
from sim.nemesis.params import USER_EVENTS, FaultParamError, Param, canonical
from sim.nemesis.schedule import Nemesis, check_fault_times

__all__ = [
    "FAULTS",
    "USER_EVENTS",
    "FaultEffect",
    "FaultParamError",
    "Nemesis",
    "Param",
    "World",
    "canonical",
    "check_fault_times",
    "fault_class",
    "is_instantaneous",
    "params_of",
    "validate_params",
]
