"""Reading scenario files: TOML in, a validated ``Scenario`` (``sim.scenario.model``) out.

Invariant: a ``Scenario`` that exists is complete and consistent. Every time in it is a whole
number of milliseconds inside the run; every symbol is in the exchangeInfo fixture and every
scripted price on that symbol's tick grid; every path is resolved to a file that exists; the
bot config, with the scenario's overrides applied, is accepted by ``bot.config``; the fault
schedule heals by ``phases.heal_at`` and leaves time to converge before the end.

Every mistake is one ``ScenarioError`` naming the file, the dotted key (list items by index,
``faults[2].until``), what was expected, what was found and how to fix it — never a Python
traceback. Unknown keys are mistakes too (with a did-you-mean): a misspelt optional key would
otherwise fall back to its default without a word. The format is in ``README.md`` here.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path
from typing import Any, NoReturn

from bot import config_values
from bot.config import BotConfig, ConfigError, parse_config
from bot.config_values import MISSING, Reject, Rule, choice, integer, number, show, text
from sim.scenario.model import (
    FAULT_KINDS,
    BotSpec,
    EntrySpec,
    ExchangeSpec,
    Expectations,
    Fault,
    Phases,
    Scenario,
    TapeSpec,
    Walk,
    Waypoint,
)

REPO_ROOT = Path(__file__).resolve().parents[2]  # the futsim checkout
EXCHANGE_INFO = REPO_ROOT / "fixtures" / "exchange_info.json"  # as VenueConfig's default
FORMAT_DOC = "sim/scenario/README.md"
IMMEDIATE_TRIGGER = ("reject", "reject_4142", "accept_and_fire")  # ExchangeConfig's policies


class ScenarioError(ValueError):
    """A mistake in a scenario file; the message says where, what and how to fix it."""

    def __init__(
        self,
        source: str,
        key: str,
        expected: str,
        found: str,
        fix: str,
        *,
        line: int | None = None,
    ) -> None:
        self.source, self.key, self.line = source, key, line
        self.expected, self.found, self.fix = expected, found, fix
        where = source + (f":{line}" if line is not None else "") + (f": {key}" if key else "")
        super().__init__(f"{where}: expected {expected}, got {found}; {fix}")


# --- values: how one TOML value is read ----------------------------------------------------


def _ms_text(ms: int) -> str:
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}s" if not rest else f"{seconds}.{rest:03d}".rstrip("0") + "s"


_UNITS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_NUM = r"[0-9]+(?:\.[0-9]+)?"
_DURATION = re.compile(
    rf"(?:(?P<h>{_NUM})h)?(?:(?P<m>{_NUM})m)?(?:(?P<s>{_NUM})s)?(?:(?P<ms>{_NUM})ms)?"
)


def _duration_ms(value: Any) -> int:
    """``"300s"``, ``"5m"``, ``"1h30m"``, ``"1.092s"``, ``"250ms"`` or an integer of ms."""
    if isinstance(value, bool):
        raise Reject
    if isinstance(value, int):
        if value < 0:
            raise Reject
        return value
    if not isinstance(value, str):
        raise Reject
    if re.fullmatch(r"[0-9]+", value):
        raise Reject(fix=f'give it a unit ("{value}ms", "{value}s") or write {value} (ms)')
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise Reject
    with localcontext(prec=60) as exact:
        exact.traps[Inexact] = True  # a rounded sum could hide a fraction of a millisecond
        try:
            total = sum(Decimal(n) * _UNITS[u] for u, n in match.groupdict().items() if n)
        except Inexact:
            raise Reject(found=f"{show(value)} (too many digits)") from None
    if total != total.to_integral_value():
        raise Reject(found=f"{show(value)} (finer than a millisecond)", fix="round it to 1 ms")
    return int(total)


def _offset_ms(value: Any) -> int:
    """``"+1.092s"``: a duration after ``meta.start`` with a leading ``+``, or integer ms."""
    if isinstance(value, str):
        if value.startswith("-"):
            raise Reject(found=f"{show(value)} (before meta.start)")
        if not value.startswith("+"):
            _duration_ms(value)  # not a duration either: the generic wording
            raise Reject(fix=f'write it as an offset with a leading +, e.g. "+{value}"')
        value = value[1:]
    return _duration_ms(value)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Reject
    if not math.isfinite(value) or value < 0:
        raise Reject
    return float(value)


_DURATION_TEXT = 'a duration such as "300s", "5m", "1h30m", "1.092s", "250ms", or integer ms'
_OFFSET_TEXT = 'an offset from meta.start such as "+1.092s" or "+79s" (or integer ms)'
_START_RULE = Rule(
    "an ISO-8601 UTC instant",
    '"2025-11-10T16:02:30Z"',
    functools.partial(config_values.instant_ms, finer_fix="round it to 1 ms"),
)
_LATENCY_RULE = Rule(_DURATION_TEXT, '"250ms"', _duration_ms)
_OFFSET_RULE = Rule(_OFFSET_TEXT, '"+1s"', _offset_ms)
_SYMBOL_RULE = text("a symbol of exchange.symbols", '"SOONUSDT"')
_PRICE_RULE = number("a price greater than 0 (a decimal string)", '"2.0333"', lambda d: d > 0)


# --- reading tables ------------------------------------------------------------------------


class _Doc:
    """One scenario document being read: every failure names its file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str, found: str, fix: str) -> NoReturn:
        raise ScenarioError(self.source, key, expected, found, fix)

    def table(self, key: str, raw: Any, known: Sequence[str]) -> Mapping[str, Any]:
        written = config_values.header(key)
        if raw is MISSING:
            fix = f"add a {written} table (see {FORMAT_DOC})"
            self.fail(key, f"a {written} table", "nothing (the table is missing)", fix)
        if not isinstance(raw, Mapping):
            self.fail(key, f"a {written} table", show(raw), f"write it as a {written} table")
        for name in raw:
            if name not in known:
                self.unknown(f"{key}.{name}" if key else name, name, known)
        return raw

    def pick(self, key: str, value: Any, options: Sequence[str], expected: str, fix: str) -> Any:
        """``value`` if it is one of ``options``; else a failure with a did-you-mean."""
        if value in options:
            return value
        close = difflib.get_close_matches(str(value), options, n=1)
        self.fail(key, expected, show(value), f"did you mean {close[0]}?" if close else fix)

    def unknown(self, key: str, name: str, known: Sequence[str], moved: str = "") -> NoReturn:
        self.fail(key, *config_values.unknown_key(name, known, moved))

    def value(
        self, raw: Mapping[str, Any], prefix: str, name: str, rule: Rule, default: Any = MISSING
    ) -> Any:
        return config_values.read_value(
            raw, prefix, name, rule, default, self.fail, key_in_example=True
        )

    def tables(self, key: str, raw: Any) -> list[Mapping[str, Any]]:
        """An array of tables (``[[key]]``); each item is checked by the caller."""
        if raw is MISSING:
            return []
        if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
            self.fail(key, f"a list of [[{key}]] tables", show(raw), f"write each as [[{key}]]")
        return raw

    def within(self, key: str, ms: int, limit_ms: int, limit: str, fix: str) -> int:
        """An offset must fall before ``limit`` (``meta.duration`` or ``phases.heal_at``)."""
        if ms >= limit_ms:
            expected = f"an offset under {limit} (+{_ms_text(limit_ms)})"
            self.fail(key, expected, f"+{_ms_text(ms)}", fix)
        return ms

    def path(self, key: str, value: Any, folder: Path, root: Path, suffixes: Sequence[str]) -> Path:
        rule_text = (
            f"a path to an existing {' or '.join(suffixes)} file: relative to the scenario's "
            f'folder if it starts with "./" or "../", else to the futsim checkout ({root})'
        )
        if not isinstance(value, str) or not value.strip():
            self.fail(key, rule_text, show(value), f"use e.g. {key.rsplit('.', 1)[-1]} = ...")
        relative = value.startswith(("./", "../"))
        try:
            path = (folder / value if relative else root / value).resolve()
        except (OSError, ValueError) as bad:  # a NUL byte, a name too long
            self.fail(key, rule_text, f"{show(value)} ({bad})", "write a plain file path")
        if path.suffix not in suffixes:
            self.fail(key, rule_text, show(value), f"name a {' or '.join(suffixes)} file")
        if not path.is_file():
            base = "the scenario's folder" if relative else "the futsim checkout"
            fix = f"check the spelling (it is read relative to {base}: {path.parent})"
            if not relative and (folder / value).is_file():
                fix = f'write "./{value}": without ./ a path is relative to the futsim checkout'
            self.fail(key, rule_text, f"{show(value)} (no such file: {path})", fix)
        return path


