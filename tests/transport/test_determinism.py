"""A transport run is a pure function of its seed: same trace hash in this process and in a
fresh one with another PYTHONHASHSEED; another seed gives another hash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.transport import scenario

REPO = Path(__file__).resolve().parents[2]


def test_same_seed_same_trace_here_and_in_a_fresh_process():
    here = scenario.run(seed=1)
    assert scenario.run(seed=1) == here
    env = {**os.environ, "PYTHONHASHSEED": "987654321"}
    fresh = subprocess.run(
        [sys.executable, "-m", "tests.transport.scenario", "--seed", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert fresh == here
    assert scenario.run(seed=2) != here
