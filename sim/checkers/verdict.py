"""What a checker returns: pass, fail or unknown, with the evidence that decided it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    checker: str
    status: str  # "pass" | "fail" | "unknown"
    summary: str  # one line a person reads first
    # each item: {"t_ms": int, "until_ms": int (optional), "symbol": str (optional),
    #             "what": str, ...}: a time window and the records that show it
    evidence: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    metrics: dict[str, int | str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checker": self.checker,
            "status": self.status,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "metrics": dict(self.metrics),
        }