# --- the exchangeInfo fixture ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PriceRule:
    tick: Decimal
    min_price: Decimal
    max_price: Decimal


@functools.cache
def _symbol_rules(path: Path) -> dict[str, _PriceRule]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rules = {}
        for entry in doc["symbols"]:
            price = next(f for f in entry["filters"] if f["filterType"] == "PRICE_FILTER")
            rules[entry["symbol"]] = _PriceRule(
                Decimal(price["tickSize"]), Decimal(price["minPrice"]), Decimal(price["maxPrice"])
            )
    except (OSError, ValueError, KeyError, TypeError, StopIteration, InvalidOperation) as bad:
        fix = "restore the fixture from the repository"
        raise ScenarioError(str(path), "", "an exchangeInfo snapshot", repr(bad), fix) from None
    return rules


def _price_on_grid(doc: _Doc, key: str, value: Any, symbol: str, price: Decimal) -> None:
    rule = _symbol_rules(EXCHANGE_INFO)[symbol]
    if price < rule.min_price or (rule.max_price > 0 and price > rule.max_price):
        doc.fail(
            key,
            f"a price within {symbol}'s PRICE_FILTER ({rule.min_price} to {rule.max_price})",
            show(value),
            "use a price the exchange accepts",
        )
    with localcontext(prec=100):  # exact for any price the filter lets through
        off = price % rule.tick
    if off:
        below = (price - off).quantize(rule.tick)
        doc.fail(
            key,
            f"a price on {symbol}'s tick grid (tickSize {rule.tick})",
            show(value),
            f'round it to the tick: "{below}" or "{below + rule.tick}"',
        )


