"""The fuzzer finds every bug of the zoo (not the hand-written scenarios: generated worlds).

For each variant a derandomized campaign (seed 0, a fixed example budget) must find a world
the variant fails and the reference bot passes, and file it as a scenario that replays to
the same failure. This is a campaign, not a unit test: ``make fuzz-zoo`` runs it (CI too),
the default ``make test`` does not (``-m "not campaign"``).
"""

from __future__ import annotations

import pytest

from sim.fuzz.campaign import Campaign, failing_checkers
from sim.runner import run_scenario
from sim.scenario.load import load_scenario
from sim.variants import VARIANTS

BUDGET = 400  # examples per variant; the closing note of issue 6 says how many each took
ZOO = [name for name in VARIANTS if name != "reference"]


@pytest.mark.campaign
@pytest.mark.parametrize("variant", ZOO)
def test_the_fuzzer_finds_the_variant_and_files_a_replayable_scenario(variant, tmp_path):
    result = Campaign(variant=variant, examples=BUDGET, seed=0, out_dir=tmp_path, shrink_s=30).run()
    assert result.finds, f"{variant}: no failure in {result.examples} generated worlds"
    find = result.finds[0]
    assert find.reproduced, f"{find.path} does not replay to {find.failing}"
    scenario = load_scenario(find.path)
    assert run_scenario(scenario).all_passed  # the reference bot passes the find
    assert failing_checkers(run_scenario(scenario, variant=variant)) == find.failing
