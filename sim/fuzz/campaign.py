"""A fuzz campaign: draw worlds, run a bot through them, shrink a failure, file it.

``futsim fuzz`` is a thin shell over :class:`Campaign`. Hypothesis draws a
:class:`~sim.fuzz.program.Program` per example (``sim.fuzz.strategies``), the runner runs it
as a scenario, the checkers judge. What counts as a find:

* for the reference bot: any checker failing, or the run stopping on an error;
* for a variant: the variant fails a checker **and the reference bot passes the same world**
  (a world that beats both is outside the envelope, counted as ``both_failed``, not a find).
  A find is therefore a regression scenario: the reference must pass it, the variant must
  fail exactly those checkers.

On a find, Hypothesis shrinks the program (fewer faults, calmer prices, fewer entries) while
it still fails; the smallest one is written to ``<out>/<id>.toml`` (plus its tape,
``<id>.tape.csv``), loaded back with the scenario loader and replayed, and the campaign says
whether the replay reproduced the failure. Runs are deterministic, so it always should.

Budgets: ``examples`` (a count) or ``budget_s`` (wall seconds, checked between chunks of
examples). Each chunk has its own Hypothesis seed derived from ``seed``, so a campaign is
reproducible from its seed and budget (derandomized).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import hypothesis.internal.conjecture.engine as hypothesis_engine
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisException

from sim.checkers.verdict import FAIL
from sim.fuzz import strategies
from sim.fuzz.coverage import Coverage
from sim.fuzz.program import Program
from sim.runner import RunReport, run_scenario
from sim.scenario.dump import dump_scenario
from sim.scenario.load import load_scenario
from sim.scenario.model import FAULT_KINDS
from sim.tape import write_tape
from sim.variants import VARIANTS

PLACEHOLDER = Path("scenarios/found/fuzz.toml")  # a run needs a path; a find gets its own


class _Found(Exception):
    """Raised inside the Hypothesis test: this example failed."""


@dataclass(frozen=True, slots=True)
class Find:
    variant: str
    program: Program
    failing: tuple[str, ...]  # checkers that failed ("run error" if the run stopped)
    summary: str  # the first failing verdict's summary
    path: Path
    replay: str
    reproduced: bool  # the filed scenario, loaded back and replayed, fails the same way


@dataclass(slots=True)
class CampaignResult:
    variant: str
    examples: int = 0  # examples drawn (shrink attempts not included)
    shrink_runs: int = 0
    both_failed: int = 0  # worlds that beat the reference too (outside the envelope)
    seconds: float = 0.0
    finds: list[Find] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def examples_per_s(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0


def failing_checkers(report: RunReport) -> tuple[str, ...]:
    failed = tuple(v.checker for v in report.verdicts if v.status == FAIL)
    return failed or (("run error",) if report.error else ())


def _fails(program: Program, variant: str) -> bool:
    try:
        return bool(failing_checkers(run_program(program, variant)))
    except Exception:
        return True


def run_program(program: Program, variant: str = "reference") -> RunReport:
    """Run ``program`` with ``variant`` of the bot (no files written)."""
    return run_scenario(program.scenario(path=PLACEHOLDER), variant=variant, tape=program.tape())


class Campaign:
    def __init__(
        self,
        *,
        variant: str = "reference",
        examples: int | None = None,
        budget_s: float | None = None,
        seed: int = 0,
        out_dir: Path = Path("scenarios/found"),
        symbols: Sequence[str] | None = None,
        safety_ms: int = 60_000,
        kinds: Sequence[str] = FAULT_KINDS,
        max_faults: int = 8,
        shrink: bool = True,
        shrink_s: float = 120.0,
        chunk: int = 50,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown bot variant {variant!r}; known: {', '.join(VARIANTS)}")
        if examples is None and budget_s is None:
            raise ValueError("give a budget: examples (a count) or budget_s (seconds)")
        if examples is not None and examples < 1:
            raise ValueError(f"examples must be >= 1, got {examples}")
        if budget_s is not None and budget_s <= 0:
            raise ValueError(f"budget_s must be > 0 seconds, got {budget_s}")
        self.variant = variant
        self.examples = examples
        self.budget_s = budget_s
        self.seed = seed
        self.out_dir = Path(out_dir)
        self.strategy = strategies.programs(
            symbols=symbols, safety_ms=safety_ms, kinds=kinds, max_faults=max_faults
        )
        self.shrink = shrink
        self.shrink_s = shrink_s
        self.chunk = chunk
        self.progress = progress
        self.result = CampaignResult(variant)
        self._failure: tuple[Program, tuple[str, ...], str] | None = None
        self._shrinking = False
        self._last_progress = 0.0
        self._started = 0.0

    # ------------------------------------------------------------------ judging
    def judge(self, program: Program) -> tuple[tuple[str, ...], str] | None:
        """The failing checkers and the first summary if ``program`` is a find, else None."""
        try:
            report = run_program(program, self.variant)
        except Exception as exc:  # the bot crashed the run: a find, with its error
            return ("run error",), f"{type(exc).__name__}: {exc}"[:500]
        if not self._shrinking:
            self.result.coverage.add([json.loads(line) for line in report.outcome.sim.trace.lines])
        failing = failing_checkers(report)
        if not failing:
            return None
        if self.variant != "reference" and _fails(program, "reference"):
            if not self._shrinking:
                self.result.both_failed += 1
            return None
        first = next((v.summary for v in report.verdicts if v.status == FAIL), report.error)
        return failing, first

    def _example(self, program: Program) -> None:
        if self._shrinking:
            self.result.shrink_runs += 1
        else:
            self.result.examples += 1
        verdict = self.judge(program)
        self._tick()
        if verdict is not None:
            self._failure = (program, *verdict)
            self._shrinking = True
            raise _Found(", ".join(verdict[0]))

    # ------------------------------------------------------------------ running
    def run(self) -> CampaignResult:
        self._started = time.perf_counter()
        with _quiet("bot", "legacy-2025-11", "ccxt"):  # the bot's log would bury the progress
            self._search()
        self.result.seconds = time.perf_counter() - self._started
        self._tick(force=True)
        return self.result

    def _search(self) -> None:
        k = 0
        while not self._spent():
            remaining = (
                self.chunk
                if self.examples is None
                else min(self.chunk, self.examples - self.result.examples)
            )
            self._run_chunk(self.seed * 1_000_003 + k, remaining)
            k += 1
            if self._failure is not None:
                self._file()
                break

    def _spent(self) -> bool:
        if self.examples is not None and self.result.examples >= self.examples:
            return True
        return self.budget_s is not None and time.perf_counter() - self._started >= self.budget_s

    def _run_chunk(self, chunk_seed: int, count: int) -> None:
        phases = [Phase.generate, Phase.shrink] if self.shrink else [Phase.generate]
        test = settings(
            max_examples=count,
            database=None,
            deadline=None,
            derandomize=False,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
            report_multiple_bugs=False,
        )(given(self.strategy)(self._example))
        test = hypothesis.seed(chunk_seed)(test)
        saved = hypothesis_engine.MAX_SHRINKING_SECONDS
        hypothesis_engine.MAX_SHRINKING_SECONDS = self.shrink_s  # a bound on shrinking
        try:
            test()
        except _Found:
            pass  # self._failure holds the last failing example: the shrunk one
        except HypothesisException as exc:  # e.g. Flaky: a run that is not deterministic
            raise RuntimeError(f"fuzz chunk with seed {chunk_seed}: {exc}") from exc
        finally:
            hypothesis_engine.MAX_SHRINKING_SECONDS = saved
            self._shrinking = False

    # ------------------------------------------------------------------ filing
    def _file(self) -> None:
        assert self._failure is not None
        program, failing, summary = self._failure
        find = file_find(
            program, self.variant, failing, summary, self.out_dir, f"futsim fuzz, seed {self.seed}"
        )
        self.result.finds.append(find)

    # ------------------------------------------------------------------ progress
    def _tick(self, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_progress < 1.0:
            return
        self._last_progress = now
        r = self.result
        elapsed = now - self._started
        rate = r.examples / elapsed if elapsed else 0.0
        fired = sum(1 for n in r.coverage.faults.values() if n)
        judged = sum(1 for n in r.coverage.checkers.values() if n)
        paths = sum(1 for n in r.coverage.paths.values() if n)
        state = f"shrinking ({r.shrink_runs} runs)" if self._shrinking else "searching"
        self.progress(
            f"[{elapsed:6.1f}s] {r.examples} examples, {rate:.1f}/s, "
            f"failures {len(r.finds) + (self._failure is not None and not r.finds)}, "
            f"faults acted {fired}/{len(r.coverage.faults)}, "
            f"checkers judged {judged}/{len(r.coverage.checkers)}, "
            f"bot paths {paths}/{len(r.coverage.paths)}: {state}"
        )


def file_find(
    program: Program,
    variant: str,
    failing: tuple[str, ...],
    summary: str,
    out_dir: Path,
    found_by: str,
) -> Find:
    """Write ``program`` as ``<out_dir>/<variant>-<hash>.toml`` plus its tape (atomically:
    a file is whole or absent), load it back, replay it, and say whether it fails the same
    way. The id is a hash of the program, so the same find is filed once."""
    digest = hashlib.sha256(repr((variant, program)).encode()).hexdigest()[:10]
    scenario_id = f"{variant}-{digest}"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{scenario_id}.toml"
    tape_path = out_dir / f"{scenario_id}.tape.csv"
    must_fail = tuple(c for c in failing if c != "run error")
    who = "the reference bot" if variant == "reference" else f"variant {variant}"
    why = f"Found by {found_by}: {who} fails {', '.join(failing)} ({summary.rstrip('.')})." + (
        "" if variant == "reference" else " The reference bot passes."
    )
    scenario = program.scenario(
        path=path, variant=variant, why=why, tape_file=tape_path, must_fail=must_fail
    )
    _atomic_write_tape(program, tape_path)
    _atomic_write_text(path, dump_scenario(scenario, header=_header(variant, failing)))
    replay = f"futsim replay {path}" + (f" --variant {variant}" if variant != "reference" else "")
    again = run_scenario(load_scenario(path), variant=variant)
    reproduced = failing_checkers(again) == failing
    return Find(variant, program, failing, summary, path, replay, reproduced)


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


def _header(variant: str, failing: tuple[str, ...]) -> str:
    return (
        f"Filed by futsim fuzz: variant {variant} fails {', '.join(failing)}.\n"
        "Generated: edit with care (the tape is the CSV beside this file)."
    )


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _atomic_write_tape(program: Program, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.csv")
    write_tape(program.tape(), tmp)
    os.replace(tmp, path)
