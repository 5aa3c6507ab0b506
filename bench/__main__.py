"""``python -m bench [--quick] [--json] [--profile]``: the runtime's figures, in one run.

1. Tick stream (1 simulated hour, 20 symbols): median wall seconds, simulated seconds per wall
   second (target >= 3,000x), simpy events and asyncio loop iterations per wall second.
2. Cost per simpy event against bare simpy running the same structure for the same hour
   (ours / bare), plus the plain wall-time ratio for the same simulated work. Bare simpy
   steps twice as many events per tick (its Store put/get are events; an asyncio queue hand-off
   is not), so the per-event ratio is about twice the same-work ratio.
3. Cost per timer: ``asyncio.sleep(0.001)`` on a Simulation vs ``env.timeout(1000)`` on bare
   simpy, 200,000 each (target ratio <= 10x). The sleep includes asyncio's own coroutine,
   future and task wake-up; the timer path alone (a ``call_later`` callback re-arming itself)
   is reported beside it.

4. Scenario replays as whole processes: the SOONUSDT replay (target <= 2 s) and every
   scenario with its failing variants (target <= 30 s).
5. Fuzz throughput: generated 5-minute 2-symbol worlds with faults, judged, per second on
   one core (target >= 20/s; ``bench/fuzz.py``).

Each figure is the median of 5 runs (``--quick``: 1 run, a tenth of the sizes, for smoke
tests). ``--profile`` also runs the tick stream once under cProfile and prints the top 15
functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import statistics
import sys
from importlib.metadata import version

from bench import fuzz, runtime, scenarios

SYMBOLS = 20
HORIZON_S = 3600
TIMERS = 200_000
TARGET_SPEEDUP = 3_000
TARGET_TIMER_RATIO = 10


def _median(fn, runs: int, *args) -> tuple[float, runtime.Timing, list[float]]:
    """Median wall seconds of ``runs`` calls, the first call's counters (deterministic), and
    every run's wall seconds."""
    timings = [fn(*args) for _ in range(runs)]
    walls = [t.wall_s for t in timings]
    return statistics.median(walls), timings[0], walls


def measure(quick: bool) -> dict:
    runs, scale = (1, 10) if quick else (5, 1)
    horizon_s, n = HORIZON_S // scale, TIMERS // scale
    print(f"bench: {runs} run(s) of each workload...", file=sys.stderr)
    wall, sim, walls = _median(runtime.ticks_on_sim, runs, SYMBOLS, horizon_s)
    bare_wall, bare, _ = _median(runtime.ticks_on_bare_simpy, runs, SYMBOLS, horizon_s)
    us_per_timer = _median(runtime.sleeps_on_sim, runs, n)[0] / n * 1e6
    bare_us_per_timer = _median(runtime.sleeps_on_bare_simpy, runs, n)[0] / n * 1e6
    us_per_call_later = _median(runtime.timer_chain_on_sim, runs, n)[0] / n * 1e6
    us_per_event, bare_us_per_event = wall / sim.events * 1e6, bare_wall / bare.events * 1e6
    env = {
        "python": platform.python_version(),
        "simpy": version("simpy"),
        "freezegun": version("freezegun"),
        "cpu_count": os.cpu_count(),
    }
    ticks = {
        "symbols": SYMBOLS,
        "horizon_s": horizon_s,
        "ticks_consumed": sim.consumed,
        "wall_s": wall,
        "wall_s_runs": walls,
        "sim_s_per_wall_s": horizon_s / wall,
        "simpy_events": sim.events,
        "simpy_events_per_s": sim.events / wall,
        "loop_iterations": sim.loop_iterations,
        "loop_iterations_per_s": sim.loop_iterations / wall,
        "target_sim_s_per_wall_s": TARGET_SPEEDUP,
        "meets_target": horizon_s / wall >= TARGET_SPEEDUP,
    }
    vs_bare = {
        "bare_wall_s": bare_wall,
        "bare_events": bare.events,
        "sim_us_per_event": us_per_event,
        "bare_us_per_event": bare_us_per_event,
        "per_event_ratio": us_per_event / bare_us_per_event,
        "same_work_wall_ratio": wall / bare_wall,
    }
    timers = {
        "n": n,
        "sim_us_per_timer": us_per_timer,
        "bare_us_per_timer": bare_us_per_timer,
        "ratio": us_per_timer / bare_us_per_timer,
        "target_ratio": TARGET_TIMER_RATIO,
        "sim_us_per_call_later": us_per_call_later,
        "call_later_ratio": us_per_call_later / bare_us_per_timer,
        "meets_target": us_per_timer / bare_us_per_timer <= TARGET_TIMER_RATIO,
    }
    result_scenarios = scenarios.measure(runs)
    result_fuzz = fuzz.measure(8 if quick else 60)
    return {
        "scenarios": result_scenarios,
        "fuzz": result_fuzz,
        "env": env,
        "runs": runs,
        "quick": quick,
        "ticks": ticks,
        "vs_bare_simpy": vs_bare,
        "timers": timers,
    }


