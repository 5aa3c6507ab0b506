"""The bot's SQLite repository: exact round trips, upserts, order, and surviving a restart."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal

import pytest

from bot.repository import (
    SCHEMA_VERSION,
    EventRow,
    PositionRow,
    Repository,
    RepositoryError,
    StopRecord,
    TrailRecord,
)

TRAIL = TrailRecord(
    symbol="SOONUSDT",
    side="long",
    entry=Decimal("2.03332500"),
    opened_ms=1762790551092,
    activated=False,
    best=None,
    stop=Decimal("1.9113"),
    last_move_ms=1762790551092,
    next_stop_seq=1,
)


def raw(path, sql, params=()):
    """Query the file directly with a connection of its own, as another program would."""
    with closing(sqlite3.connect(path)) as db, db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "bot.sqlite"


@pytest.fixture
def repo(path):
    with Repository(path) as repository:
        yield repository


def test_trail_round_trips_exactly_and_upserts_by_symbol(repo):
    repo.save_trail(TRAIL)
    assert repo.load_trails() == {"SOONUSDT": TRAIL}
    # trailing zeros survive: decimals are stored as text, not REAL
    assert str(repo.load_trails()["SOONUSDT"].entry) == "2.03332500"

    moved = TrailRecord(
        "SOONUSDT", "long", TRAIL.entry, TRAIL.opened_ms, True,
        Decimal("2.06801642"), Decimal("2.0473"), 1762790641000, 2,
    )  # fmt: skip
    repo.save_trail(moved)
    assert repo.load_trails() == {"SOONUSDT": moved}
    assert str(repo.load_trails()["SOONUSDT"].best) == "2.06801642"


def test_trails_are_listed_by_symbol_and_can_be_deleted(repo):
    short = TrailRecord("BTCUSDT", "short", Decimal("100000.0"), 5, False, None,
                        Decimal("106000.0"), 5, 1)  # fmt: skip
    repo.save_trail(TRAIL)
    repo.save_trail(short)
    assert list(repo.load_trails()) == ["BTCUSDT", "SOONUSDT"]
    repo.delete_trail("SOONUSDT")
    assert repo.load_trails() == {"BTCUSDT": short}
    repo.delete_trail("SOONUSDT")  # deleting what is gone is not an error
    assert repo.load_trails() == {"BTCUSDT": short}


def test_stops_round_trip_upsert_by_client_id_and_filter(repo):
    first = StopRecord("fs-SOONUSDT-1", "SOONUSDT", Decimal("1.9113"), "placing", 100)
    other = StopRecord("fs-BTCUSDT-1", "BTCUSDT", Decimal("94000.0"), "working", 150)
    second = StopRecord("fs-SOONUSDT-2", "SOONUSDT", Decimal("2.0473"), "placing", 200)
    for stop in (first, other, second):
        repo.save_stop(stop)
    working = StopRecord("fs-SOONUSDT-2", "SOONUSDT", Decimal("2.0473"), "working", 260)
    gone = StopRecord("fs-SOONUSDT-1", "SOONUSDT", Decimal("1.9113"), "gone", 300)
    repo.save_stop(working)
    repo.save_stop(gone)

    # an upsert keeps a stop's place: listed in the order first saved
    assert repo.stops() == [gone, other, working]
    assert repo.stops("SOONUSDT") == [gone, working]
    assert repo.stops(open_only=True) == [other, working]
    assert repo.stops("SOONUSDT", open_only=True) == [working]
    assert repo.stops("ETHUSDT") == []
    assert str(repo.stops("BTCUSDT")[0].level) == "94000.0"


def test_events_keep_insertion_order_and_canonical_detail(repo, path):
    repo.append_event(200, "stop_placed", "SOONUSDT", {"level": "1.9113", "client_id": "a"})
    repo.append_event(100, "started", None, {})  # earlier time, later insertion
    repo.append_event(300, "stop_placed", "SOONUSDT", {"nested": {"b": [1, True, None]}})

    assert repo.events() == [
        EventRow(1, 200, "stop_placed", "SOONUSDT", {"client_id": "a", "level": "1.9113"}),
        EventRow(2, 100, "started", None, {}),
        EventRow(3, 300, "stop_placed", "SOONUSDT", {"nested": {"b": [1, True, None]}}),
    ]
    assert [e.seq for e in repo.events("stop_placed")] == [1, 3]
    assert repo.events("nothing") == []
    stored = raw(path, "SELECT detail FROM events WHERE seq = 1")
    assert stored == [('{"client_id":"a","level":"1.9113"}',)]


@pytest.mark.parametrize(
    ("detail", "key"),
    [
        ({"price": 2.0333}, "'price'"),
        ({"outer": {"inner": 1.5}}, "'outer.inner'"),
        ({"levels": ["1", 2.5]}, "'levels[1]'"),
        ({"qty": Decimal("4")}, "'qty'"),
    ],
)
def test_non_exact_values_in_event_detail_are_refused_naming_the_key(repo, detail, key):
    with pytest.raises(TypeError) as caught:
        repo.append_event(1, "bad", None, detail)
    assert key in str(caught.value)
    assert repo.events() == []  # nothing half-written


def test_float_in_detail_says_to_write_decimals_as_strings(repo):
    with pytest.raises(TypeError, match=r"write decimals as strings"):
        repo.append_event(1, "bad", None, {"price": 2.0333})


def test_floats_are_refused_where_decimals_are_stored(repo):
    with pytest.raises(TypeError, match=r"TrailRecord\.stop"):
        repo.save_trail(TrailRecord("SOONUSDT", "long", Decimal("2"), 0, False, None, 1.9, 0, 1))
    with pytest.raises(TypeError, match=r"StopRecord\.level"):
        repo.save_stop(StopRecord("c", "SOONUSDT", 1.9, "placing", 0))
    with pytest.raises(TypeError, match="amount"):
        repo.journal_position(0, "SOONUSDT", 4.0, Decimal("2.0333"), "stream")
    assert repo.load_trails() == {} and repo.stops() == [] and repo.positions_journal() == []


def test_positions_journal_round_trips_in_order(repo):
    repo.journal_position(100, "SOONUSDT", Decimal("4"), Decimal("2.0333"), "stream")
    repo.journal_position(150, "BTCUSDT", Decimal("-0.002"), Decimal("100000.10"), "rest")
    repo.journal_position(200, "SOONUSDT", Decimal("0"), Decimal("0.0"), "stream")
    assert repo.positions_journal() == [
        PositionRow(1, 100, "SOONUSDT", Decimal("4"), Decimal("2.0333"), "stream"),
        PositionRow(2, 150, "BTCUSDT", Decimal("-0.002"), Decimal("100000.10"), "rest"),
        PositionRow(3, 200, "SOONUSDT", Decimal("0"), Decimal("0.0"), "stream"),
    ]
    assert [row.seq for row in repo.positions_journal("SOONUSDT")] == [1, 3]
    assert str(repo.positions_journal("BTCUSDT")[0].entry) == "100000.10"


def test_everything_survives_a_restart(path):
    stop = StopRecord("fs-SOONUSDT-1", "SOONUSDT", Decimal("1.9113"), "working", 100)
    with Repository(path) as before:
        before.save_trail(TRAIL)
        before.save_stop(stop)
        before.append_event(100, "stop_placed", "SOONUSDT", {"client_id": stop.client_id})
        before.journal_position(100, "SOONUSDT", Decimal("4"), Decimal("2.0333"), "stream")
        snapshot = (before.load_trails(), before.stops(), before.events(),
                    before.positions_journal())  # fmt: skip

    with Repository(path) as after:
        assert (after.load_trails(), after.stops(), after.events(),
                after.positions_journal()) == snapshot  # fmt: skip
        # sequence numbers continue after a restart instead of starting again
        after.append_event(200, "restarted", None, {})
        assert [e.seq for e in after.events()] == [1, 2]


def test_two_connections_see_each_others_committed_writes(path):
    with Repository(path) as one, Repository(path) as two:
        one.save_trail(TRAIL)
        assert two.load_trails() == {"SOONUSDT": TRAIL}
        two.save_stop(StopRecord("c1", "SOONUSDT", Decimal("1.9113"), "working", 1))
        assert [s.client_id for s in one.stops()] == ["c1"]
        one.append_event(1, "a", None, {})
        two.append_event(2, "b", None, {})
        assert [e.kind for e in one.events()] == ["a", "b"]


def test_the_database_uses_wal(path):
    Repository(path).close()
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_in_memory_databases_work_and_are_private(tmp_path):
    with Repository(":memory:") as one, Repository(":memory:") as two:
        one.save_trail(TRAIL)
        assert one.load_trails() == {"SOONUSDT": TRAIL}
        assert two.load_trails() == {}


def test_a_newer_schema_version_is_refused_naming_the_file(path):
    Repository(path).close()
    raw(path, "UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(RepositoryError) as caught:
        Repository(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert "newer" in message and "repository.path" in message
    # refusing leaves the file as it was
    assert raw(path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION + 1,)]


def test_reopening_does_not_add_schema_rows(path):
    for _ in range(3):
        Repository(path).close()
    assert raw(path, "SELECT COUNT(*) FROM schema_version") == [(1,)]
