"""The bot's configuration: a TOML file parsed into a tree of frozen dataclasses.

Invariant: a ``BotConfig`` that exists is valid. Every mistake in the file — a missing or
unknown key, a wrong type, a value out of range, a contradiction between keys — is a
``ConfigError`` naming the file, the dotted key, what was expected, what was found and how to
fix it. Unknown keys are mistakes too: a misspelt optional key would otherwise fall back to
its default without a word, and for a stop distance that is money.

Defaults live in one place, the dataclasses; the rule tables below say how each key is read.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from bot.config_values import (
    EPOCH,
    MISSING,
    MS,
    Reject,
    Rule,
    choice,
    header,
    instant_ms,
    integer,
    number,
    read_value,
    show,
    text,
    unknown_key,
)

EXAMPLE = "bot/examples/demo.toml"


class ConfigError(ValueError):
    """A mistake in a bot config; the message says where, what and how to fix it."""

    def __init__(self, source: str, key: str, expected: str, found: str, fix: str) -> None:
        self.source, self.key = source, key
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: expected {expected}, got {found}; {fix}")


@dataclass(frozen=True, slots=True)
class BotSection:
    symbols: tuple[str, ...]
    client_id_prefix: str = "fs"


@dataclass(frozen=True, slots=True)
class ProtectionConfig:
    initial_stop_pct: Decimal
    activation_pct: Decimal
    callback_pct: Decimal
    working_type: str = "MARK_PRICE"
    min_move_ticks: int = 1
    min_move_interval_ms: int = 1000
    on_immediate_trigger: str = "close"
    stop_style: str = "reduce_only"
    triggering_timeout_ms: int = 5000
    rest_lag_bound_ms: int = 10000


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    request_timeout_ms: int = 5000
    max_attempts: int = 5
    retry_base_ms: int = 200
    retry_max_ms: int = 5000
    seed: int = 0


@dataclass(frozen=True, slots=True)
class ReconcileConfig:
    interval_ms: int = 60000
    listen_key_keepalive_ms: int = 1800000


@dataclass(frozen=True, slots=True)
class RepositoryConfig:
    path: str = "futsim-bot.sqlite"


@dataclass(frozen=True, slots=True)
class Entry:
    at_ms: int
    symbol: str
    side: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class SignalsConfig:
    kind: str
    entries: tuple[Entry, ...] = ()


@dataclass(frozen=True, slots=True)
class BotConfig:
    bot: BotSection
    protection: ProtectionConfig
    execution: ExecutionConfig
    reconcile: ReconcileConfig
    repository: RepositoryConfig
    signals: SignalsConfig
    source: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (decimals as strings); ``parse_config`` reads it back."""
        fields = dataclasses.fields(self)
        return {f.name: _plain(getattr(self, f.name)) for f in fields if f.name != "source"}


# --- rules: how one value is read ---------------------------------------------------------


