"""Run the checkers a scenario names over a run's records.

Invariant: a checker name or parameter the catalogue does not know is an error, never
silently skipped — a typo in a scenario must not turn a check off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.checkers import REGISTRY
from sim.checkers.context import CheckContext
from sim.checkers.verdict import Verdict


def run_checkers(
    records: list[dict[str, Any]],
    expectations: Mapping[str, Mapping[str, Any] | None],
    ctx: CheckContext,
) -> list[Verdict]:
    """One verdict per named checker, in the order of ``expectations`` (name → params)."""
    unknown = [name for name in expectations if name not in REGISTRY]
    if unknown:
        raise ValueError(
            f"unknown checker {unknown[0]!r}; known checkers: {', '.join(sorted(REGISTRY))}"
        )
    records = list(records)
    return [REGISTRY[name](records, params or {}, ctx) for name, params in expectations.items()]