# --- the sections --------------------------------------------------------------------------

_TOP = ("meta", "exchange", "tape", "bot", "entries", "faults", "phases", "expect")
_META = ("id", "why", "source", "seed", "start", "duration")
_EXCHANGE = (
    "symbols",
    "immediate_trigger",
    "slippage_ticks_max",
    "initial_wallet",
    "rest_latency",
    "ws_latency",
)
_TAPE = ("file", "step", "points", "walks")
_POINT = ("at", "symbol", "price")
_WALK = ("symbol", "start", "vol_ticks", "spread_ticks")
_BOT = ("config", "variant", "overrides")
_ENTRY = ("at", "symbol", "side", "quantity")
_PHASES = ("heal_at", "converge_within")
_EXPECT = ("checkers", "variants")
_SECTIONS = {
    "meta": _META,
    "exchange": _EXCHANGE,
    "tape": _TAPE,
    "bot": _BOT,
    "phases": _PHASES,
    "expect": _EXPECT,
}


def _meta(doc: _Doc, raw: Mapping[str, Any], path: Path) -> dict[str, Any]:
    meta = doc.table("meta", raw, _META)
    values = {
        "id": doc.value(meta, "meta", "id", text("an id of a-z, 0-9 and -", '"x"', r"[a-z0-9-]+")),
        "why": doc.value(meta, "meta", "why", text("a non-empty paragraph", '"..."')),
        "source": doc.value(meta, "meta", "source", text("a path or URL", '""', r".*"), ""),
        "seed": doc.value(meta, "meta", "seed", integer("an integer >= 0", "1", _nonneg), 1),
        "start_ms": doc.value(meta, "meta", "start", _START_RULE),
        "duration_ms": doc.value(
            meta, "meta", "duration", Rule(f"{_DURATION_TEXT}, > 0", '"5m"', _positive_duration)
        ),
    }
    if values["id"] != path.stem:
        doc.fail(
            "meta.id",
            f"the file's name without .toml ({show(path.stem)})",
            show(values["id"]),
            f"set id = {show(path.stem)}, or rename the file to {values['id']}.toml",
        )
    return values


def _nonneg(n: int) -> bool:
    return n >= 0


def _positive_duration(value: Any) -> int:
    ms = _duration_ms(value)
    if ms <= 0:
        raise Reject
    return ms


def _exchange(doc: _Doc, raw: Any) -> ExchangeSpec:
    table = doc.table("exchange", raw, _EXCHANGE)
    known = _symbol_rules(EXCHANGE_INFO)
    if "symbols" not in table:
        doc.fail(
            "exchange.symbols",
            "a non-empty list of symbols",
            "nothing (the key is missing)",
            'add symbols = ["SOONUSDT"] under [exchange]',
        )
    symbols = table["symbols"]
    expected = f"a non-empty list of symbols of {EXCHANGE_INFO.name} ({', '.join(known)})"
    if not isinstance(symbols, list) or not symbols:
        doc.fail("exchange.symbols", expected, show(symbols), 'use e.g. symbols = ["SOONUSDT"]')
    for i, symbol in enumerate(symbols):
        key = f"exchange.symbols[{i}]"
        doc.pick(key, symbol, list(known), expected, f"use one of {', '.join(known)}")
        if symbols.index(symbol) != i:
            doc.fail(key, "each symbol once", f"{symbol} listed twice", "list it once")
    wallet = number("a decimal amount greater than 0", '"10000"', lambda d: d > 0)
    trigger = choice(*IMMEDIATE_TRIGGER, suggest=True)
    return ExchangeSpec(
        symbols=tuple(symbols),
        immediate_trigger=doc.value(table, "exchange", "immediate_trigger", trigger, "reject"),
        slippage_ticks_max=doc.value(
            table, "exchange", "slippage_ticks_max", integer("an integer >= 0", "0", _nonneg), 0
        ),
        initial_wallet=doc.value(table, "exchange", "initial_wallet", wallet, Decimal("10000")),
        rest_latency_ms=doc.value(table, "exchange", "rest_latency", _LATENCY_RULE, 0),
        ws_latency_ms=doc.value(table, "exchange", "ws_latency", _LATENCY_RULE, 0),
    )