def _symbols(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise Reject
    for symbol in value:
        if not isinstance(symbol, str) or not re.fullmatch(r"[A-Z0-9]+USDT", symbol):
            raise Reject(found=f"{show(symbol)} in {show(value)}")
        if value.count(symbol) > 1:
            raise Reject(found=f"{show(value)} ({symbol} is listed twice)", fix="list it once")
    return tuple(value)


def _list_of_tables(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise Reject
    return value


_PCT = "a percentage between 0 and 100, exclusive"
_RULES: dict[str, tuple[type, dict[str, Rule]]] = {
    "bot": (
        BotSection,
        {
            "symbols": Rule(
                "a non-empty list of unique USDⓈ-M symbols (A-Z and 0-9, ending in USDT)",
                '["SOONUSDT"]',
                _symbols,
            ),
            "client_id_prefix": text(
                "1 to 4 characters of a-z and 0-9 (client ids must fit Binance's 36-character "
                "limit)",
                '"fs"',
                r"[a-z0-9]{1,4}",
            ),
        },
    ),
    "protection": (
        ProtectionConfig,
        {
            "initial_stop_pct": number(_PCT, '"6"', lambda d: 0 < d < 100),
            "activation_pct": number(_PCT, '"1.5"', lambda d: 0 < d < 100),
            "callback_pct": number(
                "a percentage between 0.1 and 20 (Binance's callbackRate range)",
                '"1.0"',
                lambda d: Decimal("0.1") <= d <= 20,
            ),
            "working_type": choice("MARK_PRICE", "CONTRACT_PRICE"),
            "min_move_ticks": integer("an integer >= 1", "1", lambda n: n >= 1),
            "min_move_interval_ms": integer("an integer >= 0", "1000", lambda n: n >= 0),
            "on_immediate_trigger": choice("close", "reprice"),
            "stop_style": choice("reduce_only", "close_position"),
            "triggering_timeout_ms": integer("an integer > 0", "5000", lambda n: n > 0),
            "rest_lag_bound_ms": integer("an integer >= 0", "10000", lambda n: n >= 0),
        },
    ),
    "execution": (
        ExecutionConfig,
        {
            "request_timeout_ms": integer("an integer > 0", "5000", lambda n: n > 0),
            "max_attempts": integer("an integer >= 1", "5", lambda n: n >= 1),
            "retry_base_ms": integer("an integer > 0", "200", lambda n: n > 0),
            "retry_max_ms": integer("an integer > 0", "5000", lambda n: n > 0),
            "seed": integer("an integer", "0"),
        },
    ),
    "reconcile": (
        ReconcileConfig,
        {
            "interval_ms": integer("an integer > 0", "60000", lambda n: n > 0),
            "listen_key_keepalive_ms": integer(
                "an integer from 60000 to under 3600000 (a listenKey is valid for 60 minutes)",
                "1800000",
                lambda n: 60000 <= n < 3600000,
            ),
        },
    ),
    "repository": (
        RepositoryConfig,
        {"path": text("a file path (a non-empty string)", '"futsim-bot.sqlite"', r".+")},
    ),
    "signals": (
        SignalsConfig,
        {
            "kind": choice("schedule", "command"),
            "entries": Rule("a list of [[signals.entries]] tables", "[]", _list_of_tables),
        },
    ),
}


def _entry_rules(symbols: tuple[str, ...]) -> dict[str, Rule]:
    def convert(value: Any) -> str:
        if value not in symbols:
            raise Reject
        return value

    listed = ", ".join(symbols)
    return {
        "at": Rule(
            "an ISO-8601 UTC instant with Z or +00:00, to the millisecond",
            '"2025-11-10T16:02:31.092Z"',
            instant_ms,
        ),
        "symbol": Rule(
            f"one of bot.symbols ({listed})",
            json.dumps(symbols[0]),
            convert,
            fix=f"use one of {listed}, or add the symbol to bot.symbols",
        ),
        "side": choice("long", "short"),
        "quantity": number("a quantity greater than 0", '"4"', lambda d: d > 0),
    }


# --- reading tables -----------------------------------------------------------------------


def _no_unknown_keys(source: str, prefix: str, raw: Mapping[str, Any], known: list[str]) -> None:
    for name in raw:
        if name not in known:
            expected, found, fix = unknown_key(name, known)
            home = [section for section, (_, rules) in _RULES.items() if name in rules]
            if not prefix and home:  # a key written above its section header
                fix = f"move it under [{home[0]}]"
            key = f"{prefix}.{name}" if prefix else name
            raise ConfigError(source, key, expected, found, fix)


def _table(
    source: str, prefix: str, raw: Any, rules: Mapping[str, Rule], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    def fail(key: str, expected: str, found: str, fix: str) -> NoReturn:
        raise ConfigError(source, key, expected, found, fix) from None

    if not isinstance(raw, Mapping):
        fail(prefix, "a table", show(raw), f"write it as a {header(prefix)} table")
    _no_unknown_keys(source, prefix, raw, list(rules))
    return {
        name: read_value(raw, prefix, name, rule, defaults.get(name, MISSING), fail)
        for name, rule in rules.items()
    }


def _defaults(cls: type) -> dict[str, Any]:
    return {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }


def parse_config(
    data: Mapping[str, Any], source: str, *, base_dir: Path | None = None
) -> BotConfig:
    """Validate ``data`` (a parsed TOML document); ``source`` names it in error messages.

    A relative ``repository.path`` is joined to ``base_dir`` when one is given (``load_config``
    passes the config file's folder); without it the path is kept as written.
    """
    _no_unknown_keys(source, "", data, list(_RULES))
    values = {
        name: _table(source, name, data.get(name, {}), rules, _defaults(cls))
        for name, (cls, rules) in _RULES.items()
    }
    execution, signals = values["execution"], values["signals"]
    if execution["retry_max_ms"] < execution["retry_base_ms"]:
        base = execution["retry_base_ms"]
        raise ConfigError(
            source,
            "execution.retry_max_ms",
            f"an integer >= execution.retry_base_ms ({base})",
            str(execution["retry_max_ms"]),
            f"raise retry_max_ms to at least {base}, or lower retry_base_ms",
        )
    if signals["kind"] != "schedule" and signals["entries"]:
        raise ConfigError(
            source,
            "signals.entries",
            'no entries when signals.kind = "command" (entries come from the command input)',
            f"{len(signals['entries'])} [[signals.entries]] table(s)",
            'remove them, or set kind = "schedule"',
        )
    rules = _entry_rules(values["bot"]["symbols"])
    entries = []
    for i, raw in enumerate(signals["entries"]):
        entry = _table(source, f"signals.entries[{i}]", raw, rules, {})
        entries.append(Entry(entry["at"], entry["symbol"], entry["side"], entry["quantity"]))
    signals["entries"] = tuple(sorted(entries, key=lambda e: e.at_ms))
    path = values["repository"]["path"]
    if base_dir is not None and path != ":memory:" and not Path(path).is_absolute():
        values["repository"]["path"] = str(base_dir / path)
    sections = {name: cls(**values[name]) for name, (cls, _) in _RULES.items()}
    return BotConfig(**sections, source=source)


def load_config(path: str | Path) -> BotConfig:
    """Read and validate a bot config file; any mistake is a ``ConfigError``."""
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        fix = f"check the path, or start from a copy of {EXAMPLE}"
        raise ConfigError(source, "", "a bot config file (TOML)", "no such file", fix) from None
    except tomllib.TOMLDecodeError as bad:
        fix = "fix the TOML syntax at that line"
        raise ConfigError(source, "", "valid TOML", f"a syntax error: {bad}", fix) from None
    except (OSError, UnicodeDecodeError) as bad:
        fix = "check that the path is a readable UTF-8 file"
        raise ConfigError(source, "", "a readable TOML file", str(bad), fix) from None
    return parse_config(data, source, base_dir=path.parent.absolute())


def _plain(value: Any) -> Any:
    if isinstance(value, Entry):
        at = (EPOCH + value.at_ms * MS).isoformat(timespec="milliseconds")
        return {
            "at": at.replace("+00:00", "Z"),
            "symbol": value.symbol,
            "side": value.side,
            "quantity": str(value.quantity),
        }
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
