"""Scenario files: a complete file becomes exactly the model it says, defaults apply, paths
resolve as documented, and every mistake is one ScenarioError naming the file, the dotted key
and the fix — never a traceback."""

from __future__ import annotations

import sys
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.load import (
    REPO_ROOT,
    ScenarioError,
    describe,
    load_scenario,
    parse_scenario,
)
from sim.scenario.model import (
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

STEM = "soonusdt-2025-11-10"
DEMO = REPO_ROOT / "bot" / "examples" / "demo.toml"
START_MS = int(datetime(2025, 11, 10, 16, 2, 30, tzinfo=UTC).timestamp() * 1000)

VALID = """\
[meta]
id = "soonusdt-2025-11-10"
why = \"\"\"The trailing stop's update cancelled the old stop, missed the fresh position in \\
REST, and the new stop was refused with -2021. The position stayed naked.\"\"\"
source = "../shared/incidents/soonusdt-2025-11-10.md"
seed = 7
start = "2025-11-10T16:02:30Z"
duration = "5m"

[exchange]
symbols = ["SOONUSDT", "BTCUSDT"]
immediate_trigger = "reject_4142"
slippage_ticks_max = 2
initial_wallet = "2500.5"
rest_latency = "250ms"
ws_latency = "20ms"

[tape]
step = "500ms"

[[tape.points]]
at = "+0s"
symbol = "SOONUSDT"
price = "2.0333"

[[tape.points]]
at = "+79s"
symbol = "SOONUSDT"
price = "2.0613"

[[tape.points]]
at = "+89.000s"
symbol = "SOONUSDT"
price = "2.0680"

[[tape.walks]]
symbol = "BTCUSDT"
start = "97000.0"
vol_ticks = 5.0
spread_ticks = 2

[bot]
config = "bot/examples/demo.toml"
variant = "reference"

[bot.overrides.bot]
symbols = ["SOONUSDT", "BTCUSDT"]

[bot.overrides.protection]
on_immediate_trigger = "reprice"

[[entries]]
at = "+1.092s"
symbol = "SOONUSDT"
side = "long"
quantity = "4"

[[entries]]
at = 2500
symbol = "BTCUSDT"
side = "short"
quantity = "0.002"

[[faults]]
at = "+1.2s"
until = "+4s"
kind = "rest_position_omitted"
symbol = "SOONUSDT"

[[faults]]
at = "+1s"
kind = "user_stream_dropped"
events = ["ACCOUNT_UPDATE"]

[[faults]]
at = "+90s"
kind = "listen_key_expired"

[phases]
heal_at = "+200s"
converge_within = "30s"

[expect]
[expect.checkers.stop_coverage]
max_naked_ms = 500

[expect.checkers.errors_handled]

[expect.variants]
legacy-2025-11 = ["stop_coverage", "errors_handled"]
"""

MINIMAL = """\
[meta]
id = "minimal"
why = "A flat market. Nothing happens."
start = "2025-11-10T16:02:30Z"
duration = "2m"

[exchange]
symbols = ["SOONUSDT"]

[tape]
[[tape.points]]
at = "+0s"
symbol = "SOONUSDT"
price = "2.0333"

[bot]
config = "bot/examples/demo.toml"

[expect]
checkers = ["stop_coverage"]
"""


def write(folder: Path, text: str, name: str = STEM) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} must occur once in the scenario"
        text = text.replace(old, new)
    return text


def nemesis_params(kind: str, params: dict) -> dict:
    from sim.nemesis import validate_params

    return validate_params(kind, params)


# ------------------------------------------------------------------ the model


