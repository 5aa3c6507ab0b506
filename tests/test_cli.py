"""The command line, run as a user runs it: in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sim.trace import sha256_of_file

ROOT = Path(__file__).resolve().parents[1]


def futsim(*args: str, hashseed: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": str(hashseed)}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_is_deterministic_across_processes_and_writes_its_trace(tmp_path):
    runs = [
        futsim(
            "demo",
            "--json",
            "--hours",
            "0.5",
            "--symbols",
            "3",
            "--trace",
            str(tmp_path / f"trace{h}.jsonl"),
            hashseed=h,
        )
        for h in (0, 4242)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    summaries = [json.loads(r.stdout) for r in runs]
    assert summaries[0]["trace_sha256"] == summaries[1]["trace_sha256"]
    assert summaries[0]["virtual_s"] == 1800
    assert sorted(summaries[0]["symbols"]) == ["BTCUSDT", "ETHUSDT", "SOONUSDT"]
    assert sha256_of_file(tmp_path / "trace0.jsonl") == summaries[0]["trace_sha256"]
    other_seed = json.loads(
        futsim("demo", "--json", "--hours", "0.5", "--symbols", "3", "--seed", "2").stdout
    )
    assert other_seed["trace_sha256"] != summaries[0]["trace_sha256"]


def test_demo_prints_a_readable_summary():
    run = futsim("demo", "--hours", "1", "--symbols", "2")
    assert run.returncode == 0, run.stderr
    assert "SOONUSDT" in run.stdout and "BTCUSDT" in run.stdout
    assert "simulated 1 h in" in run.stdout and "sha256 " in run.stdout


def test_bad_input_exits_2_with_a_message_naming_the_option():
    too_many = futsim("demo", "--symbols", "9")
    assert too_many.returncode == 2
    assert "--symbols must be between 1 and 5, got 9" in too_many.stderr
    no_time = futsim("demo", "--hours", "0")
    assert no_time.returncode == 2 and "--hours must be > 0" in no_time.stderr
    unknown = futsim("frobnicate")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
