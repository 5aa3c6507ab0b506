"""Fuzz throughput: generated examples per second on one core (issue 6: target >= 20/s).

The workload the issue names: 5-minute worlds (260 s of faults, then heal and convergence),
two symbols (SOONUSDT, XRPUSDT), every fault kind enabled (swarm), run by the reference bot
through ``sim.fuzz.campaign.Campaign`` exactly as ``futsim fuzz`` runs them: Hypothesis
draws the world, the runner runs it, every checker judges, coverage is counted. One process,
so the figure is per core; shrinking is off (no failure is expected).
"""

from __future__ import annotations

import time

from sim.fuzz.campaign import Campaign

SYMBOLS = ("SOONUSDT", "XRPUSDT")
SAFETY_MS = 260_000  # + 40 s of heal, convergence and tail: 300 s per world
TARGET_PER_S = 20.0


def measure(examples: int) -> dict:
    started = time.perf_counter()
    result = Campaign(
        variant="reference",
        examples=examples,
        seed=0,
        symbols=SYMBOLS,
        safety_ms=SAFETY_MS,
        shrink=False,
    ).run()
    wall = time.perf_counter() - started
    runs_with_faults = sum(result.coverage.scheduled.values())
    return {
        "examples": result.examples,
        "virtual_s_per_example": (SAFETY_MS + 40_000) / 1000,
        "wall_s": wall,
        "examples_per_s": result.examples / wall,
        "ms_per_example": wall / result.examples * 1000,
        "faults_scheduled": runs_with_faults,
        "failures": len(result.finds),
        "target_per_s": TARGET_PER_S,
        "meets_target": result.examples / wall >= TARGET_PER_S,
    }


def render(r: dict) -> list[str]:
    ok = {True: "ok", False: "MISSED"}
    return [
        "",
        f"5. fuzz throughput: {r['examples']} generated worlds of {r['virtual_s_per_example']:.0f} "
        f"virtual s, 2 symbols, all fault kinds (swarm), one core",
        f"   examples per second          {r['examples_per_s']:>12.2f}     "
        f"(target >= {r['target_per_s']:.0f}: {ok[r['meets_target']]})",
        f"   wall per example             {r['ms_per_example']:>12.1f} ms   "
        f"({r['faults_scheduled']} faults started, {r['failures']} failure(s))",
    ]
