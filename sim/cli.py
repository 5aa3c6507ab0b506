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
from pathlib import Path


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


SCENARIOS_DIR = "scenarios"


def _quiet_bots() -> None:
    """In a replay the bot's notes are in the trace and the timeline; keep its log quiet."""
    import logging

    for name in ("bot", "legacy-2025-11"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _load(path: str):
    from sim.scenario.load import ScenarioError, load_scenario

    try:
        return load_scenario(path), None
    except ScenarioError as exc:
        return None, str(exc)


def _scenario_paths(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        p = Path(path)
        found += sorted(str(f) for f in p.rglob("*.toml")) if p.is_dir() else [path]
    return found


def _run_dir(scenario, seed: int, variant: str, base: str) -> Path:
    name = scenario.id if variant == "reference" else f"{scenario.id}.{variant}"
    return Path(base) / f"{name}.seed{seed}"


def _verdict_lines(report) -> list[str]:
    lines = []
    for v in report.verdicts:
        expected = " (must fail)" if v.checker in report.expected_failures else ""
        lines.append(f"  {v.status.upper():8} {v.checker:22} {v.summary}{expected}")
    return lines


def _replay(args: argparse.Namespace) -> int:
    import shutil

    from sim.runner import run_scenario
    from sim.timeline import timeline

    _quiet_bots()
    paths = _scenario_paths(args.paths)
    if not paths:
        print("futsim replay: no scenario files given", file=sys.stderr)
        return 2
    scenarios = []
    for path in paths:
        scenario, error = _load(path)
        if error:
            print(f"futsim replay: {error}", file=sys.stderr)
            return 2
        scenarios.append(scenario)
    all_pass, summaries = True, []
    for scenario in scenarios:
        seed = scenario.seed if args.seed is None else args.seed
        variant = args.variant or scenario.bot.variant
        try:
            report = run_scenario(
                scenario,
                seed=seed,
                variant=variant,
                out_dir=_run_dir(scenario, seed, variant, args.out),
            )
        except ValueError as exc:
            print(f"futsim replay: {exc}", file=sys.stderr)
            return 2
        passed = report.all_passed
        all_pass &= passed
        summaries.append(report.summary() | {"run_dir": str(report.run_dir)})
        if args.report:
            shutil.copyfile(report.run_dir / "report.html", args.report)
        if args.json:
            continue
        s = scenario
        print(f"{s.id} ({variant}, seed {seed}): {s.why.split('. ')[0]}")
        end_ms = s.start_ms + s.duration_ms
        for line in timeline(report.outcome.sim.trace.lines, s.start_ms, end_ms):
            print(f"  {line}")
        print("checkers:")
        print("\n".join(_verdict_lines(report)))
        if report.error:
            print(f"  the run stopped: {report.error.splitlines()[0]}")
        if passed:
            state = "every checker passed"
        elif variant != "reference" and report.expectations_met:
            state = (
                f"FAILED, as this variant must ({', '.join(report.expected_failures)}): "
                "the scenario catches it"
            )
        else:
            state = "FAILED"
        print(f"{state}; trace sha256 {report.trace_sha256}; run folder {report.run_dir}")
        print(f"report: {report.run_dir / 'report.html'}")
        if not passed:
            print(f"replay: {report.replay}")
    if args.json:
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, sort_keys=True))
    return 0 if all_pass else 1


def _check(args: argparse.Namespace) -> int:
    from sim.runner import run_scenario

    _quiet_bots()
    paths = _scenario_paths(args.paths or [SCENARIOS_DIR])
    cases, failed = [], 0
    for path in paths:
        scenario, error = _load(path)
        if error:
            print(f"futsim check: {error}", file=sys.stderr)
            return 2
        variants = ["reference", *scenario.expect.variants] if args.variants else ["reference"]
        for variant in variants:
            report = run_scenario(
                scenario,
                variant=variant,
                out_dir=_run_dir(scenario, scenario.seed, variant, args.out),
            )
            ok = report.expectations_met
            failed += not ok
            what = (
                "passes every checker"
                if variant == "reference"
                else ("caught by " + ", ".join(report.expected_failures))
            )
            mark = "ok  " if ok else "FAIL"
            print(f"{mark} {scenario.id:42} {variant:22} {what if ok else 'not as expected'}")
            if not ok:
                print("\n".join(_verdict_lines(report)))
                print(f"     replay: {report.replay}")
            cases.append((scenario, variant, report))
    print(f"HTML reports: {args.out}/<scenario>[.<variant>].seed<N>/report.html")
    print(f"{len(cases) - failed} passed, {failed} failed")
    if args.junit:
        _write_junit(args.junit, cases)
    return 0 if failed == 0 else 1


def _write_junit(path: str, cases) -> None:
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(not r.expectations_met for _, _, r in cases)
    rows = []
    for scenario, variant, report in cases:
        name = quoteattr(f"{scenario.id}[{variant}]")
        body = ""
        if not report.expectations_met:
            text = "\n".join(_verdict_lines(report)) + f"\nreplay: {report.replay}"
            body = f'<failure message="expectations not met">{escape(text)}</failure>'
        rows.append(f'  <testcase classname="futsim.scenarios" name={name}>{body}</testcase>')
    xml = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="futsim" '
        f'tests="{len(cases)}" failures="{failures}">\n' + "\n".join(rows) + "\n</testsuite>\n"
    )
    Path(path).write_text(xml)


