"""The ``futsim`` command line (also ``python -m sim``).

Exit codes: 0 when the command did what was asked, 1 when a run found a failure,
2 on bad input (argparse's own convention for usage errors).
"""

from __future__ import annotations

import argparse
import json
import sys
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
