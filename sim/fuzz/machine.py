"""The stateful test: a Hypothesis ``RuleBasedStateMachine`` that builds a world step by step.

Rules advance virtual time, move a price, inject and heal faults, open positions and
restart the bot; the invariants are the safety checkers, judged after every step on the
history so far; at the end (``teardown``) every fault heals, the bot gets its convergence
time, and all checkers judge the whole run: safety, then liveness (TigerBeetle's VOPR).

How "the history so far" is produced: a run is a pure function of its program, so the
program up to the cursor (entries and fault starts before it; unhealed faults heal at it)
is run from the start. Its records before the cursor are the longer run's records before
the cursor, record for record (``tests/fuzz/test_machine.py`` checks this), so a safety
violation seen at a step is a violation of the final run too. Replaying the prefix costs
time quadratic in the number of steps; programs stay short (``MAX_MS``).

Use it in a test::

    TestReference = machine_for("reference").TestCase

or ``machine_for("cancel-then-create")`` to watch it find that variant. A failing machine
leaves its last failing program in ``failures`` (a list on the class), which
``sim.fuzz.campaign.file_find`` writes out as a scenario.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from sim.checkers.verdict import FAIL
from sim.fuzz import strategies as fs
from sim.fuzz.campaign import failing_checkers, run_program
from sim.fuzz.program import STEP_MS, Jump, PricePath, Program
from sim.scenario.model import FAULT_KINDS, EntrySpec, Fault

MAX_MS = 90_000  # virtual time a machine may advance to
SAFETY = ("stop_coverage", "trailing_monotonic", "no_duplicate_stops", "loss_bounded")
TIMED_KINDS = tuple(k for k in FAULT_KINDS if k not in (*fs.INSTANT_KINDS, "bot_crashed"))


class FuzzMachine(RuleBasedStateMachine):
    """Subclass with ``variant`` set (see :func:`machine_for`)."""

    variant: ClassVar[str] = "reference"
    symbols: ClassVar[tuple[str, ...]] = ("SOONUSDT", "XRPUSDT")
    failures: ClassVar[list[tuple[Program, tuple[str, ...], str]]]

    def __init__(self) -> None:
        super().__init__()
        self.cursor_ms = 0
        self.paths: dict[str, PricePath] = {}
        self.entries: list[EntrySpec] = []
        self.faults: list[Fault] = []  # until_ms None while active
        self.config: dict[str, dict[str, Any]] = {}
        self.enabled: tuple[str, ...] = ()
        self.safety_failures: tuple[str, ...] = ()
        self.summary = ""

    # ------------------------------------------------------------------ the world
    @initialize(
        data=st.data(),
        config=fs.bot_configs(),
        enabled=st.lists(st.sampled_from(TIMED_KINDS), min_size=1, unique=True),
    )
    def world(self, data, config, enabled) -> None:
        for symbol in self.symbols:
            path = data.draw(fs.price_paths(symbol, duration_ms=MAX_MS + 40_000), label=symbol)
            self.paths[symbol] = PricePath(
                symbol, path.start, path.tick, path.seed, path.drift_bps, path.vol_bps
            )  # jumps come from the move_price rule
        self.config = config
        self.enabled = tuple(k for k in TIMED_KINDS if k in enabled)  # swarm: this run's mix

    # ------------------------------------------------------------------ rules
    @precondition(lambda self: self.cursor_ms < MAX_MS)
    @rule(step_ms=st.sampled_from((1000, 2000, 5000, 10_000, 20_000)))
    def advance_time(self, step_ms: int) -> None:
        self.cursor_ms = min(MAX_MS, self.cursor_ms + step_ms)
        report = run_program(self.program(prefix=True), self.variant)
        failing = failing_checkers(report)
        self.safety_failures = tuple(c for c in failing if c in SAFETY or c == "run error")
        self.summary = next(
            (v.summary for v in report.verdicts if v.status == FAIL and v.checker in SAFETY),
            report.error,
        )

    @rule(symbol=st.sampled_from(symbols), bps=st.integers(-300, 300).filter(bool))
    def move_price(self, symbol: str, bps: int) -> None:
        path = self.paths[symbol]
        at_ms = self.cursor_ms + STEP_MS  # the next tape point: the past stays as it was
        self.paths[symbol] = PricePath(
            path.symbol,
            path.start,
            path.tick,
            path.seed,
            path.drift_bps,
            path.vol_bps,
            jumps=(*path.jumps, Jump(at_ms, bps)),
        )

    @rule(data=st.data())
    def inject_fault(self, data) -> None:
        kind = data.draw(st.sampled_from(self.enabled), label="kind")
        params = data.draw(fs.fault_params(kind, self.symbols), label="params")
        self.faults.append(Fault(kind, self.cursor_ms, None, fs._normalized(kind, params)))

    @precondition(lambda self: any(self._healable()))
    @rule(data=st.data())
    def heal_fault(self, data) -> None:
        i = data.draw(st.sampled_from(self._healable()), label="fault")
        f = self.faults[i]
        self.faults[i] = Fault(f.kind, f.at_ms, self.cursor_ms, f.params)

    @rule(
        symbol=st.sampled_from(symbols),
        side=st.sampled_from(("long", "short")),
        notional=st.sampled_from((Decimal(10), Decimal(200), Decimal(1000))),
        late_ms=st.integers(1, 999),
    )
    def open_position(self, symbol: str, side: str, notional: Decimal, late_ms: int) -> None:
        quantity = fs.quantity_for(symbol, self.paths[symbol].start, notional)
        self.entries.append(EntrySpec(self.cursor_ms + late_ms, symbol, side, quantity))

    @rule(restart_after_ms=st.sampled_from((0, 500, 2000)))
    def restart_bot(self, restart_after_ms: int) -> None:
        params = fs._normalized("bot_crashed", {"restart_after_ms": restart_after_ms})
        self.faults.append(Fault("bot_crashed", self.cursor_ms, None, params))

    def _healable(self) -> list[int]:
        return [
            i
            for i, f in enumerate(self.faults)
            if f.until_ms is None and f.kind != "bot_crashed" and f.at_ms < self.cursor_ms
        ]

    # ------------------------------------------------------------------ invariants
    @invariant()
    def stop_coverage(self) -> None:
        self._safe("stop_coverage")

    @invariant()
    def trailing_monotonic(self) -> None:
        self._safe("trailing_monotonic")

    @invariant()
    def no_duplicate_stops(self) -> None:
        self._safe("no_duplicate_stops")

    @invariant()
    def loss_bounded(self) -> None:
        self._safe("loss_bounded")

    @invariant()
    def the_run_goes_on(self) -> None:
        self._safe("run error")

    def _safe(self, checker: str) -> None:
        if checker in self.safety_failures:
            self._fail((checker,), self.summary)

    def teardown(self) -> None:
        """Heal, converge, and judge the whole run with every checker."""
        if not self.entries:
            return
        program = self.program(prefix=False)
        report = run_program(program, self.variant)
        failing = failing_checkers(report)
        if failing:
            summary = next((v.summary for v in report.verdicts if v.status == FAIL), report.error)
            self._fail(failing, summary, program)

    def _fail(self, failing: tuple[str, ...], summary: str, program: Program | None = None) -> None:
        """Record and raise, unless the reference bot fails this world too (for a variant
        that is outside the envelope, not a find)."""
        program = program or self.program(prefix=False)
        if self.variant != "reference" and failing_checkers(run_program(program)):
            return
        self.failures.append((program, failing, summary))
        raise AssertionError(f"{self.variant} fails {', '.join(failing)}: {summary}")

    # ------------------------------------------------------------------ as a program
    def program(self, *, prefix: bool) -> Program:
        """The world so far. ``prefix``: what happened before the cursor, ending there;
        else the whole program, healed a second after the cursor and then converged."""
        ordered = sorted(self.faults, key=lambda f: (f.at_ms, f.kind))
        whole = Program(
            paths=tuple(self.paths[s] for s in self.symbols),
            entries=tuple(sorted(self.entries, key=lambda e: (e.at_ms, e.symbol))),
            faults=tuple(
                Fault(f.kind, f.at_ms, f.until_ms, f.params, i) for i, f in enumerate(ordered)
            ),
            config=self.config,
            safety_ms=self.cursor_ms + 1000,
        )
        return whole.prefix(max(self.cursor_ms, 1000)) if prefix else whole


def machine_for(variant: str) -> type[FuzzMachine]:
    """A machine class that fuzzes ``variant`` of the bot."""
    return type(
        f"FuzzMachine_{variant.replace('-', '_')}",
        (FuzzMachine,),
        {"variant": variant, "failures": []},
    )
