"""A scenario, as loaded and validated (``sim.scenario.load``): plain frozen values.

A scenario states a world (exchange settings, a tape, the bot's config and entries), a
fault schedule, the phases of the run, and the expectations (which checkers must pass, with
their thresholds; for a bot variant, which checker must fail). Times inside a scenario are
offsets from its start, in milliseconds (files write them as ``"+1.092s"`` or ``"+79s"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

FAULT_KINDS = (
    "rest_latency",  # REST latency per endpoint: fixed, uniform, lognormal, with spikes
    "rest_response_dropped",  # the request reaches the venue, its answer is lost (timeout)
    "rest_error_burst",  # 429 / 418 / 5xx answered instead of the venue (no effect)
    "rest_unknown_outcome",  # the request takes effect, the client gets a 5xx
    "rest_position_omitted",  # positionRisk (and account positions) leave a symbol out
    "user_stream_delayed",  # user-data events delayed by delay_ms
    "user_stream_dropped",  # user-data events lost
    "user_stream_duplicated",  # user-data events delivered twice
    "user_stream_held",  # user-data events held, released in one burst, reordered by type
    "stream_disconnected",  # WebSocket connections reset (user, market or both)
    "listen_key_expired",  # the listenKey expires now
    "order_forced_2021",  # new algo orders refused with -2021 (no effect)
    "algo_stuck_triggering",  # fired algo orders stay in TRIGGERING until the heal
    "bot_crashed",  # the bot process dies and restarts after restart_after_ms
    "repository_write_lag",  # the bot's database writes land delay_ms late
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    at_ms: int  # offset from the start
    until_ms: int | None  # heals then; None: at the heal phase (or it is instantaneous)
    params: dict[str, Any] = field(default_factory=dict)
    index: int = 0  # position in the schedule: the fault's id in records


@dataclass(frozen=True, slots=True)
class Waypoint:
    symbol: str
    at_ms: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class Walk:
    symbol: str
    start: Decimal
    vol_ticks: float
    spread_ticks: int = 0


@dataclass(frozen=True, slots=True)
class TapeSpec:
    file: Path | None = None  # a CSV/parquet tape; times in it are absolute epoch ms
    step_ms: int = 1000
    waypoints: tuple[Waypoint, ...] = ()  # scripted path (straight lines between points)
    walks: tuple[Walk, ...] = ()  # seeded random walks (with waypoints pinned on top)


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    symbols: tuple[str, ...]
    immediate_trigger: str = "reject"  # reject | reject_4142 | accept_and_fire
    slippage_ticks_max: int = 0
    initial_wallet: Decimal = Decimal("10000")
    rest_latency_ms: int = 0
    ws_latency_ms: int = 0


@dataclass(frozen=True, slots=True)
class EntrySpec:
    at_ms: int
    symbol: str
    side: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class BotSpec:
    config: Path  # the bot's TOML config
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # section -> keys
    variant: str = "reference"


@dataclass(frozen=True, slots=True)
class Phases:
    heal_at_ms: int  # every fault heals by then
    converge_within_ms: int  # after the heal, the bot's view must match the exchange's


@dataclass(frozen=True, slots=True)
class Expectations:
    checkers: dict[str, dict[str, Any]]  # checker -> its thresholds ({} for defaults)
    variants: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant -> must fail


@dataclass(frozen=True, slots=True)
class Scenario:
    path: Path
    id: str
    why: str
    source: str
    seed: int
    start_ms: int  # epoch ms
    duration_ms: int
    exchange: ExchangeSpec
    tape: TapeSpec
    bot: BotSpec
    entries: tuple[EntrySpec, ...]
    faults: tuple[Fault, ...]
    phases: Phases
    expect: Expectations
