"""A determinism probe: a program that touches every known source of run-to-run drift.

Run as ``python -m tests.runtime.probe --seed N``; prints the trace's SHA-256. The tests run it
in fresh processes with different ``PYTHONHASHSEED`` values and compare.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import time
import uuid

from sim.runtime import Simulation


def build(seed: int) -> tuple[Simulation, object]:
    sim = Simulation(seed=seed, horizon_s=120)
    trace = sim.trace
    latency = sim.streams["latency"]
    inbox: dict[str, asyncio.Queue] = {}

    def feed(env, name):  # the simulated world: seeded, jittered deliveries
        n = 0
        while True:
            yield env.timeout(latency.randrange(1_000, 400_000))
            n += 1
            if name in inbox:
                inbox[name].put_nowait(n)

    for name in ("alpha", "beta", "gamma"):
        sim.env.process(feed(sim.env, name))

    async def consumer(name):
        queue = inbox[name] = asyncio.Queue()
        while True:
            item = await queue.get()
            trace.record("got", name=name, item=item, wall_ms=time.time_ns() // 1_000_000)
            await asyncio.sleep(random.random() / 10)  # the global random: seeded in a run

    async def racer(i):
        await asyncio.sleep((i % 3) / 10)  # several finish at the same instant
        return i

    async def doomed(i, cancelled):
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    async def fails():
        await asyncio.sleep(0.1)
        raise ValueError("child failed")

    async def main():
        consumers = [asyncio.create_task(consumer(n)) for n in ("alpha", "beta", "gamma")]
        for round_no in range(5):
            tasks = [asyncio.create_task(racer(i)) for i in range(9)]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            trace.record(
                "wait",
                round=round_no,
                done=[t.get_name() for t in done],
                pending=[t.get_name() for t in pending],
            )
            await asyncio.gather(*pending)
            cancelled: list[int] = []
            try:
                async with asyncio.TaskGroup() as group:
                    for i in range(6):
                        group.create_task(doomed(i, cancelled))
                    group.create_task(fails())
            except ExceptionGroup as exc:
                trace.record("group", error=type(exc).__name__, cancelled=cancelled)
            trace.record(
                "ids",
                client_id=str(uuid.uuid4()),
                token=secrets.token_hex(4),
                urandom=os.urandom(4).hex(),
                now=dt.datetime.now().isoformat(),
            )
            await asyncio.sleep(7)
        for task in consumers:
            task.cancel()
        return len(trace)

    return sim, main


def run_probe(seed: int) -> str:
    sim, main = build(seed)
    sim.run(main())
    return sim.trace.sha256()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    print(run_probe(parser.parse_args().seed))
