"""The ``futsim`` command line (also ``python -m sim``).

Exit codes: 0 when the command did what was asked, 1 when a run found a failure,
2 on bad input (argparse's own convention for usage errors).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from sim.demo import format_summary, run_demo

    if args.hours <= 0:
        print(f"futsim demo: --hours must be > 0, got {args.hours:g}", file=sys.stderr)
        return 2
    try:
        _, summary = run_demo(seed=args.seed, hours=args.hours, n_symbols=args.symbols)
    except ValueError as exc:
        print(f"futsim demo: {exc}", file=sys.stderr)
        return 2
    trace = summary.pop("trace")
    if args.trace:
        trace.write_jsonl(args.trace)
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(format_summary(summary))
        if args.trace:
            print(f"trace written to {args.trace}")
    return 0


def _parse_enter(text: str):
    from decimal import Decimal, InvalidOperation

    from bot.config import Entry

    parts = text.split(":")
    try:
        symbol, side, quantity = parts
        amount = Decimal(quantity)
    except (ValueError, InvalidOperation):
        raise argparse.ArgumentTypeError(
            f"--enter {text!r}: expected SYMBOL:SIDE:QUANTITY, e.g. SOONUSDT:long:4"
        ) from None
    if side not in ("long", "short") or amount <= 0:
        raise argparse.ArgumentTypeError(
            f"--enter {text!r}: SIDE is long or short and QUANTITY is > 0"
        )
    # A command entry is due now: stamp it with the real clock (this is the live path).
    return Entry(
        at_ms=time.time_ns() // 1_000_000, symbol=symbol.upper(), side=side, quantity=amount
    )


def _live(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bot.config import ConfigError, load_config
    from bot.live import LiveSetupError, choose_target, keys_from_env, run_live

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        config = load_config(args.config)
        target = choose_target(args.endpoint, args.production, args.demo_ws_host)
        api_key, secret = keys_from_env()
    except (ConfigError, LiveSetupError) as exc:
        print(f"futsim live: {exc}", file=sys.stderr)
        return 2
    entries = list(args.enter) if args.enter else None
    unknown = sorted({e.symbol for e in entries or []} - set(config.bot.symbols))
    if unknown:
        print(
            f"futsim live: --enter names {', '.join(unknown)}, which {args.config} does not "
            f"trade (bot.symbols = {list(config.bot.symbols)})",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_live(args.config, target, api_key=api_key, secret=secret, entries=entries))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="futsim",
        description="Deterministic simulation and fault injection for Binance USD-M futures "
        "bots, on a virtual clock.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run a toy trailing-stop protector on a simulated feed (runtime demo)"
    )
    demo.add_argument("--seed", type=int, default=1, help="run seed (default 1)")
    demo.add_argument("--hours", type=float, default=6.0, help="simulated hours (default 6)")
    demo.add_argument("--symbols", type=int, default=5, help="number of symbols, 1-5 (default 5)")
    demo.add_argument("--json", action="store_true", help="print a JSON summary")
    demo.add_argument("--trace", metavar="FILE", help="write the trace as JSON lines to FILE")
    demo.set_defaults(handler=_demo)

    live = commands.add_parser(
        "live",
        help="run the reference bot live (Binance Demo Trading unless told otherwise)",
        description="Run the reference bot on the real network. Keys come from the "
        "environment: BINANCE_API_KEY and BINANCE_API_SECRET.",
    )
    live.add_argument("config", help="the bot's TOML config (see bot/examples/)")
    live.add_argument(
        "--endpoint",
        metavar="URL",
        help="a Binance-compatible server instead of Demo Trading, e.g. "
        "http://127.0.0.1:8080 (futsim serve)",
    )
    live.add_argument(
        "--production", action="store_true", help="allow Binance's production hosts (real money)"
    )
    live.add_argument(
        "--demo-ws-host",
        default="wss://fstream.binancefuture.com",
        help="Demo Trading's WebSocket host (unverified: ccxt's default, or "
        "wss://demo-fstream.binance.com)",
    )
    live.add_argument(
        "--enter",
        action="append",
        type=_parse_enter,
        metavar="SYM:SIDE:QTY",
        help="open a position now (repeatable), e.g. SOONUSDT:long:4",
    )
    live.set_defaults(handler=_live)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