def test_a_complete_scenario_parses_to_the_expected_model(tmp_path):
    path = write(tmp_path, VALID)
    scenario = load_scenario(path)
    assert scenario == Scenario(
        path=path,
        id=STEM,
        why="The trailing stop's update cancelled the old stop, missed the fresh position in "
        "REST, and the new stop was refused with -2021. The position stayed naked.",
        source="../shared/incidents/soonusdt-2025-11-10.md",
        seed=7,
        start_ms=START_MS,
        duration_ms=300_000,
        exchange=ExchangeSpec(
            symbols=("SOONUSDT", "BTCUSDT"),
            immediate_trigger="reject_4142",
            slippage_ticks_max=2,
            initial_wallet=Decimal("2500.5"),
            rest_latency_ms=250,
            ws_latency_ms=20,
        ),
        tape=TapeSpec(
            file=None,
            step_ms=500,
            waypoints=(
                Waypoint("SOONUSDT", 0, Decimal("2.0333")),
                Waypoint("SOONUSDT", 79_000, Decimal("2.0613")),
                Waypoint("SOONUSDT", 89_000, Decimal("2.0680")),
            ),
            walks=(Walk("BTCUSDT", Decimal("97000.0"), 5.0, 2),),
        ),
        bot=BotSpec(
            config=DEMO,
            overrides={
                "bot": {"symbols": ["SOONUSDT", "BTCUSDT"]},
                "protection": {"on_immediate_trigger": "reprice"},
            },
            variant="reference",
        ),
        entries=(
            EntrySpec(1092, "SOONUSDT", "long", Decimal("4")),
            EntrySpec(2500, "BTCUSDT", "short", Decimal("0.002")),
        ),
        faults=(
            Fault(
                "rest_position_omitted",
                1200,
                4000,
                nemesis_params("rest_position_omitted", {"symbol": "SOONUSDT"}),
                0,
            ),
            Fault(
                "user_stream_dropped",
                1000,
                None,
                nemesis_params("user_stream_dropped", {"events": ["ACCOUNT_UPDATE"]}),
                1,
            ),
            Fault("listen_key_expired", 90_000, None, {}, 2),
        ),
        phases=Phases(heal_at_ms=200_000, converge_within_ms=30_000),
        expect=Expectations(
            checkers={"stop_coverage": {"max_naked_ms": 500}, "errors_handled": {}},
            variants={"legacy-2025-11": ("stop_coverage", "errors_handled")},
        ),
    )
    # the params are the nemesis's normal form: the given ones, completed with defaults
    assert scenario.faults[0].params["symbol"] == "SOONUSDT"
    assert scenario.faults[1].params["events"] == ("ACCOUNT_UPDATE",)
    assert [f.index for f in scenario.faults] == [0, 1, 2]


def test_parse_scenario_reads_an_already_parsed_document(tmp_path):
    path = tmp_path / f"{STEM}.toml"  # the file need not exist: only its name and folder count
    assert parse_scenario(tomllib.loads(VALID), path) == load_scenario(write(tmp_path, VALID))


def test_defaults_apply_when_optional_keys_and_tables_are_left_out(tmp_path):
    scenario = load_scenario(write(tmp_path, MINIMAL, "minimal"))
    assert (scenario.source, scenario.seed, scenario.duration_ms) == ("", 1, 120_000)
    assert scenario.exchange == ExchangeSpec(
        symbols=("SOONUSDT",),
        immediate_trigger="reject",
        slippage_ticks_max=0,
        initial_wallet=Decimal("10000"),
        rest_latency_ms=0,
        ws_latency_ms=0,
    )
    assert scenario.tape == TapeSpec(
        file=None, step_ms=1000, waypoints=(Waypoint("SOONUSDT", 0, Decimal("2.0333")),)
    )
    assert scenario.bot == BotSpec(config=DEMO, overrides={}, variant="reference")
    assert (scenario.entries, scenario.faults) == ((), ())
    # heal_at defaults to the latest instant that leaves converge_within before the end
    assert scenario.phases == Phases(heal_at_ms=90_000, converge_within_ms=30_000)
    assert scenario.expect == Expectations(checkers={"stop_coverage": {}}, variants={})


def test_a_fault_without_until_heals_at_the_heal_phase(tmp_path):
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.faults[1].until_ms is None


@pytest.mark.parametrize(
    ("written", "ms"),
    [
        ('"300s"', 300_000),
        ('"5m"', 300_000),
        ('"1h30m"', 5_400_000),
        ('"250ms"', 250),
        ('"1.092s"', 1092),
        ('"1m0.5s"', 60_500),
        ("90000", 90_000),
    ],
)
def test_durations_are_read_to_exact_milliseconds(tmp_path, written, ms):
    text = edit(MINIMAL, ('duration = "2m"', f"duration = {written}"))
    text = text.replace('checkers = ["stop_coverage"]', 'checkers = ["stop_coverage"]\n')
    text += '[phases]\nconverge_within = "0s"\n'
    assert load_scenario(write(tmp_path, text, "minimal")).duration_ms == ms


