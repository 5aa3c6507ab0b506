"""A fuzz campaign as its users meet it: it finds a buggy variant, shrinks the world, files
it as a scenario that replays to the same failure (which the reference bot passes), and
does all of it the same way in every process. ``futsim fuzz`` reports progress and coverage
and refuses bad input by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.fuzz.campaign import Campaign, failing_checkers
from sim.runner import run_scenario
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def futsim(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT):
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_a_find_is_shrunk_and_filed_as_a_scenario_that_replays_the_failure(tmp_path):
    campaign = Campaign(variant="software-stop", examples=20, seed=0, out_dir=tmp_path, shrink_s=30)
    result = campaign.run()
    assert len(result.finds) == 1
    find = result.finds[0]
    assert find.reproduced
    assert "stop_coverage" in find.failing  # a stop the exchange never sees covers nothing
    assert find.path.exists() and find.path.with_suffix(".tape.csv").exists()
    assert find.replay == f"futsim replay {find.path} --variant software-stop"
    assert len(find.program.faults) == 0  # shrunk: this bug needs no fault at all
    scenario = load_scenario(find.path)
    assert scenario.expect.variants == {"software-stop": find.failing}
    assert run_scenario(scenario).all_passed  # the reference bot passes the find
    again = run_scenario(scenario, variant="software-stop")
    assert failing_checkers(again) == find.failing
    assert again.expectations_met
    # and through the command it prints: the variant fails (exit 1) as the file says it must
    out = str(tmp_path / "runs")
    replayed = futsim("replay", str(find.path), "--variant", "software-stop", "--out", out)
    assert replayed.returncode == 1
    assert "FAILED, as this variant must (stop_coverage)" in replayed.stdout
    assert futsim("replay", str(find.path), "--out", out).returncode == 0  # the reference


def test_the_reference_bot_survives_a_short_campaign_and_coverage_is_counted():
    result = Campaign(variant="reference", examples=40, seed=3, safety_ms=60_000).run()
    assert result.finds == []
    assert result.examples == 40
    cov = result.coverage
    assert cov.runs == 40
    assert cov.checkers["stop_coverage"] > 0 and cov.paths["stop replaced"] > 0
    assert sum(cov.faults.values()) > 0
    report = cov.report()
    for gap in cov.gaps():
        assert gap.split(" ")[1] in report  # a gap is printed, not hidden


def test_the_same_seed_files_the_same_scenario_in_fresh_processes(tmp_path):
    outs = []
    for hashseed in ("0", "4242"):
        out = tmp_path / hashseed
        run = futsim(
            "fuzz", "--variant", "software-stop", "--examples", "5", "--seed", "9",
            "--shrink-budget", "20s", "--out", str(out), env={"PYTHONHASHSEED": hashseed},
        )  # fmt: skip
        assert run.returncode == 1, run.stderr  # 1: a failure was found
        assert "FOUND: software-stop fails stop_coverage" in run.stdout
        assert "futsim replay" in run.stdout and "reproduces it" in run.stdout
        assert "examples," in run.stderr  # the progress line
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1] and len(outs[0]) == 2  # the .toml and its tape, byte for byte


def test_futsim_fuzz_reports_coverage_and_refuses_bad_input(tmp_path):
    run = futsim("fuzz", "--examples", "3", "--seed", "1", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "3 examples in" in run.stdout and "0 failure(s)" in run.stdout
    assert "coverage over 3 runs" in run.stdout and "gaps:" in run.stdout
    assert list(tmp_path.iterdir()) == []  # nothing filed when nothing failed
    bad = futsim("fuzz", "--faults", "rest_latency,rest_nap")
    assert bad.returncode == 2 and "unknown fault kind 'rest_nap'" in bad.stderr
    bad = futsim("fuzz", "--variant", "no-such-bot")
    assert bad.returncode == 2 and "unknown bot variant 'no-such-bot'" in bad.stderr
    bad = futsim("fuzz", "--budget", "soon")
    assert bad.returncode == 2 and "expected a duration" in bad.stderr
