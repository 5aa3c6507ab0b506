"""Write a :class:`~sim.scenario.model.Scenario` back out as a scenario file (TOML).

The fuzzer files what it finds through this module, so the invariant is the round trip:
``load_scenario(path)`` of what :func:`dump_scenario` wrote equals the scenario that was
dumped (apart from ``path``), and therefore replays to the same trace. Paths are written
relative to the scenario's folder (``./``) when they sit under it, else relative to the
futsim checkout, as the loader reads them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from sim.runtime.units import ms_to_us, us_to_iso
from sim.scenario.load import REPO_ROOT, _ms_text
from sim.scenario.model import Scenario


def toml_value(value: Any) -> str:
    """One TOML value: str, int, float, bool, Decimal (as a string), lists, tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no place for {value!r} here")
        return repr(value)
    if isinstance(value, Decimal):
        return json.dumps(str(value))
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _offset(ms: int) -> str:
    return f"+{_ms_text(ms)}"


def _path_text(path: Path, folder: Path) -> str:
    path = path.resolve()
    try:
        return "./" + path.relative_to(folder.resolve()).as_posix()
    except ValueError:
        pass
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        raise ValueError(
            f"{path}: a scenario can only name files under its own folder or the futsim "
            f"checkout ({REPO_ROOT}); copy the file there"
        ) from None


def dump_scenario(scenario: Scenario, *, header: str = "") -> str:
    """The scenario as TOML text; ``header`` (lines) goes on top as comments."""
    s = scenario
    folder = s.path.parent
    out: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    if out:
        out.append("")

    def table(name: str, values: Mapping[str, Any]) -> None:
        out.append(f"[{name}]")
        out.extend(f"{_key(k)} = {toml_value(v)}" for k, v in values.items())
        out.append("")

    table(
        "meta",
        {
            "id": s.id,
            "why": s.why,
            "source": s.source,
            "seed": s.seed,
            "start": us_to_iso(ms_to_us(s.start_ms)).replace("+00:00", "Z"),
            "duration": _ms_text(s.duration_ms),
        },
    )
    ex = s.exchange
    table(
        "exchange",
        {
            "symbols": list(ex.symbols),
            "immediate_trigger": ex.immediate_trigger,
            "slippage_ticks_max": ex.slippage_ticks_max,
            "initial_wallet": ex.initial_wallet,
            "rest_latency": f"{ex.rest_latency_ms}ms",
            "ws_latency": f"{ex.ws_latency_ms}ms",
        },
    )
    tape = s.tape
    if tape.file is not None:
        table("tape", {"file": _path_text(tape.file, folder)})
    else:
        table("tape", {"step": f"{tape.step_ms}ms"})
        for w in tape.waypoints:
            table("[tape.points]", {"at": _offset(w.at_ms), "symbol": w.symbol, "price": w.price})
        for walk in tape.walks:
            table(
                "[tape.walks]",
                {
                    "symbol": walk.symbol,
                    "start": walk.start,
                    "vol_ticks": float(walk.vol_ticks),
                    "spread_ticks": walk.spread_ticks,
                },
            )
    table("bot", {"config": _path_text(s.bot.config, folder), "variant": s.bot.variant})
    for section, keys in s.bot.overrides.items():
        table(f"bot.overrides.{section}", keys)
    for e in s.entries:
        table(
            "[entries]",
            {"at": _offset(e.at_ms), "symbol": e.symbol, "side": e.side, "quantity": e.quantity},
        )
    for f in s.faults:
        timing: dict[str, Any] = {"at": _offset(f.at_ms)}
        if f.until_ms is not None:
            timing["until"] = _offset(f.until_ms)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in f.params.items()}
        table("[faults]", {**timing, "kind": f.kind, **params})
    table(
        "phases",
        {
            "heal_at": _offset(s.phases.heal_at_ms),
            "converge_within": _ms_text(s.phases.converge_within_ms),
        },
    )
    for name, thresholds in s.expect.checkers.items():
        table(f"expect.checkers.{name}", thresholds)
    if s.expect.variants:
        table("expect.variants", {k: list(v) for k, v in s.expect.variants.items()})
    return "\n".join(out).rstrip() + "\n"