def _symbol(doc: _Doc, table: Mapping[str, Any], prefix: str, symbols: tuple[str, ...]) -> str:
    symbol = doc.value(table, prefix, "symbol", _SYMBOL_RULE)
    expected = f"one of exchange.symbols ({', '.join(symbols)})"
    if symbol not in symbols and symbol in _symbol_rules(EXCHANGE_INFO):
        doc.fail(f"{prefix}.symbol", expected, show(symbol), f"add {symbol} to exchange.symbols")
    return doc.pick(f"{prefix}.symbol", symbol, symbols, expected, "add it to exchange.symbols")


def _tape(doc: _Doc, raw: Any, ctx: _Context, folder: Path, root: Path) -> TapeSpec:
    table = doc.table("tape", raw, _TAPE)
    has_file = "file" in table
    if has_file and ("points" in table or "walks" in table):
        other = "points" if "points" in table else "walks"
        doc.fail(
            f"tape.{other}",
            "either tape.file or scripted tape.points / tape.walks, not both",
            "both",
            f"remove file, or remove the [[tape.{other}]] tables",
        )
    if has_file:
        if "step" in table:
            doc.fail(
                "tape.step",
                "no step with tape.file (step only spaces generated points)",
                show(table["step"]),
                "remove step",
            )
        file = doc.path("tape.file", table["file"], folder, root, (".csv", ".parquet"))
        return TapeSpec(file=file)
    if "points" not in table and "walks" not in table:
        doc.fail(
            "tape",
            "tape.file, or [[tape.points]] and/or [[tape.walks]]",
            "none of them",
            'add file = "fixtures/tapes/<name>.csv" under [tape], or [[tape.points]] waypoints',
        )
    step_rule = Rule(f"{_DURATION_TEXT}, > 0", '"1s"', _positive_duration)
    step_ms = doc.value(table, "tape", "step", step_rule, 1000)
    waypoints: list[Waypoint] = []
    seen: dict[tuple[str, int], int] = {}
    for i, point in enumerate(doc.tables("tape.points", table.get("points", MISSING))):
        prefix = f"tape.points[{i}]"
        doc.table(prefix, point, _POINT)
        at_ms = ctx.offset(prefix, point, "at")
        symbol = _symbol(doc, point, prefix, ctx.symbols)
        price = doc.value(point, prefix, "price", _PRICE_RULE)
        _price_on_grid(doc, f"{prefix}.price", point["price"], symbol, price)
        if (symbol, at_ms) in seen:
            doc.fail(
                f"{prefix}.at",
                f"one waypoint per symbol and instant (tape.points[{seen[symbol, at_ms]}] "
                f"already sets {symbol} at +{_ms_text(at_ms)})",
                f"+{_ms_text(at_ms)}",
                "remove one of the two, or move it",
            )
        seen[symbol, at_ms] = i
        waypoints.append(Waypoint(symbol=symbol, at_ms=at_ms, price=price))
    walks: list[Walk] = []
    for i, walk in enumerate(doc.tables("tape.walks", table.get("walks", MISSING))):
        prefix = f"tape.walks[{i}]"
        doc.table(prefix, walk, _WALK)
        symbol = _symbol(doc, walk, prefix, ctx.symbols)
        if any(w.symbol == symbol for w in walks):
            doc.fail(
                f"{prefix}.symbol",
                "one walk per symbol",
                f"a second walk for {symbol}",
                "remove one",
            )
        start = doc.value(walk, prefix, "start", _PRICE_RULE)
        _price_on_grid(doc, f"{prefix}.start", walk["start"], symbol, start)
        vol = Rule("a number >= 0 (ticks per step, one standard deviation)", "5.0", _float)
        spread = integer("an integer >= 0", "0", _nonneg)
        walks.append(
            Walk(
                symbol=symbol,
                start=start,
                vol_ticks=doc.value(walk, prefix, "vol_ticks", vol),
                spread_ticks=doc.value(walk, prefix, "spread_ticks", spread, 0),
            )
        )
    walked = {w.symbol for w in walks}
    for symbol in ctx.symbols:
        count = sum(1 for w in waypoints if w.symbol == symbol)
        if symbol not in walked and not count:
            doc.fail(
                "tape.points",
                f"a price path for every symbol of exchange.symbols: {symbol} needs "
                "[[tape.points]] (straight lines between them, the last held) or a [[tape.walks]]",
                f"no point for {symbol}",
                f"add [[tape.points]] for {symbol} (the first at +0s), or a walk for it",
            )
    return TapeSpec(step_ms=step_ms, waypoints=tuple(waypoints), walks=tuple(walks))


