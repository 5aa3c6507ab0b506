"""CI replays every incident scenario: the reference bot passes every checker, and each
scenario's failing variant fails the checkers it names (the scenario has teeth)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.checkers.verdict import FAIL, PASS
from sim.runner import run_scenario
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
CASES = [
    pytest.param(path, variant, id=f"{path.stem}[{variant}]")
    for path in SCENARIOS
    for variant in ("reference", *load_scenario(path).expect.variants)
]


def test_there_are_incident_scenarios_each_with_a_failing_variant():
    assert len(SCENARIOS) >= 9
    for path in SCENARIOS:
        scenario = load_scenario(path)
        assert scenario.expect.variants, f"{path.name}: no variant proves it has teeth"
        assert scenario.why and scenario.source, f"{path.name}: why and source are required"


@pytest.mark.parametrize(("path", "variant"), CASES)
def test_scenario_judges_the_reference_and_its_variant_as_expected(path, variant):
    scenario = load_scenario(path)
    report = run_scenario(scenario, variant=variant)
    statuses = {v.checker: v.status for v in report.verdicts}
    if variant == "reference":
        assert report.error == ""
        assert statuses == {name: PASS for name in scenario.expect.checkers}, statuses
    else:
        must_fail = scenario.expect.variants[variant]
        assert {name: statuses[name] for name in must_fail} == dict.fromkeys(must_fail, FAIL)
    assert report.expectations_met


def replay_json(path: Path, hashseed: int) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": str(hashseed)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "replay",
            str(path),
            "--json",
            "--out",
            str(ROOT / "runs" / f"hashseed{hashseed}"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_replays_to_one_trace_hash_across_processes(path):
    first, second = replay_json(path, 0), replay_json(path, 987_654_321)
    assert first["trace_sha256"] == second["trace_sha256"]
    assert first["verdicts"] == second["verdicts"]


def test_the_soonusdt_replay_as_the_issue_states_it():
    """``futsim replay`` exits 0; with ``--variant legacy-2025-11`` it exits 1, with
    stop_coverage and errors_handled failing and the -2021 in the evidence."""
    path = ROOT / "scenarios" / "soonusdt-2025-11-10.toml"
    ok = subprocess.run(
        [sys.executable, "-m", "sim", "replay", str(path), "--out", str(ROOT / "runs" / "ci")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "replay",
            str(path),
            "--variant",
            "legacy-2025-11",
            "--json",
            "--out",
            str(ROOT / "runs" / "ci"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1
    summary = json.loads(bad.stdout)
    assert summary["verdicts"]["stop_coverage"] == FAIL
    assert summary["verdicts"]["errors_handled"] == FAIL
    verdicts = json.loads((ROOT / summary["run_dir"] / "verdicts.json").read_text())
    errors = next(v for v in verdicts if v["checker"] == "errors_handled")
    assert any(item.get("code") == -2021 for item in errors["evidence"]), errors["evidence"]
    report = (ROOT / summary["run_dir"] / "report.html").read_text()
    assert "-2021" in report and "futsim replay" in report


SOON = (ROOT / "scenarios" / "soonusdt-2025-11-10.toml").read_text()
BAD_FILES = [
    ("toml-syntax", "[meta\nid = 'x'", "line"),
    ("empty", "", "meta"),
    ("id-not-the-file-name", SOON, "meta.id"),
    ("unknown-table", SOON + "\n[exchnage]\nsymbols = []\n", "exchnage"),
    ("bad-duration", SOON.replace('duration = "5m"', 'duration = "5 minutes"'), "duration"),
    (
        "unknown-fault-kind",
        SOON.replace('kind = "user_stream_dropped"', 'kind = "user_stream_droped"'),
        "user_stream_dropped",
    ),
    (
        "fault-after-the-end",
        SOON.replace('at = "+1s"\nuntil = "+95s"', 'at = "+900s"\nuntil = "+950s"'),
        "faults[0]",
    ),
    ("price-off-the-tick", SOON.replace('price = "2.0450"', 'price = "2.04505"'), "price"),
    (
        "unknown-symbol",
        SOON.replace('symbols = ["SOONUSDT"]', 'symbols = ["NOPEUSDT"]'),
        "NOPEUSDT",
    ),
    (
        "bad-bot-override",
        SOON.replace(
            "[[entries]]", '[bot.overrides.protection]\ncallback_pct = "25"\n\n[[entries]]', 1
        ),
        "callback_pct",
    ),
    (
        "unknown-checker",
        SOON.replace("[expect.checkers.rate_budget]", "[expect.checkers.rate_budgte]"),
        "rate_budgte",
    ),
]


@pytest.mark.parametrize(
    ("content", "needle"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_bad_scenario_files_exit_2_with_a_message_naming_file_and_key(tmp_path, content, needle):
    # named as its meta.id says, so that each mistake is the file's only one
    name = "bad-file.toml"
    if "soonusdt-2025-11-10" in content and needle != "meta.id":
        name = "soonusdt-2025-11-10.toml"
    path = tmp_path / name
    path.write_text(content)
    run = subprocess.run(
        [sys.executable, "-m", "sim", "replay", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert name in run.stderr and needle in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
