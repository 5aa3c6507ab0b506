"""Run a coroutine against FakeBinance with real ccxt on the virtual clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sim.ccxt_client import simulated_binanceusdm
from sim.runtime import RunResult, Simulation
from sim.runtime.units import iso_to_us
from sim.transport.latency import Fixed
from sim.transport.session import SimSession
from sim.venue import FakeBinance, VenueConfig

T0_US = iso_to_us("2025-11-10T16:02:31Z")
T0_MS = T0_US // 1000
SOON = "SOON/USDT:USDT"
BTC = "BTC/USDT:USDT"


def elapsed_ms(sim: Simulation) -> int:
    return (sim.env.now - T0_US) // 1000


def run_ccxt(
    body: Callable[..., Awaitable[Any]],
    *,
    rest_ms: int = 0,
    ws_ms: int = 0,
    venue_config: VenueConfig | None = None,
    pro: bool = True,
    horizon_s: float = 3600,
    ccxt_config: dict | None = None,
    seed: int = 1,
    start_us: int = T0_US,
) -> tuple[Any, RunResult, FakeBinance, Simulation]:
    """``body(ex, venue, sim)`` runs inside a Simulation that starts at ``start_us``;
    SOONUSDT at 2.0333 and BTCUSDT at 97000 from the start."""
    sim = Simulation(seed=seed, start_us=start_us, horizon_s=horizon_s)
    venue = FakeBinance(sim, venue_config or VenueConfig(symbols=("SOONUSDT", "BTCUSDT")))
    venue.set_price("SOONUSDT", Decimal("2.0333"))
    venue.set_price("BTCUSDT", Decimal("97000.0"))
    session = SimSession(sim, venue, rest_latency=Fixed(rest_ms), ws_latency=Fixed(ws_ms))

    async def main():
        ex = simulated_binanceusdm(session, pro=pro, **(ccxt_config or {}))
        try:
            return await body(ex, venue, sim)
        finally:
            await ex.close()

    result = sim.run(main())
    return result.value, result, venue, sim