def test_describe_is_the_id_and_the_first_sentence_of_why(tmp_path):
    scenario = load_scenario(write(tmp_path, VALID))
    assert describe(scenario) == (
        "soonusdt-2025-11-10: The trailing stop's update cancelled the old stop, missed the "
        "fresh position in REST, and the new stop was refused with -2021."
    )
    assert "\n" not in describe(scenario)


# ------------------------------------------------------------------ paths


def tape_file_scenario(file: str) -> str:
    return edit(
        MINIMAL,
        (
            '[tape]\n[[tape.points]]\nat = "+0s"\nsymbol = "SOONUSDT"\nprice = "2.0333"\n',
            f'[tape]\nfile = "{file}"\n',
        ),
    )


def test_a_path_starting_with_dot_is_relative_to_the_scenarios_folder(tmp_path):
    folder = tmp_path / "scenarios"
    (folder / "tapes").mkdir(parents=True)
    (folder / "tapes" / "x.csv").write_text("t_ms,symbol,mark\n", encoding="utf-8")
    (tmp_path / "shared.csv").write_text("t_ms,symbol,mark\n", encoding="utf-8")
    here = load_scenario(write(folder, tape_file_scenario("./tapes/x.csv"), "minimal"))
    assert here.tape == TapeSpec(file=folder / "tapes" / "x.csv")
    up = load_scenario(write(folder, tape_file_scenario("../shared.csv"), "minimal"))
    assert up.tape.file == tmp_path / "shared.csv"


def test_any_other_relative_path_is_relative_to_the_futsim_checkout(tmp_path):
    root = tmp_path / "checkout"
    (root / "fixtures" / "tapes").mkdir(parents=True)
    (root / "fixtures" / "tapes" / "x.parquet").write_bytes(b"")
    (root / "bot").mkdir()
    (root / "bot" / "b.toml").write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    text = tape_file_scenario("fixtures/tapes/x.parquet").replace(
        "bot/examples/demo.toml", "bot/b.toml"
    )
    scenario = load_scenario(write(tmp_path / "elsewhere", text, "minimal"), root=root)
    assert scenario.tape.file == root / "fixtures" / "tapes" / "x.parquet"
    assert scenario.bot.config == root / "bot" / "b.toml"
    # without root=, the default is this checkout
    assert load_scenario(write(tmp_path, MINIMAL, "minimal")).bot.config == DEMO


def test_an_absolute_path_is_kept(tmp_path):
    text = MINIMAL.replace('"bot/examples/demo.toml"', f'"{DEMO}"')
    assert load_scenario(write(tmp_path, text, "minimal")).bot.config == DEMO


