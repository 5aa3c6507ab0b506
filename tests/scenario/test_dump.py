"""``dump_scenario`` writes what ``load_scenario`` reads: every scenario of the catalogue
round-trips unchanged (the fuzzer files its finds through this writer)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sim.scenario.dump import dump_scenario, toml_value
from sim.scenario.load import load_scenario

CATALOGUE = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_every_catalogue_scenario_round_trips(path, tmp_path):
    scenario = load_scenario(path)
    copy = tmp_path / path.name  # same name: meta.id is the file's stem
    copy.write_text(dump_scenario(scenario))
    assert load_scenario(copy) == dataclasses.replace(scenario, path=copy.absolute())


def test_values_are_written_as_toml_reads_them():
    import tomllib
    from decimal import Decimal

    values = {"a": 'x"y', "b": 3, "c": 0.25, "d": True, "e": Decimal("2.0333"), "f": ["p", 1]}
    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in values.items())
    assert tomllib.loads(text) == {**values, "e": "2.0333"}
    with pytest.raises(TypeError, match="cannot write"):
        toml_value(object())
