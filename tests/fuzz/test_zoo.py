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

# Not found within the budget (seed 0), kept here as strict xfails so that the day the
# fuzzer finds them the test says so (XPASS fails: remove the mark then).
NOT_FOUND = {
    "loosening-trail": "masked: the guard only ratchets (a wanted level looser than the live "
    "stop is raised to it), so the variant's loosened level never reaches the exchange and "
    "no checker can see it",
    "trust-triggering": "needs a stop stuck in TRIGGERING through a long adverse move; not "
    "met in 400 worlds",
    "reconcile-gives-up": "needs a positionRisk outage at start-up outlasting 5 attempts "
    "before an entry; not met in 400 worlds",
}
ZOO = [
    pytest.param(name, marks=pytest.mark.xfail(reason=NOT_FOUND[name], strict=True))
    if name in NOT_FOUND
    else name
    for name in VARIANTS
    if name != "reference"
]


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
