"""Runs for nemesis tests: real ccxt (or the reference bot) against FakeBinance on the
virtual clock, with a fault schedule armed; helpers to read frames and records back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.botrun import BotProcess
from sim.ccxt_client import simulated_binanceusdm
from sim.nemesis import Nemesis
from sim.runtime import Simulation
from sim.runtime.units import iso_to_us
from sim.scenario.model import Fault
from sim.transport.latency import Fixed
from sim.transport.session import SimSession
from sim.venue import FakeBinance, VenueConfig

T0_US = iso_to_us("2025-11-10T16:02:31Z")
T0_MS = T0_US // 1000
SOON = "SOON/USDT:USDT"
BTC = "BTC/USDT:USDT"
PRIVATE_URL = "wss://fstream.binance.com/private/ws?listenKey={}"


def fault(kind: str, at_ms: int, until_ms: int | None = None, index: int = 0, **params) -> Fault:
    return Fault(kind=kind, at_ms=at_ms, until_ms=until_ms, params=params, index=index)


def elapsed_ms(sim: Simulation) -> int:
    """Virtual milliseconds since T0 (exact)."""
    return (sim.env.now - T0_US) // 1000


@dataclass
class Run:
    ex: Any
    venue: FakeBinance
    sim: Simulation
    session: SimSession
    nemesis: Nemesis

    def now(self) -> int:
        return elapsed_ms(self.sim)

    async def until(self, offset_ms: int) -> None:
        """Sleep until T0 + offset_ms."""
        delay_us = T0_US + offset_ms * 1000 - self.sim.env.now
        assert delay_us >= 0, f"already past +{offset_ms} ms (now +{self.now()} ms)"
        await asyncio.sleep(delay_us / 1e6)

    async def timed(self, call: Awaitable[Any]) -> tuple[Any, int]:
        """(result or the exception raised, how long it took in ms)."""
        started = self.now()
        try:
            result = await call
        except Exception as exc:
            result = exc
        return result, self.now() - started

    async def listen_key(self) -> str:
        return (await self.ex.fapiPrivatePostListenKey())["listenKey"]

    def stream(self, key: str) -> UserStream:
        return UserStream(self, key)


@dataclass
class Outcome:
    value: Any
    sim: Simulation
    venue: FakeBinance
    session: SimSession
    nemesis: Nemesis

    def records(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.sim.trace.records() if r["kind"] == kind]

    def fault_marks(self) -> list[tuple[str, int, str, int]]:
        """(record kind, fault id, fault kind, ms since T0) of every fault.start / stop."""
        return [
            (r["kind"], r["id"], r["fault"], r["t_ms"] - T0_MS)
            for r in self.sim.trace.records()
            if r["kind"] in ("fault.start", "fault.stop")
        ]


def run_faults(
    body: Callable[[Run], Awaitable[Any]],
    faults: Sequence[Fault],
    *,
    heal_at_ms: int = 60_000,
    rest_ms: int = 0,
    ws_ms: int = 0,
    horizon_s: float = 600,
    seed: int = 1,
    process: BotProcess | None = None,
) -> Outcome:
    """``body(run)`` in a Simulation starting at T0, SOONUSDT at 2.0333 and BTCUSDT at
    97000, with ``faults`` armed (times are offsets from T0)."""
    sim = Simulation(seed=seed, start_us=T0_US, horizon_s=horizon_s)
    venue = FakeBinance(sim, VenueConfig(symbols=("SOONUSDT", "BTCUSDT")))
    venue.set_price("SOONUSDT", Decimal("2.0333"))
    venue.set_price("BTCUSDT", Decimal("97000.0"))
    session = SimSession(sim, venue, rest_latency=Fixed(rest_ms), ws_latency=Fixed(ws_ms))
    nemesis = Nemesis(sim, venue, session, process, faults, T0_MS, heal_at_ms)
    nemesis.arm()

    async def main() -> Any:
        ex = simulated_binanceusdm(session)
        try:
            return await body(Run(ex, venue, sim, session, nemesis))
        finally:
            await ex.close()

    result = sim.run(main())
    return Outcome(result.value, sim, venue, session, nemesis)


class UserStream:
    """A raw user-data connection recording each text frame with its arrival (ms since
    T0). Frames are the venue's JSON, so duplicates and order are seen exactly."""

    def __init__(self, run: Run, key: str) -> None:
        self._run = run
        self.key = key
        self.frames: list[tuple[int, dict[str, Any]]] = []
        self.closed_at: int | None = None

    async def __aenter__(self) -> UserStream:
        self._ws = await self._run.session.ws_connect(PRIVATE_URL.format(self.key))
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self._ws:
            self.frames.append((self._run.now(), json.loads(message.data)))
        self.closed_at = self._run.now()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._ws.close()
        await self._reader

    def events(self, since_ms: int = 0) -> list[tuple[int, str]]:
        return [(t, f["e"]) for t, f in self.frames if t >= since_ms]


def order_label(frame: dict[str, Any]) -> str:
    """A short label for a user-data frame: its type and status (``ORDER_TRADE_UPDATE:NEW``,
    ``ALGO_UPDATE:TRIGGERING``, ``ACCOUNT_UPDATE:ORDER``)."""
    if frame["e"] == "ACCOUNT_UPDATE":
        return f"ACCOUNT_UPDATE:{frame['a']['m']}"
    if frame["e"] in ("ORDER_TRADE_UPDATE", "ALGO_UPDATE"):
        return f"{frame['e']}:{frame['o']['X']}"
    return frame["e"]
