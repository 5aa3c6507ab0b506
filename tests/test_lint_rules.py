"""The determinism lint rules bite where they should and nowhere else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")

NONDETERMINISTIC = """\
import datetime
import random
import time
import uuid


def stamp():
    return time.time(), datetime.datetime.now(), random.random(), uuid.uuid4()
"""


def banned_calls(pretend_path: str) -> list[str]:
    out = subprocess.run(
        [
            str(RUFF),
            "check",
            "--select",
            "TID251",
            "--output-format",
            "concise",
            "--stdin-filename",
            pretend_path,
            "-",
        ],
        input=NONDETERMINISTIC,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [line for line in out.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize("path", ["bot/position_book.py", "sim/exchange/model.py"])
def test_clock_and_entropy_are_banned_in_the_bot_and_the_exchange_model(path):
    found = banned_calls(path)
    assert len(found) == 4, found
    assert any("`time.time` is banned" in line for line in found)


@pytest.mark.parametrize("path", ["sim/runtime/loop.py", "bot/live.py", "tests/test_x.py"])
def test_the_runtime_and_the_live_entry_point_are_exempt(path):
    assert banned_calls(path) == []
