"""The reference bot, unchanged, on the fake exchange with real ccxt: whole lives of a
position, checked against the exchange's ground truth."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from bot.config import load_config
from sim.botrun import BotRun, run_bot
from sim.checkers.coverage import naked_windows, truth_records
from sim.runtime.units import iso_to_us
from sim.tape import waypoint_tape
from sim.transport.latency import Fixed
from sim.venue import VenueConfig

T0_MS = iso_to_us("2025-11-10T16:02:30Z") // 1000
TICK = Decimal("0.0001")
ENTRY_MS = T0_MS + 1092  # the demo config's entry instant
RTT_MS = 2 * 150 + 2 * 20  # REST both ways, plus stream latency slack
D = Decimal


def config(side="long", **protection):
    cfg = load_config("bot/examples/demo.toml")
    entries = tuple(dataclasses.replace(e, side=side) for e in cfg.signals.entries)
    return dataclasses.replace(
        cfg,
        protection=dataclasses.replace(cfg.protection, **protection),
        signals=dataclasses.replace(cfg.signals, entries=entries),
    )


def rise_then_fall(side="long"):
    """Flat at 2.0333, +3.3 % over 50 s, then back down through the trailing stop."""
    up = 1 if side == "long" else -1
    waypoints = [
        (T0_MS, D("2.0333")),
        (T0_MS + 70_000, D("2.0333")),
        (T0_MS + 120_000, D("2.0333") + up * D("0.0667")),
        (T0_MS + 200_000, D("2.0333") - up * D("0.0333")),
        (T0_MS + 300_000, D("2.0333") - up * D("0.0333")),
    ]
    return waypoint_tape("SOONUSDT", TICK, waypoints, step_ms=1000)


def run(
    tmp_path, *, side="long", tape=None, restarts_ms=(), horizon_s=300, setup=None, **protection
):
    """The demo config's bot on the rise-then-fall tape; ``setup(sim, venue, session)`` may
    schedule a fault. Returns the outcome, the truth records and the naked windows."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = BotRun(
        bot_config=config(side, **protection),
        tape=tape or rise_then_fall(side),
        repository_path=tmp_path / "bot.sqlite",
        start_us=T0_MS * 1000,
        horizon_s=horizon_s,
        venue_config=VenueConfig(symbols=("SOONUSDT",)),
        rest_latency=Fixed(150),
        ws_latency=Fixed(20),
        restarts_ms=restarts_ms,
        setup=setup,
    )
    outcome = run_bot(spec)
    records = truth_records(outcome.sim.trace.lines)
    return outcome, records, naked_windows(records, outcome.result.end_us // 1000)


def max_contracts(records):
    return max(
        (abs(D(p["amount"])) for r in records for p in r["positions"].values()), default=D(0)
    )


def entries_sent(outcome):
    return [c for bot in outcome.bots for _, c in bot.issued if type(c).__name__ == "PlaceEntry"]


def stop_levels(records):
    """Every distinct protective stop level the exchange held, in order of appearance."""
    seen = []
    for record in records:
        for algo in record["open_algo_orders"]:
            level = D(algo["trigger"])
            if level not in seen:
                seen.append(level)
    return seen


@pytest.mark.parametrize("side", ["long", "short"])
def test_a_position_lives_entry_stop_trailing_exit_and_ends_with_no_stops(tmp_path, side):
    outcome, records, naked = run(tmp_path, side=side)
    assert len(entries_sent(outcome)) == 1 and max_contracts(records) == 4
    first_open = next(r for r in records if r["positions"])
    assert first_open["positions"]["SOONUSDT"]["amount"] == ("4" if side == "long" else "-4")
    levels = stop_levels(records)
    initial = D("1.9113") if side == "long" else D("2.1553")  # entry × (1 ∓ 6 %)
    assert levels[0] == initial
    moves = levels[1:]
    assert len(moves) >= 10, "the trailing stop followed the price"
    ratchet = sorted(moves) if side == "long" else sorted(moves, reverse=True)
    assert moves == ratchet, "the stop only ever moved in the protective direction"
    final = records[-1]
    assert final["positions"] == {} and final["open_algo_orders"] == []
    # exited through the trailing stop, in profit
    assert D(final["wallet"]) > D("10000")
    # the only unprotected time is the entry window, bounded by one stop round trip
    assert [w.first for w in naked] == [True]
    assert naked[0].duration_ms <= RTT_MS


def test_the_same_run_gives_the_same_trace(tmp_path):
    first, *_ = run(tmp_path / "a")
    again, *_ = run(tmp_path / "b")
    assert first.sim.trace.sha256() == again.sim.trace.sha256()


def test_a_restart_with_an_open_protected_position_keeps_it_protected(tmp_path):
    crash_ms = T0_MS + 100_000  # trailing, stop at ~2.05
    outcome, records, naked = run(tmp_path, restarts_ms=(crash_ms,))
    assert len(outcome.bots) == 2
    assert len(entries_sent(outcome)) == 1 and max_contracts(records) == 4  # no re-entry
    assert [w.first for w in naked] == [True]  # never naked after the entry window
    levels = stop_levels(records)
    assert levels == sorted(levels), "the restarted bot never loosened the stop"
    second = outcome.bots[1]
    assert any(type(c).__name__ == "PlaceStop" for _, c in second.issued)
    assert records[-1]["positions"] == {} and records[-1]["open_algo_orders"] == []


def test_a_restart_right_after_the_fill_re_protects_within_a_bound(tmp_path):
    crash_ms = ENTRY_MS + 200  # filled, stop placement still in flight
    outcome, records, naked = run(tmp_path, restarts_ms=(crash_ms,))
    assert len(entries_sent(outcome)) == 1 and max_contracts(records) == 4  # no re-entry
    assert records[-1]["positions"] == {} and records[-1]["open_algo_orders"] == []
    assert len(naked) <= 1
    # the stop sent before the crash may land anyway; otherwise the new life places one
    assert all(w.end_ms <= crash_ms + 2_000 for w in naked)


def test_listen_key_expiry_mid_position_is_noticed_at_once_and_recovered(tmp_path):
    from bot.repository import Repository

    expire_ms = T0_MS + 50_000

    def expire_keys_at(sim, venue, session):  # the fault: every listenKey expires
        def expire(_event):
            for key in list(venue.listen_keys._keys):
                if venue.listen_keys.is_valid(key, venue.now_ms()):
                    venue.expire_listen_key(key)

        sim.env.timeout(expire_ms * 1000 - sim.env.now).callbacks.append(expire)

    outcome, truth, naked = run(tmp_path, setup=expire_keys_at)
    records = list(outcome.sim.trace.records())
    posts = [
        r["t_ms"]
        for r in records
        if r["kind"] == "venue.rest"
        and r["route"] == "POST /fapi/v1/listenKey"
        and r["status"] == 200
    ]
    assert any(expire_ms < t <= expire_ms + 5_000 for t in posts), posts  # re-authenticated
    assert truth[-1]["positions"] == {} and truth[-1]["open_algo_orders"] == []
    assert outcome.bots[0].protector.state("SOONUSDT").phase == "FLAT"  # belief = truth
    assert [w.first for w in naked] == [True]
    with Repository(tmp_path / "bot.sqlite") as repository:
        journal = [row.amount for row in repository.positions_journal()]
    assert journal[0] == 4 and journal[-1] == 0  # the positions journal: opened, closed


def test_close_position_stops_cannot_trail_where_binance_refuses_a_second_one(tmp_path):
    """Binance is widely reported to refuse a second closePosition stop of a side (-4130),
    which defeats place-new-first: with stop_style close_position the stop never moves (the
    old one is kept: protected, not trailed). Reduce-only stops, the default, trail."""
    stuck, records, naked = run(tmp_path / "a", stop_style="close_position")
    refused = [
        r for r in stuck.sim.trace.records() if r["kind"] == "venue.rest" and r["code"] == -4130
    ]
    assert refused, "every replacement is refused"
    assert stop_levels(records) == [D("1.9113")]  # never trailed
    assert [w.first for w in naked] == [True]  # but never naked either
    _, records, _ = run(tmp_path / "b")  # reduce_only
    assert len(stop_levels(records)) > 10


def test_a_repository_locked_by_another_process_delays_writes_and_loses_none(tmp_path, caplog):
    """Another connection (an operator's sqlite3 shell, a backup) holds the write lock for a
    second while the stop trails: the bot's writes fail, are retried in order, and land; the
    position stays protected throughout."""
    import sqlite3

    from bot.repository import Repository

    held: dict[str, sqlite3.Connection] = {}
    db = tmp_path / "bot.sqlite"

    def lock_for_a_second(sim, venue, session):
        def lock(_event):
            held["c"] = sqlite3.connect(db, isolation_level=None, timeout=0)
            held["c"].execute("BEGIN IMMEDIATE")

        def unlock(_event):
            held["c"].execute("COMMIT")
            held["c"].close()

        at_us = (T0_MS + 110_000) * 1000 - sim.env.now  # trailing: a write every second
        sim.env.timeout(at_us).callbacks.append(lock)
        sim.env.timeout(at_us + 1_000_000).callbacks.append(unlock)

    outcome, truth, naked = run(tmp_path, setup=lock_for_a_second)
    assert outcome.error == ""
    assert any("repository write failed" in r.getMessage() for r in caplog.records)
    assert [w.first for w in naked] == [True]  # only the entry's own window
    assert truth[-1]["positions"] == {} and truth[-1]["open_algo_orders"] == []
    with Repository(db) as repository:
        journal = [row.amount for row in repository.positions_journal()]
        assert repository.load_trails() == {}  # the close's delete landed after the lock
        assert repository.stops(open_only=True) == []
    assert journal[0] == 4 and journal[-1] == 0
