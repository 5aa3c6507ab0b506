"""What a checker knows about a run besides its records: the run's instants and a few bounds.

Invariant: everything here comes from the scenario (or the runner), never from the records,
so a checker cannot be fooled by a trace that lies about its own phases. The runner builds
one :class:`CheckContext` per run; tests may build one with :meth:`CheckContext.spanning`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class CheckContext:
    start_ms: int
    """The run's first virtual instant (epoch ms). A symbol counts as flat since then."""
    end_ms: int
    """The run's last virtual instant (epoch ms). Windows still open then end here."""
    heal_ms: int
    """The instant every fault has healed (epoch ms); ``start_ms`` for a run without faults."""
    converge_ms: int
    """``heal_ms`` plus the scenario's convergence bound: from here on the bot's belief must
    equal the exchange's truth (``belief_matches_truth``)."""
    entry_window_ms: int = 2000
    """How long the first naked window of a new position may last before it counts
    (``stop_coverage``); a checker's ``entry_window_ms`` parameter overrides it."""
    symbols: tuple[str, ...] = ()
    """The symbols the bot trades; empty: whatever symbols the records mention."""
    initial_stop_pct: Decimal | None = None
    """The bot's initial stop distance in percent of the entry price (``loss_bounded`` uses
    it when its ``stop_pct`` parameter is not given)."""
    entries: tuple[tuple[int, str], ...] = ()
    """The scenario's scheduled entries, ``(at_ms, symbol)`` (``entries_on_time``)."""

    def __post_init__(self) -> None:
        for name in ("start_ms", "end_ms", "heal_ms", "converge_ms", "entry_window_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"CheckContext.{name}: expected an int (ms), got {value!r}")
        if not self.start_ms <= self.heal_ms <= self.converge_ms:
            raise ValueError(
                "CheckContext: expected start_ms <= heal_ms <= converge_ms, got "
                f"{self.start_ms}, {self.heal_ms}, {self.converge_ms}"
            )
        if self.end_ms < self.start_ms:
            raise ValueError(
                f"CheckContext: end_ms {self.end_ms} is before start_ms {self.start_ms}"
            )
        if self.entry_window_ms < 0:
            raise ValueError(
                f"CheckContext.entry_window_ms must be >= 0, got {self.entry_window_ms}"
            )
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "entries", tuple((int(t), str(s)) for t, s in self.entries))
        if self.initial_stop_pct is not None and not isinstance(self.initial_stop_pct, Decimal):
            try:
                pct = Decimal(str(self.initial_stop_pct))
            except InvalidOperation:
                raise ValueError(
                    f"CheckContext.initial_stop_pct: expected a number, got "
                    f"{self.initial_stop_pct!r}"
                ) from None
            object.__setattr__(self, "initial_stop_pct", pct)

    @classmethod
    def spanning(cls, records: Iterable[Mapping[str, Any]], **fields: Any) -> CheckContext:
        """A context for a run without faults: start and end from the first and last record,
        healed at the start, converged ``fields.get("converge_ms")`` or at the start. Any
        field may be given explicitly."""
        times = [int(r["t_ms"]) for r in records]
        start = fields.pop("start_ms", times[0] if times else 0)
        end = fields.pop("end_ms", times[-1] if times else start)
        heal = fields.pop("heal_ms", start)
        converge = fields.pop("converge_ms", heal)
        return cls(start_ms=start, end_ms=end, heal_ms=heal, converge_ms=converge, **fields)