def test_a_file_next_to_the_scenario_written_without_dot_slash_gets_a_hint(tmp_path):
    (tmp_path / "x.csv").write_text("t_ms,symbol,mark\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, tape_file_scenario("x.csv"), "minimal"))
    assert caught.value.key == "tape.file"
    assert 'write "./x.csv"' in str(caught.value)


# ------------------------------------------------------------------ mistakes

LINE_OF_SEED = VALID.splitlines().index("seed = 7") + 1

MISTAKES = [
    # (id, changes to VALID, dotted key, a phrase of the fix)
    ("toml-syntax", [("seed = 7", "seed = = 7")], "", "fix the TOML syntax at line"),
    (
        "missing-meta",
        [(VALID[: VALID.index("[exchange]")], "")],
        "meta",
        "add a [meta] table",
    ),
    ("id-not-file-name", [('id = "soonusdt', 'id = "soon')], "meta.id", "rename the file"),
    ("id-bad-characters", [('id = "soonusdt', 'id = "SOON_usdt')], "meta.id", "use e.g."),
    ("unknown-top-table", [("[expect]\n", "[expects]\n")], "expects", "did you mean expect?"),
    ("key-above-its-table", [("[meta]\n", "seed = 3\n[meta]\n")], "seed", "move it under [meta]"),
    ("unknown-key", [("seed = 7", "seeds = 7")], "meta.seeds", "did you mean seed?"),
    ("quoted-integer", [("seed = 7", 'seed = "7"')], "meta.seed", "without quotes"),
    ("missing-required-key", [('duration = "5m"\n', "")], "meta.duration", "add duration ="),
    ("bad-duration", [('duration = "5m"', 'duration = "5 min"')], "meta.duration", "use e.g."),
    (
        "duration-without-unit",
        [('duration = "5m"', 'duration = "300"')],
        "meta.duration",
        'give it a unit ("300ms"',
    ),
    (
        "sub-millisecond",
        [('rest_latency = "250ms"', 'rest_latency = "0.25005s"')],
        "exchange.rest_latency",
        "round it to 1 ms",
    ),
    (
        "start-not-utc",
        [('start = "2025-11-10T16:02:30Z"', 'start = "2025-11-10T16:02:30"')],
        "meta.start",
        "use e.g.",
    ),
    (
        "offset-out-of-range",
        [('at = "+1.2s"', 'at = "+301s"')],
        "faults[0].at",
        "lengthen meta.duration",
    ),
    ("offset-without-plus", [('at = "+1.2s"', 'at = "1.2s"')], "faults[0].at", 'e.g. "+1.2s"'),
    ("negative-offset", [('at = "+1.2s"', 'at = "-1.2s"')], "faults[0].at", "use e.g."),
    ("until-before-at", [('until = "+4s"', 'until = "+1s"')], "faults[0].until", "later than at"),
    (
        "until-after-heal",
        [('until = "+4s"', 'until = "+250s"')],
        "faults[0].until",
        "set a later phases.heal_at",
    ),
    (
        "fault-after-heal",
        [('at = "+90s"', 'at = "+210s"')],
        "faults[2].at",
        "move it before phases.heal_at",
    ),
    (
        "until-on-instantaneous-fault",
        [('at = "+90s"\n', 'at = "+90s"\nuntil = "+95s"\n')],
        "faults[2].until",
        "remove until",
    ),
    (
        "unknown-fault-kind",
        [('kind = "rest_position_omitted"', 'kind = "rest_position_omited"')],
        "faults[0].kind",
        "did you mean rest_position_omitted?",
    ),
    (
        "bad-fault-param",
        [('events = ["ACCOUNT_UPDATE"]', "events = 3")],
        "faults[1].events",
        'write e.g. events = ["ACCOUNT_UPDATE"]',
    ),
    (
        "unknown-fault-param",
        [('events = ["ACCOUNT_UPDATE"]', 'event = ["ACCOUNT_UPDATE"]')],
        "faults[1].event",
        "did you mean events?",
    ),
    (
        "missing-fault-param",
        [('kind = "listen_key_expired"', 'kind = "repository_write_lag"')],
        "faults[2].delay_ms",
        "add delay_ms = ",
    ),
    (
        "fault-symbol-not-in-run",
        [
            (
                'kind = "rest_position_omitted"\nsymbol = "SOONUSDT"',
                'kind = "rest_position_omitted"\nsymbol = "SOONUSD"',
            )
        ],
        "faults[0].symbol",
        "did you mean SOONUSDT?",
    ),
    (
        "unknown-symbol",
        [
            (
                'symbols = ["SOONUSDT", "BTCUSDT"]\nimmediate',
                'symbols = ["SOONUSD", "BTCUSDT"]\nimmediate',
            )
        ],
        "exchange.symbols[0]",
        "did you mean SOONUSDT?",
    ),
    (
        "symbol-not-in-exchange",
        [
            (
                '[[tape.points]]\nat = "+0s"\nsymbol = "SOONUSDT"',
                '[[tape.points]]\nat = "+0s"\nsymbol = "ETHUSDT"',
            )
        ],
        "tape.points[0].symbol",
        "add ETHUSDT to exchange.symbols",
    ),
    (
        "price-off-tick",
        [('price = "2.0613"', 'price = "2.06135"')],
        "tape.points[1].price",
        '"2.0613" or "2.0614"',
    ),
    (
        "tape-file-and-points",
        [('[tape]\nstep = "500ms"', '[tape]\nfile = "fixtures/exchange_info.json"')],
        "tape.points",
        "remove file",
    ),
    (
        "bot-override-rejected",
        [('on_immediate_trigger = "reprice"', 'on_immediate_trigger = "ignore"')],
        "bot.overrides.protection.on_immediate_trigger",
        'use e.g. "close"',
    ),
    (
        "bot-override-unknown-key",
        [('on_immediate_trigger = "reprice"', 'callback = "1"')],
        "bot.overrides.protection.callback",
        "did you mean callback_pct?",
    ),
    (
        "entry-symbol-not-traded",
        [('[bot.overrides.bot]\nsymbols = ["SOONUSDT", "BTCUSDT"]\n', "")],
        "entries[1].symbol",
        "add it to bot.symbols",
    ),
    (
        "missing-bot-config",
        [('config = "bot/examples/demo.toml"', 'config = "bot/examples/dmeo.toml"')],
        "bot.config",
        "check the spelling",
    ),
    (
        "heal-plus-converge-past-the-end",
        [('heal_at = "+200s"', 'heal_at = "+280s"')],
        "phases.heal_at",
        "move heal_at to +270s or earlier",
    ),
    (
        "unknown-checker",
        [("[expect.checkers.errors_handled]", "[expect.checkers.errors_handeld]")],
        "expect.checkers.errors_handeld",
        "did you mean errors_handled?",
    ),
    (
        "variant-checker-not-expected",
        [
            (
                'legacy-2025-11 = ["stop_coverage", "errors_handled"]',
                'legacy-2025-11 = ["loss_bounded"]',
            )
        ],
        "expect.variants.legacy-2025-11[0]",
        "add loss_bounded to expect.checkers",
    ),
    (
        "immediate-trigger-typo",
        [('immediate_trigger = "reject_4142"', 'immediate_trigger = "rejct"')],
        "exchange.immediate_trigger",
        'did you mean "reject"?',
    ),
    (
        "entries-as-a-table",
        [
            ('[[entries]]\nat = "+1.092s"', '[entries.x]\nat = "+1.092s"'),
            ("[[entries]]\nat = 2500", "[[faults]]\nat = 2500"),
        ],
        "entries",
        "write each as [[entries]]",
    ),
    (
        "entry-before-the-first-price",
        [('[[tape.points]]\nat = "+0s"', '[[tape.points]]\nat = "+1.5s"')],
        "entries[0].at",
        "add a [[tape.points]] for SOONUSDT at or before it",
    ),
]


@pytest.mark.parametrize(
    ("changes", "key", "fix"),
    [pytest.param(changes, key, fix, id=name) for name, changes, key, fix in MISTAKES],
)
def test_every_mistake_names_the_file_the_key_and_the_fix(tmp_path, changes, key, fix):
    path = write(tmp_path, edit(VALID, *changes))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert caught.value.key == key, message
    assert f": {key}: expected " in message if key else True, message
    assert fix in message, message
    assert "Traceback" not in message


def test_a_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, edit(VALID, ("seed = 7", "seed = = 7")))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.line == LINE_OF_SEED
    assert str(caught.value).startswith(f"{path}:{LINE_OF_SEED}: expected valid TOML")


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match=r"nope\.toml: expected a scenario file"):
        load_scenario(path)


