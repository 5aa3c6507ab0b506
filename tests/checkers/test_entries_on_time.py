"""entries_on_time: each scheduled entry is sent, within a bound of its time."""

from __future__ import annotations

from sim.checkers.entries_on_time import check
from tests.checkers.histories import SYM, T0, command, ctx


def sent(t: int, client_id: str, symbol: str = SYM) -> dict:
    return command(t, "PlaceEntry", symbol=symbol, client_id=client_id)


def test_entries_sent_on_time_pass_with_the_worst_delay():
    records = [sent(1_000, "e0"), sent(62_000, "e1")]
    verdict = check(records, {}, ctx(120_000, entries=[(T0 + 1_000, SYM), (T0 + 60_000, SYM)]))
    assert verdict.status == "pass" and verdict.metrics["worst_delay_ms"] == 2_000


def test_a_late_entry_fails_with_how_late():
    records = [sent(60_500, "e0")]
    verdict = check(records, {}, ctx(120_000, entries=[(T0 + 10_000, SYM)]))
    assert verdict.status == "fail"
    (item,) = verdict.evidence
    assert item["what"] == f"{SYM} entry sent 50500 ms after its time"
    assert (item["t_ms"], item["until_ms"]) == (T0 + 10_000, T0 + 60_500)


def test_a_missing_entry_fails_and_one_too_close_to_the_end_is_unknown():
    assert check([], {}, ctx(120_000, entries=[(T0 + 10_000, SYM)])).status == "fail"
    assert check([], {}, ctx(15_000, entries=[(T0 + 10_000, SYM)])).status == "unknown"


def test_a_retried_entry_is_one_sending_and_other_symbols_do_not_stand_in():
    records = [sent(10_000, "e0"), sent(11_000, "e0"), sent(20_000, "x0", symbol="BTCUSDT")]
    entries = [(T0 + 10_000, SYM), (T0 + 20_000, SYM)]  # the retry must not count as the 2nd
    verdict = check(records, {}, ctx(120_000, entries=entries))
    assert verdict.status == "fail" and "never sent" in verdict.summary


def test_the_bound_is_a_parameter():
    records = [sent(13_000, "e0")]
    entries = [(T0 + 10_000, SYM)]
    assert check(records, {}, ctx(60_000, entries=entries)).status == "pass"
    assert check(records, {"bound_ms": 2_000}, ctx(60_000, entries=entries)).status == "fail"
