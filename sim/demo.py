"""``futsim demo``: a self-contained run on the virtual clock, for a first look.

A simulated mark-price feed (seeded random walks on each symbol's tick grid, delivered over a
link with seeded latency) drives a toy trailing-stop protector written as plain asyncio: per
symbol a consumer that waits on its queue with a stale-feed timeout, enters at the first
price, ratchets a stop once the price is 1.5 % above entry, exits when the price crosses the
stop and cools down before re-entering. Every decision goes to the trace; the summary shows
what happened and the trace's SHA-256, which is the same for the same seed in any process.

This is a demonstration of the runtime, not the reference bot (``bot/``) and not an
incident replay; it stands in as the main job until scenario replay exists.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sim.runtime import RunResult, Simulation
from sim.runtime.units import iso_to_us

START_US = iso_to_us("2025-11-10T16:00:00Z")


@dataclass(frozen=True, slots=True)
class DemoSymbol:
    name: str
    tick: Decimal
    start_ticks: int  # first mark price, in ticks
    vol_ticks: float  # standard deviation of the 1 s move, in ticks


SYMBOLS = (
    DemoSymbol("SOONUSDT", Decimal("0.0001"), 20_333, 6.0),
    DemoSymbol("BTCUSDT", Decimal("0.10"), 970_000, 180.0),
    DemoSymbol("ETHUSDT", Decimal("0.01"), 315_000, 70.0),
    DemoSymbol("SOLUSDT", Decimal("0.0100"), 16_500, 4.0),
    DemoSymbol("XRPUSDT", Decimal("0.0001"), 22_000, 5.0),
)


@dataclass(slots=True)
class Tally:
    entries: int = 0
    stop_moves: int = 0
    exits: int = 0
    pnl_ticks: int = 0
    stale: int = 0
    last: list[str] = field(default_factory=list)


def price(symbol: DemoSymbol, ticks: int) -> str:
    return str(ticks * symbol.tick)


def build(seed: int, hours: float, n_symbols: int) -> tuple[Simulation, dict[str, Tally], object]:
    if not 1 <= n_symbols <= len(SYMBOLS):
        raise ValueError(f"--symbols must be between 1 and {len(SYMBOLS)}, got {n_symbols}")
    sim = Simulation(seed=seed, start_us=START_US, horizon_s=hours * 3600)
    env, trace = sim.env, sim.trace
    prices, latency = sim.streams["prices"], sim.streams["latency"]
    symbols = SYMBOLS[:n_symbols]
    queues = {s.name: asyncio.Queue() for s in symbols}
    tallies = {s.name: Tally() for s in symbols}

    def feed(symbol: DemoSymbol):
        """The exchange side: a 1 s mark-price stream; each message takes 5-80 ms to arrive,
        and arrives in order."""
        ticks, arrives_us = symbol.start_ticks, env.now
        queue = queues[symbol.name]
        while True:
            yield env.timeout(1_000_000)
            ticks = max(1, ticks + round(prices.gauss(0.0, symbol.vol_ticks)))
            arrives_us = max(arrives_us, env.now + latency.randrange(5_000, 80_000))
            delivery = env.timeout(arrives_us - env.now, (env.now // 1000, ticks))
            delivery.callbacks.append(lambda event, q=queue: q.put_nowait(event.value))

    for symbol in symbols:
        env.process(feed(symbol))

    async def protect(symbol: DemoSymbol) -> None:
        """The program under test: plain asyncio, reading the wall clock as bots do."""
        queue, tally = queues[symbol.name], tallies[symbol.name]
        entry = stop = best = None
        order_id = ""
        while True:
            try:
                event_ms, ticks = await asyncio.wait_for(queue.get(), timeout=5)
            except TimeoutError:
                tally.stale += 1
                trace.record("feed.stale", symbol=symbol.name)
                continue
            if entry is None:
                entry, best, order_id = ticks, ticks, uuid.uuid4().hex[:12]
                stop = ticks * 98 // 100
                tally.entries += 1
                trace.record(
                    "entry",
                    symbol=symbol.name,
                    id=order_id,
                    price=price(symbol, ticks),
                    stop=price(symbol, stop),
                    event_ms=event_ms,
                )
            elif ticks <= stop:
                tally.exits += 1
                tally.pnl_ticks += stop - entry
                trace.record(
                    "exit",
                    symbol=symbol.name,
                    id=order_id,
                    mark=price(symbol, ticks),
                    stop=price(symbol, stop),
                    pnl=price(symbol, stop - entry),
                )
                entry = None
                await asyncio.sleep(30)  # cool down, then take the first fresh price
                while not queue.empty():
                    queue.get_nowait()
            else:
                best = max(best, ticks)
                trail = best * 99 // 100
                if best * 1000 >= entry * 1015 and trail > stop:
                    stop = trail
                    tally.stop_moves += 1
                    trace.record(
                        "stop.moved", symbol=symbol.name, id=order_id, stop=price(symbol, stop)
                    )

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            for symbol in symbols:
                group.create_task(protect(symbol), name=f"protect-{symbol.name}")

    return sim, tallies, main


def run_demo(seed: int = 1, hours: float = 6.0, n_symbols: int = 5) -> tuple[RunResult, dict]:
    sim, tallies, main = build(seed, hours, n_symbols)
    result = sim.run(main())
    summary = {
        "seed": seed,
        "command": f"futsim demo --seed {seed} --hours {hours:g} --symbols {n_symbols}",
        "virtual_s": int(result.virtual_s),
        "wall_s": round(result.wall_s, 3),
        "speedup": round(result.virtual_s / result.wall_s) if result.wall_s else None,
        "simpy_events": result.simpy_steps,
        "trace_records": len(sim.trace),
        "trace_sha256": sim.trace.sha256(),
        "symbols": {
            name: {
                "entries": t.entries,
                "stop_moves": t.stop_moves,
                "exits": t.exits,
                "pnl_ticks": t.pnl_ticks,
                "stale_feed": t.stale,
            }
            for name, t in tallies.items()
        },
    }
    return result, summary | {"trace": sim.trace}


def format_summary(summary: dict) -> str:
    rows = [f"{'symbol':<10}{'entries':>9}{'stop moves':>12}{'exits':>8}{'pnl ticks':>11}"]
    for name, t in summary["symbols"].items():
        rows.append(
            f"{name:<10}{t['entries']:>9}{t['stop_moves']:>12}{t['exits']:>8}{t['pnl_ticks']:>11}"
        )
    return "\n".join(
        [
            "futsim demo: a toy trailing-stop protector on a simulated mark-price feed",
            "(a runtime demonstration; incident replay comes with the scenario runner)",
            "",
            *rows,
            "",
            f"simulated {summary['virtual_s'] / 3600:g} h in {summary['wall_s']} s of wall time "
            f"({summary['speedup']:,}x real time, {summary['simpy_events']:,} simpy events)",
            f"trace: {summary['trace_records']:,} records, sha256 {summary['trace_sha256']}",
            f"same inputs, same hash, in any process: {summary['command']}",
        ]
    )