def test_the_run_must_list_every_symbol_the_bot_trades(tmp_path):
    text = edit(
        MINIMAL,
        ('symbols = ["SOONUSDT"]', 'symbols = ["BTCUSDT"]'),
        ('symbol = "SOONUSDT"\nprice = "2.0333"', 'symbol = "BTCUSDT"\nprice = "97000.0"'),
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text, "minimal"))
    assert caught.value.key == "exchange.symbols"
    assert "add SOONUSDT to exchange.symbols" in str(caught.value)


def test_a_mistake_in_the_bot_config_file_itself_is_named_with_that_file(tmp_path):
    broken = DEMO.read_text(encoding="utf-8").replace('callback_pct = "1"', 'callback_pct = "40"')
    (tmp_path / "bot.toml").write_text(broken, encoding="utf-8")
    text = VALID.replace('"bot/examples/demo.toml"', '"./bot.toml"')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    message = str(caught.value)
    assert caught.value.key == "bot.config"
    assert "protection.callback_pct" in message
    assert str(tmp_path / "bot.toml") in message
    assert "[bot.overrides.protection]" in message


def test_a_cross_key_rule_of_the_bot_config_is_named_at_the_override(tmp_path):
    text = edit(
        VALID,
        (
            'on_immediate_trigger = "reprice"',
            'on_immediate_trigger = "reprice"\n[bot.overrides.execution]\nretry_base_ms = 9000',
        ),
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    assert caught.value.key == "bot.overrides.execution.retry_max_ms"
    assert "lower retry_base_ms" in str(caught.value)


# ------------------------------------------------------------------ never a traceback

_DOC = tomllib.loads(VALID)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*path, k)
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*path, i)
            yield from _leaves(v, (*path, i))


