"""The fault catalogue: kind → class, and the params check the scenario loader calls.

Every kind of ``sim.scenario.model.FAULT_KINDS`` has exactly one class here (a test keeps
them in step). ``validate_params(kind, params)`` is the whole contract with the loader: it
returns the params completed with defaults, or raises :class:`FaultParamError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.nemesis.base import FaultEffect
from sim.nemesis.params import FaultParamError, Param
from sim.nemesis.process import BotCrashed, RepositoryWriteLag
from sim.nemesis.rest import (
    OrderForced2021,
    RestErrorBurst,
    RestLatency,
    RestPositionOmitted,
    RestResponseDropped,
    RestUnknownOutcome,
)
from sim.nemesis.stream import (
    StreamDisconnected,
    UserStreamDelayed,
    UserStreamDropped,
    UserStreamDuplicated,
    UserStreamHeld,
)
from sim.nemesis.venue import AlgoStuckTriggering, ListenKeyExpired
from sim.scenario.model import FAULT_KINDS

FAULTS: dict[str, type[FaultEffect]] = {
    cls.kind: cls
    for cls in (
        RestLatency,
        RestResponseDropped,
        RestErrorBurst,
        RestUnknownOutcome,
        RestPositionOmitted,
        UserStreamDelayed,
        UserStreamDropped,
        UserStreamDuplicated,
        UserStreamHeld,
        StreamDisconnected,
        ListenKeyExpired,
        OrderForced2021,
        AlgoStuckTriggering,
        BotCrashed,
        RepositoryWriteLag,
    )
}


def fault_class(kind: str) -> type[FaultEffect]:
    cls = FAULTS.get(kind)
    if cls is None:
        raise FaultParamError(
            kind, None, f"unknown fault kind. Fix: use one of {', '.join(FAULT_KINDS)}"
        )
    return cls


def params_of(kind: str) -> Mapping[str, Param]:
    """The PARAMS spec of ``kind`` (name → :class:`Param`, with defaults)."""
    return fault_class(kind).PARAMS


def validate_params(kind: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` completed with defaults and normalised, or :class:`FaultParamError`
    naming the kind, the param, what was expected and the fix."""
    return fault_class(kind).normalize(params)


def is_instantaneous(kind: str) -> bool:
    """True for faults that start and stop at one instant (no ``until``)."""
    return fault_class(kind).INSTANT