@dataclass(frozen=True, slots=True)
class _Context:
    """What later sections are checked against: the run's length and symbols."""

    doc: _Doc
    duration_ms: int
    symbols: tuple[str, ...]

    def offset(self, prefix: str, table: Mapping[str, Any], name: str = "at") -> int:
        ms = self.doc.value(table, prefix, name, _OFFSET_RULE)
        fix = "move it inside the run, or lengthen meta.duration"
        return self.doc.within(f"{prefix}.{name}", ms, self.duration_ms, "meta.duration", fix)


def _phases(doc: _Doc, raw: Any, duration_ms: int) -> Phases:
    table = doc.table("phases", {} if raw is MISSING else raw, _PHASES)
    converge_rule = Rule(_DURATION_TEXT, '"30s"', _duration_ms)
    converge = doc.value(table, "phases", "converge_within", converge_rule, 30_000)
    heal_rule = Rule(f"{_OFFSET_TEXT}, at most meta.duration", '"+200s"', _offset_ms)
    if "heal_at" not in table:
        if converge > duration_ms:
            doc.fail(
                "phases.converge_within",
                f"at most meta.duration ({_ms_text(duration_ms)})",
                _ms_text(converge),
                "shorten converge_within, or lengthen meta.duration",
            )
        return Phases(heal_at_ms=duration_ms - converge, converge_within_ms=converge)
    heal = doc.value(table, "phases", "heal_at", heal_rule)
    if heal + converge > duration_ms:
        latest = duration_ms - converge
        fix = (
            f"move heal_at to +{_ms_text(latest)} or earlier, shorten converge_within, "
            "or lengthen meta.duration"
            if latest >= 0
            else "shorten converge_within, or lengthen meta.duration"
        )
        doc.fail(
            "phases.heal_at",
            f"heal_at + converge_within at most meta.duration ({_ms_text(duration_ms)})",
            f"+{_ms_text(heal)} + {_ms_text(converge)} = {_ms_text(heal + converge)}",
            fix,
        )
    return Phases(heal_at_ms=heal, converge_within_ms=converge)


def _entries(doc: _Doc, raw: Any, ctx: _Context, tape: TapeSpec) -> tuple[EntrySpec, ...]:
    entries = []
    for i, entry in enumerate(doc.tables("entries", raw)):
        prefix = f"entries[{i}]"
        doc.table(prefix, entry, _ENTRY)
        at_ms = ctx.offset(prefix, entry)
        symbol = _symbol(doc, entry, prefix, ctx.symbols)
        side = doc.value(entry, prefix, "side", choice("long", "short", suggest=True))
        quantity_rule = number("a quantity greater than 0", '"4"', lambda d: d > 0)
        quantity = doc.value(entry, prefix, "quantity", quantity_rule)
        first = min((w.at_ms for w in tape.waypoints if w.symbol == symbol), default=0)
        walked = any(w.symbol == symbol for w in tape.walks)
        if tape.file is None and not walked and at_ms < first:
            doc.fail(
                f"{prefix}.at",
                f"an instant when {symbol} has a price (its first tape point is at "
                f"+{_ms_text(first)})",
                f"+{_ms_text(at_ms)}",
                f"move the entry later, or add a [[tape.points]] for {symbol} at or before it",
            )
        entries.append(EntrySpec(at_ms=at_ms, symbol=symbol, side=side, quantity=quantity))
    return tuple(entries)


def _faults(doc: _Doc, raw: Any, ctx: _Context, phases: Phases) -> tuple[Fault, ...]:
    faults = []
    for i, fault in enumerate(doc.tables("faults", raw)):
        prefix = f"faults[{i}]"
        doc.table(prefix, fault, list(fault))  # every key but at/until/kind is a param
        at_ms = ctx.offset(prefix, fault)
        heal_fix = "move it before phases.heal_at, or set a later heal_at"
        doc.within(f"{prefix}.at", at_ms, phases.heal_at_ms, "phases.heal_at", heal_fix)
        kind_rule = text(f"a fault kind ({', '.join(FAULT_KINDS)})", f'"{FAULT_KINDS[0]}"')
        kind = doc.value(fault, prefix, "kind", kind_rule)
        fix = f"see {FORMAT_DOC} for what each kind does"
        doc.pick(f"{prefix}.kind", kind, FAULT_KINDS, kind_rule.expected, fix)
        until_ms = None
        if "until" in fault:
            until_ms = doc.value(fault, prefix, "until", _OFFSET_RULE)
            if _instantaneous(kind):
                expected = f"no until: {kind} is instantaneous (it happens at at)"
                doc.fail(f"{prefix}.until", expected, show(fault["until"]), "remove until")
            if until_ms <= at_ms:
                doc.fail(
                    f"{prefix}.until",
                    f"an offset after at (+{_ms_text(at_ms)})",
                    f"+{_ms_text(until_ms)}",
                    "set until later than at, or leave it out to heal at phases.heal_at",
                )
            if until_ms > phases.heal_at_ms:
                doc.fail(
                    f"{prefix}.until",
                    f"an offset at most phases.heal_at (+{_ms_text(phases.heal_at_ms)}): every "
                    "fault heals by then",
                    f"+{_ms_text(until_ms)}",
                    "move until earlier, leave it out, or set a later phases.heal_at",
                )
        params = {k: v for k, v in fault.items() if k not in ("at", "until", "kind")}
        if isinstance(params.get("symbol"), str):  # a symbol the run lists
            _symbol(doc, fault, prefix, ctx.symbols)
        params = _validate_fault_params(kind, params, _Where(doc, prefix))
        faults.append(Fault(kind=kind, at_ms=at_ms, until_ms=until_ms, params=params, index=i))
    return tuple(faults)


