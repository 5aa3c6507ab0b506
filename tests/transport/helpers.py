"""Helpers for transport tests: a run with the stub venue and a SimSession, and a ccxt config.

Every ccxt instance is built inside the run (an instance stays bound to its first loop) and
closed at the end of it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sim.runtime import DEFAULT_START_US, Simulation
from sim.transport import SimSession
from tests.transport.venue_stub import StubVenue

T0_US = DEFAULT_START_US
T0_MS = T0_US // 1000
SYMBOL = "SOON/USDT:USDT"
TIMEOUT_MS = 2000


@dataclass
class World:
    sim: Simulation
    venue: StubVenue
    session: SimSession


def world(
    *,
    horizon_s: float = 60,
    seed: int = 0,
    venue_options: dict[str, Any] | None = None,
    **session_options: Any,
) -> World:
    sim = Simulation(horizon_s=horizon_s, seed=seed)
    venue = StubVenue(sim.env, **(venue_options or {}))
    return World(sim, venue, SimSession(sim, venue, **session_options))


def ccxt_config(session: SimSession, **extra: Any) -> dict[str, Any]:
    return {
        "session": session,
        "enableRateLimit": False,
        "verify": False,
        "timeout": TIMEOUT_MS,
        "options": {
            "fetchCurrencies": False,
            "fetchMarkets": {"types": ["linear"]},
            "adjustForTimeDifference": False,
        },
        **extra,
    }


def now_ms() -> int:
    """Virtual milliseconds since the run started (exact)."""
    return (asyncio.get_running_loop().now_us - T0_US) // 1000


def at(sim: Simulation, t_ms: int, action: Any) -> None:
    """Run ``action()`` inside simpy at ``t_ms`` after the start (as a nemesis would)."""
    event = sim.env.timeout(T0_US + t_ms * 1000 - sim.env.now)
    event.callbacks.append(lambda _event: action())


def records(sim: Simulation, kind: str, **match: Any) -> list[dict[str, Any]]:
    """Trace records of ``kind`` whose fields equal ``match``, with ``t`` relative ms."""
    found = []
    for record in sim.trace.records():
        if record["kind"] == kind and all(record.get(k) == v for k, v in match.items()):
            record["t"] = record["t_ms"] - T0_MS
            found.append(record)
    return found
