"""Scenario replays, timed as a user runs them: whole processes, start to exit.

* the SOONUSDT replay (``futsim replay scenarios/soonusdt-2025-11-10.toml``): target <= 2 s;
* every scenario together (``futsim check``: the reference bot and each failing variant):
  target <= 30 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOONUSDT = ROOT / "scenarios" / "soonusdt-2025-11-10.toml"


def _wall(args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim", *args, "--out", out],
            cwd=ROOT,
            check=False,
            capture_output=True,
            timeout=600,
        )
        return time.perf_counter() - started


def measure(runs: int) -> dict:
    replay = [_wall(["replay", str(SOONUSDT)]) for _ in range(runs)]
    check = [_wall(["check"]) for _ in range(max(1, runs // 2))]
    scenarios = len(list((ROOT / "scenarios").glob("*.toml")))
    return {
        "soonusdt_replay_s": statistics.median(replay),
        "soonusdt_replay_runs": replay,
        "target_replay_s": 2.0,
        "check_all_s": statistics.median(check),
        "check_all_runs": check,
        "scenarios": scenarios,
        "target_check_s": 30.0,
    }


def render(r: dict) -> list[str]:
    ok = {True: "ok", False: "MISSED"}
    return [
        "",
        "4. scenario replays, whole processes (start to exit)",
        f"   futsim replay soonusdt      {r['soonusdt_replay_s']:>10.2f} s   "
        f"(target <= {r['target_replay_s']:g} s: "
        f"{ok[r['soonusdt_replay_s'] <= r['target_replay_s']]})",
        f"   futsim check ({r['scenarios']} scenarios) {r['check_all_s']:>8.2f} s   "
        f"(reference + failing variants; target <= {r['target_check_s']:g} s: "
        f"{ok[r['check_all_s'] <= r['target_check_s']]})",
    ]