@dataclass(frozen=True, slots=True)
class _Where:
    doc: _Doc
    prefix: str  # faults[i]


def _split_detail(detail: str) -> tuple[str, str, str] | None:
    """``"[where: ]expected X, got Y; fix"`` (the house format, or ``". Fix: fix"``) into
    its three parts; None when the message is not in that form."""
    match = re.search(r"(?:^|: )expected (.+?), got (.+?)(?:; |\. Fix: )(.+)$", detail, re.DOTALL)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _validate_fault_params(kind: str, params: dict[str, Any], where: _Where) -> dict[str, Any]:
    """THE single call site of ``sim.nemesis.validate_params(kind, params) -> dict``.

    ``sim.nemesis`` is written alongside this module; while it (or its ``validate_params``)
    cannot be imported, the params are accepted as written, unchecked.
    """
    try:
        from sim.nemesis import validate_params  # lazy: loading needs no simulator
    except ImportError as missing:
        if isinstance(missing, ModuleNotFoundError) and missing.name not in ("sim.nemesis", None):
            raise  # a dependency of sim.nemesis is missing: an installation problem
        return dict(params)
    try:
        from sim.nemesis import params_of  # optional: unknown params in the house wording
    except ImportError:
        pass
    else:
        try:
            known = ["at", "until", "kind", *params_of(kind)]
        except ValueError:  # a kind the catalogue lacks: validate_params says so below
            known = [*params]
        for name in params:
            if name not in known:
                where.doc.unknown(f"{where.prefix}.{name}", name, known)
    try:
        validated = validate_params(kind, dict(params))
    except (ValueError, TypeError, KeyError) as bad:
        detail = str(bad.args[0]) if isinstance(bad, KeyError) and bad.args else str(bad)
        param = getattr(bad, "param", None) or getattr(bad, "key", None)
        key = f"{where.prefix}.{param}" if isinstance(param, str) and param else where.prefix
        parts = _split_detail(detail)
        if parts is None:  # e.g. "fault 'k', param 'p': missing required param. Fix: add p = ..."
            head, _, fix = re.sub(r"^fault [^:]*: ", "", detail).partition("Fix: ")
            expected, found = f"the params of a {kind} fault", head.strip().rstrip(".")
            missing = re.fullmatch(r"missing required param(?: \((.*)\))?", found)
            if missing:
                expected = f"{param or 'a param'}" + (f": {missing[1]}" if missing[1] else "")
                found = "nothing (the key is missing)"
            parts = (expected, found, fix or f"see the params of {kind} in {FORMAT_DOC}")
        where.doc.fail(key, *parts)
    return dict(validated) if isinstance(validated, Mapping) else dict(params)


def _instantaneous(kind: str) -> bool:
    """``sim.nemesis.is_instantaneous`` (such a fault takes no ``until``); False while the
    nemesis cannot be imported."""
    try:
        from sim.nemesis import is_instantaneous

        return bool(is_instantaneous(kind))
    except (ImportError, ValueError):  # no nemesis yet, or a kind its catalogue lacks
        return False


def _known_checkers() -> tuple[str, ...] | None:
    """The names in ``sim.checkers.REGISTRY``, or None while it does not exist yet."""
    try:
        from sim.checkers import REGISTRY  # lazy, like the nemesis
    except ImportError:
        return None
    return tuple(REGISTRY)


def _checker_name(doc: _Doc, key: str, name: Any, known: tuple[str, ...] | None) -> str:
    listed = ", ".join(known) if known else "a checker name of a-z, 0-9 and _"
    expected = f"a checker ({listed})"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        doc.fail(key, expected, show(name), 'use e.g. "stop_coverage"')
    return doc.pick(key, name, known, expected, f"use one of {listed}") if known else name