def render(r: dict) -> str:
    e, t, b, s = r["env"], r["ticks"], r["vs_bare_simpy"], r["timers"]
    ok = {True: "ok", False: "MISSED"}
    quick = " (QUICK: 1/10 sizes)" if r["quick"] else ""
    rows = [
        f"futsim runtime benchmark — median of {r['runs']} run(s){quick}",
        f"Python {e['python']}, simpy {e['simpy']}, freezegun {e['freezegun']}, "
        f"{e['cpu_count']} CPUs",
        "",
        f"1. tick stream: {t['symbols']} symbols, {t['horizon_s']} virtual s, wallclock=True",
        f"   wall time                    {t['wall_s']:>12.3f} s     "
        f"(runs: {min(t['wall_s_runs']):.3f}–{max(t['wall_s_runs']):.3f} s)",
        f"   simulated s per wall s       {t['sim_s_per_wall_s']:>12,.0f} x   "
        f"(target >= {t['target_sim_s_per_wall_s']:,} x: {ok[t['meets_target']]})",
        f"   simpy events per wall s      {t['simpy_events_per_s']:>12,.0f}     "
        f"({t['simpy_events']:,} events)",
        f"   loop iterations per wall s   {t['loop_iterations_per_s']:>12,.0f}     "
        f"({t['loop_iterations']:,} iterations)",
        "",
        "2. same structure on bare simpy (Store + env.step loop)",
        f"   wall per simpy event, ours   {b['sim_us_per_event']:>12.2f} µs",
        f"   wall per simpy event, bare   {b['bare_us_per_event']:>12.2f} µs   "
        f"({b['bare_events']:,} events, {b['bare_wall_s']:.3f} s)",
        f"   ratio ours / bare per event  {b['per_event_ratio']:>12.2f} x",
        f"   ratio for the same work      {b['same_work_wall_ratio']:>12.2f} x   (wall / wall)",
        "",
        f"3. one timer: asyncio.sleep(0.001) vs env.timeout(1000), {s['n']:,} each",
        f"   ours                         {s['sim_us_per_timer']:>12.2f} µs",
        f"   bare simpy                   {s['bare_us_per_timer']:>12.2f} µs",
        f"   ratio                        {s['ratio']:>12.2f} x   "
        f"(target <= {s['target_ratio']} x: {ok[s['meets_target']]})",
        f"   timer path alone (call_later){s['sim_us_per_call_later']:>12.2f} µs   "
        f"({s['call_later_ratio']:.2f} x bare)",
    ]
    rows += scenarios.render(r["scenarios"])
    rows += fuzz.render(r["fuzz"])
    return "\n".join(rows)


def profile_ticks(horizon_s: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    runtime.ticks_on_sim(SYMBOLS, horizon_s)
    profiler.disable()
    print(f"\ncProfile of the tick stream ({horizon_s} virtual s), top 15 by tottime:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, 1/10 sizes (smoke test)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--profile", action="store_true", help="also cProfile the tick stream")
    args = parser.parse_args(argv)
    results = measure(args.quick)
    print(json.dumps(results, indent=2) if args.json else render(results))
    if args.profile:
        profile_ticks(HORIZON_S // (10 if args.quick else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