_PATHS = list(_leaves(_DOC))
_TOML_VALUES = st.recursive(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["+1s", "5m", "SOONUSDT", "2.0333", "-1s", "1.5", "", "rest_latency"]),
        st.sampled_from(["1e30", "NaN", "-Infinity", "9" * 40, "+1.0000000000000000000000001s"]),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.booleans(),
        st.datetimes(timezones=st.sampled_from([None, UTC])),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _mutated(doc, path, value, delete):
    import copy

    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(_PATHS), value=_TOML_VALUES, delete=st.booleans())
def test_any_single_change_gives_a_scenario_or_a_scenario_error(tmp_path, path, value, delete):
    doc = _mutated(_DOC, path, value, delete)
    try:
        parse_scenario(doc, tmp_path / f"{STEM}.toml")
    except ScenarioError as error:
        assert str(error).startswith(str(tmp_path / f"{STEM}.toml"))


# ------------------------------------------------------------------ the format's documentation

README = REPO_ROOT / "sim" / "scenario" / "README.md"


def test_the_readme_example_loads(tmp_path):
    text = README.read_text(encoding="utf-8")
    example = text.split("## A complete file\n\n```toml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario(write(tmp_path, example))
    assert scenario.id == STEM
    assert scenario.faults[0].params["symbol"] == "SOONUSDT"


def test_the_readme_documents_every_key_kind_param_and_checker():
    from sim.checkers import REGISTRY
    from sim.nemesis import params_of
    from sim.scenario.load import _ENTRY, _POINT, _SECTIONS, _TOP, _WALK
    from sim.scenario.model import FAULT_KINDS

    text = README.read_text(encoding="utf-8")
    for section in _TOP:
        assert f"[{section}]" in text or f"[[{section}]]" in text, section
    for section, keys in [*_SECTIONS.items(), ("points", _POINT), ("walks", _WALK), ("e", _ENTRY)]:
        for key in keys:
            assert f"`{key}`" in text, f"{section}.{key}"
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line[:3] == "| `"}
    for kind in FAULT_KINDS:
        assert kind in rows, kind
        for param in params_of(kind):
            assert f"`{param}`" in rows[kind], f"{kind}.{param}"
    for checker in REGISTRY:
        assert f"`{checker}`" in text, checker


def test_a_start_written_as_a_toml_datetime_is_read_too(tmp_path):
    text = edit(MINIMAL, ('start = "2025-11-10T16:02:30Z"', "start = 2025-11-10T16:02:30Z"))
    assert load_scenario(write(tmp_path, text, "minimal")).start_ms == START_MS


def test_without_the_nemesis_and_the_registry_params_and_names_pass_as_written(
    tmp_path, monkeypatch
):
    # the transitional fallback: sim.nemesis / sim.checkers.REGISTRY not importable
    import sim.checkers

    monkeypatch.setitem(sys.modules, "sim.nemesis", None)
    monkeypatch.delattr(sim.checkers, "REGISTRY")
    text = edit(
        VALID,
        ('events = ["ACCOUNT_UPDATE"]', 'events = ["ACCOUNT_UPDATE"]\nnot_a_param = 1'),
        ("[expect.checkers.errors_handled]", "[expect.checkers.some_future_checker]"),
        ('"stop_coverage", "errors_handled"]', '"stop_coverage"]'),
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.faults[1].params == {"events": ["ACCOUNT_UPDATE"], "not_a_param": 1}
    assert scenario.faults[0].params == {"symbol": "SOONUSDT"}
    assert "some_future_checker" in scenario.expect.checkers
