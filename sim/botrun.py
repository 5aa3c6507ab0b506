"""Run the reference bot, unchanged, against FakeBinance on the virtual clock.

The bot gets a real ccxt.pro ``binanceusdm`` whose only difference from live is its
``session`` (the simulated network). Restarts model a process crash: at each restart time the
bot's task is cancelled (its memory is lost), and a new bot with a new ccxt instance starts on
the same repository file, as a restarted process would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import BotConfig
from bot.repository import Repository
from bot.shell.app import Bot
from sim.ccxt_client import simulated_binanceusdm
from sim.runtime import RunResult, Simulation
from sim.tape import TapePoint
from sim.transport.latency import Fixed, LatencyModel
from sim.transport.session import SimSession
from sim.venue import FakeBinance, VenueConfig


@dataclass(frozen=True, slots=True)
class BotRun:
    bot_config: BotConfig
    tape: Sequence[TapePoint]
    repository_path: Path
    start_us: int
    horizon_s: float
    seed: int = 1
    venue_config: VenueConfig = field(default_factory=VenueConfig)
    rest_latency: LatencyModel = field(default_factory=lambda: Fixed(0))
    ws_latency: LatencyModel = field(default_factory=lambda: Fixed(0))
    restarts_ms: tuple[int, ...] = ()  # crash and restart at these instants (epoch ms)
    # called once the world is built, before the run: schedule faults, controls, probes
    setup: Callable[[Simulation, FakeBinance, SimSession], None] | None = None


@dataclass(slots=True)
class BotRunOutcome:
    sim: Simulation
    venue: FakeBinance
    session: SimSession
    result: RunResult
    bots: list[Bot]


def run_bot(spec: BotRun) -> BotRunOutcome:
    sim = Simulation(seed=spec.seed, start_us=spec.start_us, horizon_s=spec.horizon_s)
    venue = FakeBinance(sim, spec.venue_config)
    session = SimSession(
        sim,
        venue,
        rest_latency=spec.rest_latency,
        ws_latency=spec.ws_latency,
        trace_ws=lambda url: "/private/" in url,
    )
    venue.play(spec.tape)
    if spec.setup is not None:
        spec.setup(sim, venue, session)
    bots: list[Bot] = []

    async def one_life(until_ms: int | None) -> None:
        repository = Repository(spec.repository_path)
        exchange = simulated_binanceusdm(session)
        bot = Bot(spec.bot_config, exchange, repository)
        bots.append(bot)
        task = asyncio.create_task(bot.run(), name=f"bot-life-{len(bots)}")
        try:
            if until_ms is None:
                await task
            else:
                await asyncio.sleep(until_ms / 1000 - asyncio.get_running_loop().time())
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await exchange.close()
            repository.close()

    async def main() -> None:
        for restart_ms in spec.restarts_ms:
            await one_life(restart_ms)
        await one_life(None)

    result = sim.run(main())
    return BotRunOutcome(sim, venue, session, result, bots)