def _expect(doc: _Doc, raw: Any, variant: str) -> Expectations:
    table = doc.table("expect", raw, _EXPECT)
    known = _known_checkers()
    raw_checkers = table.get("checkers", MISSING)
    shape = "a non-empty list of checker names, or [expect.checkers.<name>] tables"
    checkers: dict[str, dict[str, Any]] = {}
    if isinstance(raw_checkers, list) and raw_checkers:
        for i, name in enumerate(raw_checkers):
            name = _checker_name(doc, f"expect.checkers[{i}]", name, known)
            if name in checkers:
                doc.fail(
                    f"expect.checkers[{i}]", "each checker once", f"{name} twice", "list it once"
                )
            checkers[name] = {}
    elif isinstance(raw_checkers, Mapping) and raw_checkers:
        for name, thresholds in raw_checkers.items():
            key = f"expect.checkers.{name}"
            _checker_name(doc, key, name, known)
            if not isinstance(thresholds, Mapping):
                fix = f"write its thresholds under [expect.checkers.{name}] (or list names only)"
                doc.fail(key, "a table of thresholds", show(thresholds), fix)
            checkers[name] = copy.deepcopy(dict(thresholds))
    else:
        found = "nothing (the key is missing)" if raw_checkers is MISSING else show(raw_checkers)
        doc.fail("expect.checkers", shape, found, 'add checkers = ["stop_coverage"] under [expect]')
    variants: dict[str, tuple[str, ...]] = {}
    raw_variants = table.get("variants", {})
    if not isinstance(raw_variants, Mapping):
        doc.fail(
            "expect.variants",
            "a [expect.variants] table",
            show(raw_variants),
            "write it as a table",
        )
    for name, must_fail in raw_variants.items():
        key = f"expect.variants.{name}"
        if name == variant:
            doc.fail(
                key,
                f"a variant other than bot.variant ({variant}), whose checkers must pass",
                show(name),
                "remove it, or change bot.variant",
            )
        if not isinstance(must_fail, list) or not must_fail:
            doc.fail(
                key,
                "a non-empty list of checkers that must fail for this variant",
                show(must_fail),
                f'use e.g. {name} = ["stop_coverage"]',
            )
        names = []
        for i, checker in enumerate(must_fail):
            checker = _checker_name(doc, f"{key}[{i}]", checker, known)
            if checker not in checkers:
                doc.fail(
                    f"{key}[{i}]",
                    f"a checker of expect.checkers ({', '.join(checkers)})",
                    show(checker),
                    f"add {checker} to expect.checkers (the reference bot must pass it)",
                )
            names.append(checker)
        variants[name] = tuple(names)
    return Expectations(checkers=checkers, variants=variants)


# --- the bot ---------------------------------------------------------------------------------


def _bot(doc: _Doc, raw: Any, folder: Path, root: Path) -> BotSpec:
    table = doc.table("bot", raw, _BOT)
    if "config" not in table:
        doc.fail(
            "bot.config",
            "a path to the bot's TOML config",
            "nothing (the key is missing)",
            'add config = "bot/examples/demo.toml" under [bot]',
        )
    config = doc.path("bot.config", table["config"], folder, root, (".toml",))
    variant = doc.value(table, "bot", "variant", text("a variant name", '"reference"'), "reference")
    raw_overrides = table.get("overrides", {})
    if not isinstance(raw_overrides, Mapping):
        doc.fail(
            "bot.overrides",
            "[bot.overrides.<section>] tables",
            show(raw_overrides),
            "write e.g. [bot.overrides.protection] with the keys to change",
        )
    overrides: dict[str, dict[str, Any]] = {}
    for section, keys in raw_overrides.items():
        key = f"bot.overrides.{section}"
        if not isinstance(keys, Mapping):
            doc.fail(
                key,
                f"a [{key}] table of bot config keys",
                show(keys),
                f"write [{key}] and put the keys under it",
            )
        if section == "signals" and "entries" in keys:
            doc.fail(
                f"{key}.entries",
                "entries as [[entries]] (offsets from meta.start)",
                "signals.entries in the overrides",
                "write them as [[entries]] tables",
            )
        overrides[str(section)] = copy.deepcopy(dict(keys))
    return BotSpec(config=config, overrides=overrides, variant=variant)


def _bot_config(doc: _Doc, spec: BotSpec, entries: tuple[EntrySpec, ...]) -> BotConfig:
    """The bot config as the run will see it (the file, then the overrides), or a failure
    named at the scenario key that caused it."""
    try:
        with spec.config.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as bad:
        doc.fail(
            "bot.config",
            "a readable TOML bot config",
            f"{spec.config}: {bad}",
            "fix that file (bot.config.load_config reports it in detail)",
        )
    signals = data.get("signals")
    if entries and isinstance(signals, Mapping):  # the scenario's [[entries]] replace these
        data["signals"] = {k: v for k, v in signals.items() if k != "entries"}
    merged = copy.deepcopy(data)
    for section, keys in spec.overrides.items():
        base = merged.get(section, {})
        merged[section] = {**base, **keys} if isinstance(base, Mapping) else dict(keys)
    try:
        config = parse_config(merged, str(spec.config), base_dir=spec.config.parent)
    except ConfigError as bad:
        _config_failure(doc, bad, spec, data)
    for i, entry in enumerate(entries):
        if entry.symbol not in config.bot.symbols:
            doc.fail(
                f"entries[{i}].symbol",
                f"a symbol the bot trades ({', '.join(config.bot.symbols)})",
                show(entry.symbol),
                "add it to bot.symbols in the bot config, or under [bot.overrides.bot]",
            )
    return config


