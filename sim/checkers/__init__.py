"""Checkers: pure functions of a run's records (the trace) that judge what happened.

Each checker is ``check(records, params, ctx) -> Verdict``: ``records`` are the trace's
parsed lines in order (``sim/RECORDS.md``), ``params`` the scenario's expectations for it
(unknown names raise ``ValueError``), ``ctx`` a :class:`CheckContext` (the run's instants and
bounds). :data:`REGISTRY` maps each checker's name to its function; ``sim.checkers.run``
runs the ones a scenario names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sim.checkers import (
    belief_matches_truth,
    entries_on_time,
    errors_handled,
    loss_bounded,
    no_duplicate_stops,
    no_orphan_stops,
    rate_budget,
    stop_coverage,
    trailing_monotonic,
)
from sim.checkers.context import CheckContext
from sim.checkers.verdict import FAIL, PASS, UNKNOWN, Verdict

Checker = Callable[[list[dict[str, Any]], Mapping[str, Any], CheckContext], Verdict]

REGISTRY: dict[str, Checker] = {
    module.NAME: module.check
    for module in (
        stop_coverage,
        no_orphan_stops,
        belief_matches_truth,
        trailing_monotonic,
        loss_bounded,
        errors_handled,
        rate_budget,
        no_duplicate_stops,
        entries_on_time,
    )
}

__all__ = ["FAIL", "PASS", "REGISTRY", "UNKNOWN", "CheckContext", "Checker", "Verdict"]
