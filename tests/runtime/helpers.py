"""Small helpers for runtime tests: run a coroutine function in a fresh Simulation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sim.runtime import DEFAULT_START_US, RunResult, Simulation

T0 = DEFAULT_START_US


def now_ms() -> int:
    """Virtual milliseconds since the run started (exact: the loop's integer clock)."""
    return (asyncio.get_running_loop().now_us - T0) // 1000


def simulate(
    main: Callable[..., Coroutine[Any, Any, Any]],
    *args: Any,
    horizon_s: float = 86_400,
    **kwargs: Any,
) -> RunResult:
    return Simulation(horizon_s=horizon_s, **kwargs).run(main(*args))