def _config_failure(doc: _Doc, bad: ConfigError, spec: BotSpec, file: dict[str, Any]) -> NoReturn:
    """Re-raise bot.config's refusal at the scenario key that caused it: the overrides,
    unless the config file alone is refused at the same key."""
    source = str(spec.config)
    prefix = f"{source}: {bad.key}: " if bad.key else f"{source}: "
    detail = str(bad)[len(prefix) :] if str(bad).startswith(prefix) else str(bad)
    parts = _split_detail(detail) or ("a config bot.config accepts", detail, f"fix {source}")
    section = bad.key.split(".")[0].split("[")[0]
    try:
        parse_config(file, source, base_dir=spec.config.parent)
        in_file = False
    except ConfigError as alone:
        in_file = alone.key == bad.key
    if spec.overrides and not in_file:
        doc.fail(f"bot.overrides.{bad.key}", *parts)
    expected, found, fix = parts
    doc.fail(
        "bot.config",
        f"{bad.key or 'the file'}: {expected}",
        f"{found} in {source}",
        f"{fix} (in {source}, or under [bot.overrides.{section}])",
    )


# --- the document --------------------------------------------------------------------------


def parse_scenario(data: Mapping[str, Any], path: Path, *, root: Path | None = None) -> Scenario:
    """Validate ``data`` (a parsed TOML document) read from ``path``.

    ``path`` names the file in messages, gives ``meta.id`` its expected value (the stem) and
    the folder that ``./`` and ``../`` paths start from; other relative paths start from
    ``root`` (default: the futsim checkout).
    """
    path = Path(path)
    root = REPO_ROOT if root is None else Path(root)
    folder = path.absolute().parent
    doc = _Doc(str(path))
    for name in data:
        if name not in _TOP:
            home = [s for s, keys in _SECTIONS.items() if name in keys]
            doc.unknown(name, name, _TOP, f"move it under [{home[0]}]" if home else "")
    meta = _meta(doc, data.get("meta", MISSING), path)
    exchange = _exchange(doc, data.get("exchange", MISSING))
    ctx = _Context(doc, meta["duration_ms"], exchange.symbols)
    phases = _phases(doc, data.get("phases", MISSING), meta["duration_ms"])
    tape = _tape(doc, data.get("tape", MISSING), ctx, folder, root)
    entries = _entries(doc, data.get("entries", MISSING), ctx, tape)
    bot = _bot(doc, data.get("bot", MISSING), folder, root)
    config = _bot_config(doc, bot, entries)
    missing = [s for s in config.bot.symbols if s not in exchange.symbols]
    if missing:
        doc.fail(
            "exchange.symbols",
            f"every symbol the bot trades ({', '.join(config.bot.symbols)})",
            show(list(exchange.symbols)),
            f"add {', '.join(missing)} to exchange.symbols",
        )
    faults = _faults(doc, data.get("faults", MISSING), ctx, phases)
    expect = _expect(doc, data.get("expect", MISSING), bot.variant)
    return Scenario(
        path=path.absolute(),
        id=meta["id"],
        why=meta["why"],
        source=meta["source"],
        seed=meta["seed"],
        start_ms=meta["start_ms"],
        duration_ms=meta["duration_ms"],
        exchange=exchange,
        tape=tape,
        bot=bot,
        entries=entries,
        faults=faults,
        phases=phases,
        expect=expect,
    )


def load_scenario(path: str | Path, *, root: Path | None = None) -> Scenario:
    """Read and validate a scenario file; any mistake is a ``ScenarioError``."""
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        fix = "check the path (scenarios live in scenarios/, one .toml file each)"
        raise ScenarioError(source, "", "a scenario file (TOML)", "no such file", fix) from None
    except tomllib.TOMLDecodeError as bad:
        match = re.search(r"at line (\d+)", str(bad))
        line = int(match.group(1)) if match else None
        fix = f"fix the TOML syntax at line {line}" if line else "fix the TOML syntax"
        raise ScenarioError(
            source, "", "valid TOML", f"a syntax error: {bad}", fix, line=line
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as bad:
        fix = "check that the path is a readable UTF-8 file"
        raise ScenarioError(source, "", "a readable TOML file", str(bad), fix) from None
    return parse_scenario(data, path, root=root)


def describe(s: Scenario) -> str:
    """One line for ``futsim scenarios``: the id and the first sentence of ``why``."""
    why = " ".join(s.why.split())
    match = re.match(r"(.+?[.!?])(?:\s|$)", why)
    return f"{s.id}: {match.group(1) if match else why}"
