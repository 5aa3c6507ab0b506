"""Run the reference bot, unchanged, against FakeBinance on the virtual clock.

The bot gets a real ccxt.pro ``binanceusdm`` whose only difference from live is its
``session`` (the simulated network). Restarts model a process crash: at each restart time the
bot's task is cancelled (its memory is lost), and a new bot with a new ccxt instance starts on
the same repository file, as a restarted process would.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import BotConfig
from bot.core.messages import Command
from bot.repository import Repository
from bot.shell.app import Bot
from sim.ccxt_client import simulated_binanceusdm
from sim.runtime import RunResult, SimError, Simulation
from sim.tape import TapePoint
from sim.transport.latency import Fixed, LatencyModel
from sim.transport.session import SimSession
from sim.variants import variant
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
    variant: str = "reference"  # sim.variants: the reference bot or a known-bad one
    # called once the world is built, before the run: schedule faults, controls, probes
    setup: Callable[[Simulation, FakeBinance, SimSession], None] | None = None


@dataclass(slots=True)
class BotRunOutcome:
    sim: Simulation
    venue: FakeBinance
    session: SimSession
    result: RunResult | None  # None when the run stopped on an error
    bots: list[Bot]
    error: str = ""


class LaggingRepository:
    """The bot's repository with writes that land ``delay_ms`` late (a fault). Reads see only
    what has landed; a crash loses what has not."""

    WRITES = ("append_event", "save_trail", "delete_trail", "save_stop", "journal_position")

    def __init__(
        self,
        inner: Repository,
        loop: asyncio.AbstractEventLoop,
        on_delay: Callable[[str, int], None] | None = None,
    ) -> None:
        self._inner = inner
        self._loop = loop
        self._on_delay = on_delay  # told of each write held back: (method, delay_ms)
        self.delay_ms = 0
        self._pending: dict[asyncio.TimerHandle, None] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in self.WRITES:
            return method

        def write(*args: Any, **kwargs: Any) -> None:
            if self.delay_ms <= 0:
                return method(*args, **kwargs)
            handle = self._loop.call_later(self.delay_ms / 1000, self._land, method, args, kwargs)
            self._pending[handle] = None
            if self._on_delay is not None:
                self._on_delay(name, self.delay_ms)
            return None

        return write

    def _land(self, method: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self._pending = {
            h: None for h in self._pending if not h.cancelled() and h.when() > self._loop.time()
        }
        method(*args, **kwargs)

    def lose_pending(self) -> int:
        """The process died: writes still in flight never land."""
        lost = 0
        for handle in self._pending:
            if not handle.cancelled():
                handle.cancel()
                lost += 1
        self._pending.clear()
        return lost


class BotProcess:
    """The bot's process, as faults see it: it can crash and restart, and its database
    writes can lag. Lives are numbered from 1."""

    def __init__(self) -> None:
        self.bots: list[Bot] = []
        self.write_lag_ms = 0
        self._crash: asyncio.Future | None = None
        self.repository: LaggingRepository | None = None

    def crash(self, restart_after_ms: int = 0) -> None:
        """Kill the current life now; a new one starts ``restart_after_ms`` later."""
        if self._crash is not None and not self._crash.done():
            self._crash.set_result(restart_after_ms)

    def set_write_lag(self, delay_ms: int) -> None:
        self.write_lag_ms = delay_ms
        if self.repository is not None:
            self.repository.delay_ms = delay_ms


def run_bot(spec: BotRun, process: BotProcess | None = None) -> BotRunOutcome:
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
    process = process or BotProcess()
    for restart_ms in spec.restarts_ms:  # scheduled crashes, restarting at once
        at_us = restart_ms * 1000 - sim.env.now
        sim.env.timeout(at_us).callbacks.append(lambda _e: process.crash(0))
    if spec.setup is not None:
        spec.setup(sim, venue, session)
    bots = process.bots

    def trace_command(now_ms: int, command: Command) -> None:
        fields = {
            ("note" if k == "kind" else k): v if isinstance(v, int | str | bool) else str(v)
            for k, v in dataclasses.asdict(command).items()
        }
        sim.trace.record("bot.command", command=type(command).__name__, life=len(bots), **fields)

    async def one_life() -> int | None:
        """Run one life of the bot; returns the restart delay if it was killed."""
        loop = asyncio.get_running_loop()
        repository = LaggingRepository(
            Repository(spec.repository_path),
            loop,
            on_delay=lambda method, delay_ms: sim.trace.record(
                "bot.write_delayed", life=len(bots), method=method, delay_ms=delay_ms
            ),
        )
        repository.delay_ms = process.write_lag_ms
        process.repository = repository
        exchange = simulated_binanceusdm(session)
        bot = variant(spec.variant)(spec.bot_config, exchange, repository, observer=trace_command)
        bots.append(bot)
        process._crash = loop.create_future()
        task = asyncio.create_task(bot.run(), name=f"bot-life-{len(bots)}")
        try:
            await asyncio.wait([task, process._crash], return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # a bot that ends by itself has crashed: let the error out
                return None
            restart_after_ms = process._crash.result()
            lost = repository.lose_pending()
            sim.trace.record("bot.killed", life=len(bots), lost_writes=lost)
            return restart_after_ms
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if not process._crash.done():
                process._crash.cancel()
            await exchange.close()
            repository.close()

    async def main() -> None:
        while (restart_after_ms := await one_life()) is not None:
            await asyncio.sleep(restart_after_ms / 1000)

    try:
        result = sim.run(main())
    except SimError as exc:  # the run could not go on: that is a finding, with records
        sim.trace.record("run.error", error=type(exc).__name__, detail=str(exc)[:2000])
        return BotRunOutcome(sim, venue, session, None, bots, f"{type(exc).__name__}: {exc}")
    return BotRunOutcome(sim, venue, session, result, bots)
