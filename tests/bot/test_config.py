"""The bot's config file: examples load, defaults apply, and every mistake says how to fix it."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import (
    BotConfig,
    ConfigError,
    Entry,
    ExecutionConfig,
    ProtectionConfig,
    ReconcileConfig,
    load_config,
    parse_config,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "bot" / "examples"

MINIMAL = """\
[bot]
symbols = ["SOONUSDT"]

[protection]
initial_stop_pct = "6"
activation_pct = "1.5"
callback_pct = "1"

[signals]
kind = "schedule"

[[signals.entries]]
at = "2025-11-10T16:02:31.092Z"
symbol = "SOONUSDT"
side = "long"
quantity = "4"
"""


def write(tmp_path: Path, text: str, name: str = "bot.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_config_loads_and_round_trips(path):
    config = load_config(path)
    assert config.source == str(path)
    assert parse_config(config.to_dict(), "x") == config


def test_the_demo_example_carries_the_incident_parameters():
    config = load_config(EXAMPLES / "demo.toml")
    assert config.bot.symbols == ("SOONUSDT",)
    assert config.protection.initial_stop_pct == Decimal("6")
    assert config.protection.activation_pct == Decimal("1.5")
    assert config.signals.entries == (
        Entry(at_ms=1762790551092, symbol="SOONUSDT", side="long", quantity=Decimal("4")),
    )
    assert config.repository.path == str(EXAMPLES / "futsim-bot.sqlite")


def test_defaults_apply_when_keys_and_sections_are_left_out(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.bot.client_id_prefix == "fs"
    assert config.protection == ProtectionConfig(
        initial_stop_pct=Decimal("6"),
        activation_pct=Decimal("1.5"),
        callback_pct=Decimal("1"),
        working_type="MARK_PRICE",
        min_move_ticks=1,
        min_move_interval_ms=1000,
        on_immediate_trigger="close",
        triggering_timeout_ms=5000,
        rest_lag_bound_ms=10000,
    )
    assert config.execution == ExecutionConfig(5000, 5, 200, 5000, 0)
    assert config.reconcile == ReconcileConfig(60000, 1800000)
    assert config.repository.path == str(tmp_path / "futsim-bot.sqlite")


def test_repository_path_is_relative_to_the_config_file_not_the_working_directory(
    tmp_path, monkeypatch
):
    (tmp_path / "conf").mkdir()
    path = write(tmp_path / "conf", MINIMAL + '[repository]\npath = "state/bot.sqlite"\n')
    monkeypatch.chdir(tmp_path)
    config = load_config("conf/bot.toml")
    assert config.repository.path == str(path.parent / "state" / "bot.sqlite")
    absolute = MINIMAL + f'[repository]\npath = "{tmp_path / "x.sqlite"}"\n'
    assert load_config(write(tmp_path, absolute)).repository.path == str(tmp_path / "x.sqlite")
    memory = MINIMAL + '[repository]\npath = ":memory:"\n'
    assert load_config(write(tmp_path, memory)).repository.path == ":memory:"


def test_decimals_are_read_exactly_from_strings_and_numbers():
    data = parse_config(_minimal_dict(), "t.toml").to_dict()
    data["protection"]["callback_pct"] = 0.1  # a TOML float: read through str(), not binary
    data["protection"]["initial_stop_pct"] = 6  # a TOML integer
    data["protection"]["activation_pct"] = "1.50"
    config = parse_config(data, "t.toml")
    assert config.protection.callback_pct == Decimal("0.1")
    assert str(config.protection.callback_pct) == "0.1"
    assert config.protection.initial_stop_pct == Decimal("6")
    assert str(config.protection.activation_pct) == "1.50"


def test_entries_are_sorted_by_time_stably_and_accept_toml_datetimes(tmp_path):
    text = MINIMAL.replace('symbols = ["SOONUSDT"]', 'symbols = ["SOONUSDT", "BTCUSDT"]') + (
        "[[signals.entries]]\n"
        "at = 2025-11-10T16:00:00Z\n"  # a TOML datetime, not a string
        'symbol = "BTCUSDT"\nside = "short"\nquantity = 0.002\n'
        "[[signals.entries]]\n"
        'at = "2025-11-10T16:02:31.092+00:00"\n'
        'symbol = "BTCUSDT"\nside = "long"\nquantity = "1"\n'
    )
    entries = load_config(write(tmp_path, text)).signals.entries
    assert [(e.at_ms, e.symbol, e.side, e.quantity) for e in entries] == [
        (1762790400000, "BTCUSDT", "short", Decimal("0.002")),
        (1762790551092, "SOONUSDT", "long", Decimal("4")),
        (1762790551092, "BTCUSDT", "long", Decimal("1")),
    ]


def test_to_dict_is_plain_json_and_round_trips(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    data = config.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["signals"]["entries"][0] == {
        "at": "2025-11-10T16:02:31.092Z",
        "symbol": "SOONUSDT",
        "side": "long",
        "quantity": "4",
    }
    again = parse_config(data, "x")
    assert again == config and isinstance(again, BotConfig)
    assert again.to_dict() == data


# --- mistakes ------------------------------------------------------------------------------


def _minimal_dict() -> dict:
    return tomllib.loads(MINIMAL)


def _set(path: str, value):
    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value

    return edit


def _delete(path: str):
    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return edit


# (id, edit of the minimal config, dotted key named, words the message must contain)
MISTAKES = [
    (
        "missing required key",
        _delete("protection.callback_pct"),
        "protection.callback_pct",
        ["missing", 'add callback_pct = "1.0" under [protection]'],
    ),
    (
        "missing required section",
        _delete("protection"),
        "protection.initial_stop_pct",
        ["missing", "under [protection]"],
    ),
    (
        "unknown key with suggestion",
        _set("protection.calback_pct", "1"),
        "protection.calback_pct",
        ["unknown key", "did you mean callback_pct?"],
    ),
    ("unknown section", _set("reconcil", {}), "reconcil", ["did you mean reconcile?"]),
    ("key above its section", _set("symbols", ["SOONUSDT"]), "symbols", ["move it under [bot]"]),
    (
        "wrong type: int as string",
        _set("protection.min_move_ticks", "1"),
        "protection.min_move_ticks",
        ['got "1"', "an integer >= 1", "without quotes: 1"],
    ),
    (
        "wrong type: boolean as decimal",
        _set("protection.activation_pct", True),
        "protection.activation_pct",
        ["got true", 'use e.g. "1.5"'],
    ),
    (
        "not a number",
        _set("protection.initial_stop_pct", "6%"),
        "protection.initial_stop_pct",
        ['got "6%"', 'use e.g. "6"'],
    ),
    (
        "nan",
        _set("protection.initial_stop_pct", "NaN"),
        "protection.initial_stop_pct",
        ['got "NaN"', "use e.g."],
    ),
    (
        "pct out of range",
        _set("protection.initial_stop_pct", "100"),
        "protection.initial_stop_pct",
        ["between 0 and 100", 'use e.g. "6"'],
    ),
    (
        "pct zero",
        _set("protection.activation_pct", 0),
        "protection.activation_pct",
        ["got 0", "use e.g."],
    ),
    (
        "callback above Binance range",
        _set("protection.callback_pct", "25"),
        "protection.callback_pct",
        ["between 0.1 and 20 (Binance's callbackRate range)", 'got "25"', 'use e.g. "1.0"'],
    ),
    (
        "callback below Binance range",
        _set("protection.callback_pct", "0.05"),
        "protection.callback_pct",
        ["callbackRate", 'got "0.05"'],
    ),
    (
        "bad working_type",
        _set("protection.working_type", "LAST_PRICE"),
        "protection.working_type",
        ['"MARK_PRICE", "CONTRACT_PRICE"', 'got "LAST_PRICE"'],
    ),
    (
        "bad on_immediate_trigger",
        _set("protection.on_immediate_trigger", "retry"),
        "protection.on_immediate_trigger",
        ['"close", "reprice"', 'use e.g. "close"'],
    ),
    (
        "entry symbol not in bot.symbols",
        _set("signals.entries.0.symbol", "BTCUSDT"),
        "signals.entries[0].symbol",
        ["one of bot.symbols", "add the symbol to bot.symbols"],
    ),
    (
        "bad ISO time",
        _set("signals.entries.0.at", "2025-13-10T16:02:31Z"),
        "signals.entries[0].at",
        ["ISO-8601", 'use e.g. "2025-11-10T16:02:31.092Z"'],
    ),
    (
        "naive time",
        _set("signals.entries.0.at", "2025-11-10T16:02:31.092"),
        "signals.entries[0].at",
        ["not in UTC", "Z or +00:00"],
    ),
    (
        "non-UTC offset",
        _set("signals.entries.0.at", "2025-11-10T19:02:31.092+03:00"),
        "signals.entries[0].at",
        ["not in UTC"],
    ),
    (
        "sub-millisecond time",
        _set("signals.entries.0.at", "2025-11-10T16:02:31.092500Z"),
        "signals.entries[0].at",
        ["finer than a millisecond"],
    ),
    (
        "quantity zero",
        _set("signals.entries.0.quantity", "0"),
        "signals.entries[0].quantity",
        ["greater than 0", 'use e.g. "4"'],
    ),
    (
        "quantity negative",
        _set("signals.entries.0.quantity", -1),
        "signals.entries[0].quantity",
        ["got -1"],
    ),
    (
        "bad side",
        _set("signals.entries.0.side", "buy"),
        "signals.entries[0].side",
        ['"long", "short"'],
    ),
    (
        "entry missing key",
        _delete("signals.entries.0.quantity"),
        "signals.entries[0].quantity",
        ["missing", "under [[signals.entries]]"],
    ),
    (
        "entries with command signals",
        _set("signals.kind", "command"),
        "signals.entries",
        ['set kind = "schedule"'],
    ),
    (
        "duplicate symbols",
        _set("bot.symbols", ["SOONUSDT", "BTCUSDT", "SOONUSDT"]),
        "bot.symbols",
        ["SOONUSDT is listed twice", "list it once"],
    ),
    (
        "lowercase symbol",
        _set("bot.symbols", ["soonusdt"]),
        "bot.symbols",
        ['"soonusdt"', 'use e.g. ["SOONUSDT"]'],
    ),
    ("non-USDT symbol", _set("bot.symbols", ["BTCUSDC"]), "bot.symbols", ["ending in USDT"]),
    ("empty symbols", _set("bot.symbols", []), "bot.symbols", ["non-empty", "got []"]),
    (
        "client id prefix too long",
        _set("bot.client_id_prefix", "futsim"),
        "bot.client_id_prefix",
        ["36-character", 'use e.g. "fs"'],
    ),
    (
        "keepalive at 60 min",
        _set("reconcile.listen_key_keepalive_ms", 3600000),
        "reconcile.listen_key_keepalive_ms",
        ["60 minutes", "got 3600000", "use e.g. 1800000"],
    ),
    (
        "retry_max below retry_base",
        _set("execution.retry_max_ms", 100),
        "execution.retry_max_ms",
        ["retry_base_ms (200)", "got 100", "at least 200"],
    ),
    (
        "float for an integer",
        _set("execution.max_attempts", 2.0),
        "execution.max_attempts",
        ["got 2.0", "use e.g. 5"],
    ),
    (
        "section not a table",
        _set("execution", 5),
        "execution",
        ["a table", "write it as a [execution] table"],
    ),
]


@pytest.mark.parametrize(
    ("edit", "key", "words"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_each_mistake_names_the_file_the_key_and_the_fix(tmp_path, edit, key, words):
    data = tomllib.loads(MINIMAL)
    edit(data)
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "bot.toml")
    message = str(caught.value)
    assert message.startswith(f"bot.toml: {key}: expected "), message
    assert caught.value.key == key
    assert " got " in message
    for word in words:
        assert word in message, message


def test_a_mistake_in_a_file_names_the_file(tmp_path):
    path = write(tmp_path, MINIMAL.replace('callback_pct = "1"', 'callback_pct = "25"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: protection.callback_pct: expected a percentage between 0.1 and 20 "
        """(Binance's callbackRate range), got "25"; use e.g. "1.0\""""
    )


def test_toml_syntax_error_names_the_file_and_line(tmp_path):
    broken = MINIMAL.replace('activation_pct = "1.5"', "activation_pct = 1.5.1")
    path = write(tmp_path, broken, name="broken.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: expected valid TOML, got a syntax error")
    assert "line 6" in message
    assert "fix the TOML syntax" in message


def test_missing_file_names_the_file_and_the_example(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    message = str(caught.value)
    assert "nope.toml" in message and "no such file" in message
    assert "bot/examples/demo.toml" in message


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="readable"):
        load_config(tmp_path)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_mistakes_do_not_depend_on_the_input_being_mutable():
    data = _minimal_dict()
    frozen = copy.deepcopy(data)
    parse_config(data, "t.toml")
    assert data == frozen
