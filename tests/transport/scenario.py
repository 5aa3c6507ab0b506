"""A short transport scenario for the determinism test (not a test itself).

``python -m tests.transport.scenario --seed N`` prints the run's trace SHA-256. It exercises
random REST and WebSocket latency, a lost response (ccxt times out), a duplicated frame, a
connection reset and ccxt's reconnect, and records what ccxt returned.
"""

from __future__ import annotations

import argparse

import ccxt
import ccxt.pro as ccxt_pro

from sim.transport import Drop, Duplicate, LogNormal, Uniform, for_kinds, market_data
from tests.transport.helpers import SYMBOL, at, ccxt_config, now_ms, world


def run(seed: int) -> str:
    w = world(
        horizon_s=120,
        seed=seed,
        rest_latency=LogNormal(median_ms=40, sigma=0.6, cap_ms=1500),
        ws_latency=Uniform(5, 1500),
    )
    w.session.rest.down.add_rule(for_kinds(Drop(), "GET /fapi/v1/time"))
    w.session.ws.add_rule(
        lambda m: (
            Duplicate(copies=1, spacing_us=1_000) if '"p":"0.8812"' in str(m.payload) else None
        ),
        where=market_data,
    )
    at(w.sim, 6_500, lambda: w.session.ws.reset(where=market_data))
    trace = w.sim.trace

    async def main():
        ex = ccxt_pro.binanceusdm(ccxt_config(w.session))
        try:
            try:
                await ex.fetch_time()
            except ccxt.RequestTimeout:
                trace.record("bot.timeout", at_ms=now_ms())
            await ex.load_markets()
            while now_ms() < 15_000:
                try:
                    ticker = await ex.watch_mark_price(SYMBOL)
                except ccxt.NetworkError as exc:
                    trace.record("bot.error", error=type(exc).__name__)
                    continue
                trace.record("bot.mark", E=ticker["timestamp"], mark=ticker["info"]["p"])
        finally:
            await ex.close()

    w.sim.run(main())
    return w.sim.trace.sha256()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    print(run(parser.parse_args().seed))