def _scenarios(args: argparse.Namespace) -> int:
    paths = _scenario_paths(args.paths or [SCENARIOS_DIR])
    status = 0
    for path in paths:
        scenario, error = _load(path)
        if error:
            print(f"futsim scenarios: {error}", file=sys.stderr)
            status = 2
            continue
        variants = ", ".join(scenario.expect.variants) or "-"
        print(
            f"{scenario.id}\n    {scenario.why}\n    failing variants: {variants}; "
            f"source: {scenario.source or '-'}"
        )
    return status


def _duration_s(text: str) -> float:
    from sim.scenario.load import Reject, _duration_ms

    try:
        ms = _duration_ms(text)
    except Reject:
        ms = 0
    if ms <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a duration > 0 such as 90s, 10m or 1h30m"
        )
    return ms / 1000


def _fuzz(args: argparse.Namespace) -> int:
    from sim.fuzz.campaign import Campaign
    from sim.scenario.model import FAULT_KINDS

    kinds = tuple(args.faults.split(",")) if args.faults else FAULT_KINDS
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        print(
            f"futsim fuzz: --faults: unknown fault kind {unknown[0]!r}; "
            f"known: {', '.join(FAULT_KINDS)}",
            file=sys.stderr,
        )
        return 2
    examples = 100 if args.examples is None and args.budget is None else args.examples
    try:
        campaign = Campaign(
            variant=args.variant,
            examples=examples,
            budget_s=args.budget,
            seed=args.seed,
            out_dir=Path(args.out),
            symbols=args.symbols,
            safety_ms=int(args.safety * 1000),
            kinds=kinds,
            shrink=args.shrink,
            shrink_s=args.shrink_budget,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except ValueError as exc:
        print(f"futsim fuzz: {exc}", file=sys.stderr)
        return 2
    budget = f"{examples} examples" if examples is not None else f"{args.budget:g} s"
    print(
        f"futsim fuzz: variant {args.variant}, seed {args.seed}, budget {budget}, "
        f"faults: {'all' if not args.faults else args.faults}",
        file=sys.stderr,
    )
    result = campaign.run()
    print(
        f"{result.examples} examples in {result.seconds:.1f} s "
        f"({result.examples_per_s:.1f}/s), {len(result.finds)} failure(s)"
        + (f", shrunk in {result.shrink_runs} runs" if result.finds else "")
        + (
            f"; {result.both_failed} world(s) beat the reference bot too (not counted)"
            if result.both_failed
            else ""
        )
    )
    for find in result.finds:
        print(f"FOUND: {find.variant} fails {', '.join(find.failing)}: {find.summary}")
        print(f"  filed as {find.path} (tape: {find.path.with_suffix('.tape.csv').name})")
        status = "reproduces it" if find.reproduced else "DOES NOT reproduce it: please report"
        print(f"  replay: {find.replay}   (the filed scenario, loaded back, {status})")
    print(result.coverage.report())
    return 1 if result.finds else 0


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

    replay = commands.add_parser(
        "replay", help="replay scenario files and judge them (exit 1 if an expectation fails)"
    )
    replay.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    replay.add_argument("--seed", type=int, help="override the scenario's seed")
    replay.add_argument("--variant", help="run a bot variant (see futsim scenarios)")
    replay.add_argument("--report", metavar="FILE.html", help="also copy the HTML report here")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument("--out", default="runs", help="where run folders go (default runs/)")
    replay.set_defaults(handler=_replay)

    check = commands.add_parser(
        "check", help="replay every scenario with the reference bot and its failing variants"
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="default: scenarios/")
    check.add_argument("--junit", metavar="FILE.xml", help="write a JUnit XML report")
    check.add_argument(
        "--no-variants", dest="variants", action="store_false", help="only the reference bot"
    )
    check.add_argument("--out", default="runs", help="where run folders go (default runs/)")
    check.set_defaults(handler=_check)

    fuzz = commands.add_parser(
        "fuzz",
        help="generate worlds with Hypothesis until a checker fails; shrink it and file it",
        description="Draw price paths, entries and fault schedules (swarm), run the bot "
        "through each, judge with every checker. A failure is shrunk and written to "
        "scenarios/found/<id>.toml, replayable with futsim replay. Exit 1 if one is found.",
    )
    budget = fuzz.add_mutually_exclusive_group()
    budget.add_argument("--examples", type=int, metavar="N", help="examples to run (default 100)")
    budget.add_argument(
        "--budget", type=_duration_s, metavar="DURATION", help="wall time to fuzz, e.g. 10m"
    )
    fuzz.add_argument("--variant", default="reference", help="the bot to fuzz (default: reference)")
    fuzz.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    fuzz.add_argument("--out", default="scenarios/found", help="where finds go")
    fuzz.add_argument("--symbols", nargs="+", metavar="SYM", help="default: 1-2 drawn per world")
    fuzz.add_argument(
        "--safety",
        type=_duration_s,
        default=60.0,
        metavar="DURATION",
        help="virtual time with faults per world (default 60s; then heal and converge, 40 s)",
    )
    fuzz.add_argument("--faults", metavar="KIND,...", help="fault kinds to draw from (default all)")
    fuzz.add_argument("--no-shrink", dest="shrink", action="store_false", help="file as found")
    fuzz.add_argument(
        "--shrink-budget",
        type=_duration_s,
        default=120.0,
        metavar="DURATION",
        help="wall time for shrinking (default 2m)",
    )
    fuzz.set_defaults(handler=_fuzz)

    listing = commands.add_parser("scenarios", help="list scenarios and why they exist")
    listing.add_argument("paths", nargs="*", metavar="PATH", help="default: scenarios/")
    listing.set_defaults(handler=_scenarios)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
