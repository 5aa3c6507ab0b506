"""Real run folders for the report tests: the reference bot on FakeBinance, written out as the
runner writes them (trace.jsonl, verdicts.json, summary.json)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

from bot.config import load_config
from sim.botrun import BotRun, run_bot
from sim.checkers.coverage import naked_windows, truth_records
from sim.checkers.verdict import FAIL, PASS, Verdict
from sim.runtime.units import iso_to_us
from sim.tape import waypoint_tape
from sim.transport.latency import Fixed
from sim.transport.protocol import HttpResponse
from sim.venue import VenueConfig

T0_MS = iso_to_us("2025-11-10T16:02:30Z") // 1000
CANCEL_MS = T0_MS + 100_000  # the naked variant: every stop cancelled at the venue
FAULT_FROM_MS, FAULT_TO_MS = T0_MS + 110_000, T0_MS + 115_000  # the -2021 variant
D = Decimal
REPLAY = "futsim replay scenarios/soonusdt.toml --seed 1 --variant {variant}"


def rise_then_fall():
    """Flat at 2.0333, +3.3 % over 50 s, then back down through the trailing stop."""
    waypoints = [
        (T0_MS, D("2.0333")),
        (T0_MS + 70_000, D("2.0333")),
        (T0_MS + 120_000, D("2.1000")),
        (T0_MS + 200_000, D("2.0000")),
        (T0_MS + 300_000, D("2.0000")),
    ]
    return waypoint_tape("SOONUSDT", D("0.0001"), waypoints, step_ms=1000)


def cancel_stops_mid_run(sim, venue, session):
    """Someone cancels every stop at the exchange: the position is naked until the bot sees it."""

    def cancel(_event):
        venue.publish(venue.exchange.cancel_all_algo_orders(venue.now_ms(), "SOONUSDT"))

    sim.env.timeout(CANCEL_MS * 1000 - sim.env.now).callbacks.append(cancel)


class RefuseStops:
    """A fault as the nemesis makes one: new stops are answered with -2021, no effect."""

    name = "order_immediate_trigger"

    def __init__(self) -> None:
        self.active = False

    def before(self, request, now_ms):
        if self.active and request.method == "POST" and request.path == "/fapi/v1/algoOrder":
            return HttpResponse(400, b'{"code":-2021,"msg":"Order would immediately trigger."}')
        return None

    def after(self, request, response, now_ms):
        return response


def refuse_stops_for_a_while(sim, venue, session):
    fault = RefuseStops()
    venue.interceptors.append(fault)
    params = {"route": "POST /fapi/v1/algoOrder", "symbol": "SOONUSDT"}

    def switch(on: bool):
        def flip(_event):
            fault.active = on
            sim.trace.record(
                "fault.start" if on else "fault.stop", id=0, fault=fault.name, params=params
            )

        return flip

    for at_ms, on in ((FAULT_FROM_MS, True), (FAULT_TO_MS, False)):
        sim.env.timeout(at_ms * 1000 - sim.env.now).callbacks.append(switch(on))


SETUPS = {
    "clean": None,
    "naked": cancel_stops_mid_run,
    "refused": refuse_stops_for_a_while,
    "idle": None,  # the bot never enters: no position, so never naked
}


def bot_config(variant: str):
    cfg = load_config("bot/examples/demo.toml")
    if variant != "idle":
        return cfg
    return dataclasses.replace(cfg, signals=dataclasses.replace(cfg.signals, entries=()))


def write_run(folder: Path, variant: str) -> Path:
    """Run the bot in ``variant`` and write its run folder; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = BotRun(
        bot_config=bot_config(variant),
        tape=rise_then_fall(),
        repository_path=folder / "bot.sqlite",
        start_us=T0_MS * 1000,
        horizon_s=300,
        venue_config=VenueConfig(symbols=("SOONUSDT",)),
        rest_latency=Fixed(150),
        ws_latency=Fixed(20),
        setup=SETUPS[variant],
    )
    outcome = run_bot(spec)
    trace = outcome.sim.trace
    trace.write_jsonl(folder / "trace.jsonl")
    end_ms = outcome.result.end_us // 1000
    verdicts = [coverage_verdict(trace.lines, end_ms), errors_verdict(trace.lines)]
    (folder / "verdicts.json").write_text(json.dumps([v.to_dict() for v in verdicts], indent=1))
    summary = {
        "scenario": f"soonusdt-{variant}",
        "why": "The SOONUSDT trailing-stop incident of 2025-11-10 <replayed> & checked",
        "path": f"scenarios/soonusdt-{variant}.toml",
        "seed": 1,
        "variant": variant,
        "trace_sha256": trace.sha256(),
        "start_ms": T0_MS,
        "end_ms": end_ms,
        "expectations_met": variant != "naked",
        "verdicts": {v.checker: v.status for v in verdicts} | {"rate_budget": "pass"},
        "expected_failures": [],
        "replay": REPLAY.format(variant=variant),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))
    return folder


def coverage_verdict(lines, end_ms: int, bound_ms: int = 400) -> Verdict:
    windows = naked_windows(truth_records(lines), end_ms)
    worst = max((w.duration_ms for w in windows if not w.first), default=0)
    evidence = tuple(
        {
            "t_ms": w.start_ms,
            "until_ms": w.end_ms,
            "symbol": w.symbol,
            "what": "entry window" if w.first else "naked position",
            "amount": w.amount,
            "naked_ms": w.duration_ms,
        }
        for w in windows
    )
    status = FAIL if worst > 0 else PASS
    summary = f"naked for {worst} ms after the entry window" if worst else "covered after the entry"
    return Verdict("stop_coverage", status, summary, evidence, {"naked_ms_max": worst})


def errors_verdict(lines) -> Verdict:
    errors = [r for r in map(json.loads, lines) if r["kind"] == "venue.rest" and r["code"] != 0]
    evidence = tuple(
        {"t_ms": r["t_ms"], "what": f"{r['route']} answered {r['code']}", "fault": r["fault"]}
        for r in errors
    )
    return Verdict("errors_handled", PASS, f"{len(errors)} REST errors, each handled", evidence, {})
