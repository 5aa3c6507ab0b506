"""The bot's SQLite repository: what must survive a restart, and an audit trail.

Invariant: the database is persistence only, never a source of truth about the exchange. It
holds trailing-stop state, the stops the bot placed, a journal of the positions the bot saw
(for audit) and an event log. It is never read to learn a position's size: in the SOONUSDT
incident a stale quantity column was used that way. Position sizes come from the exchange.

Synchronous on purpose: the asyncio shell calls it through ``asyncio.to_thread`` (which the
simulator runs inline). Each public write is one transaction; decimals are stored as TEXT so
they come back exactly as written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    t_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, seq);
CREATE TABLE IF NOT EXISTS trails (
    symbol TEXT PRIMARY KEY,
    side TEXT NOT NULL,
    entry TEXT NOT NULL,
    opened_ms INTEGER NOT NULL,
    activated INTEGER NOT NULL,
    best TEXT,
    stop TEXT NOT NULL,
    last_move_ms INTEGER NOT NULL,
    next_stop_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    symbol TEXT NOT NULL,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    t_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS positions_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    t_ms INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    amount TEXT NOT NULL,
    entry TEXT NOT NULL,
    source TEXT NOT NULL
);
"""

_CLOSED_STATUSES = ("gone",)
_TRAIL_COLUMNS = (
    "symbol, side, entry, opened_ms, activated, best, stop, last_move_ms, next_stop_seq"
)
_TRAIL_UPSERT = f"INSERT OR REPLACE INTO trails ({_TRAIL_COLUMNS}) VALUES ({', '.join('?' * 9)})"


class RepositoryError(RuntimeError):
    """The database cannot be used by this version of the bot."""


@dataclass(frozen=True, slots=True)
class TrailRecord:
    symbol: str
    side: str
    entry: Decimal
    opened_ms: int
    activated: bool
    best: Decimal | None
    stop: Decimal
    last_move_ms: int
    next_stop_seq: int


@dataclass(frozen=True, slots=True)
class StopRecord:
    client_id: str
    symbol: str
    level: Decimal
    status: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    t_ms: int
    kind: str
    symbol: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PositionRow:
    seq: int
    t_ms: int
    symbol: str
    amount: Decimal
    entry: Decimal
    source: str


def _text(name: str, value: object) -> str:
    # A float here would be stored as its shortest repr and lose exactness silently
    if not isinstance(value, Decimal):
        raise TypeError(f"{name}: expected a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"{name}: expected a finite Decimal, got {value}")
    return str(value)


def _check_detail(key: str, value: object) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_detail(f"{key}[{i}]", item)
        return
    if isinstance(value, Mapping):
        for sub_key, item in value.items():
            if not isinstance(sub_key, str):
                raise TypeError(f"event detail key {key!r}: object keys must be strings")
            _check_detail(f"{key}.{sub_key}" if key else sub_key, item)
        return
    hint = " (write decimals as strings: str(Decimal(...)))" if isinstance(value, float) else ""
    raise TypeError(
        f"event detail key {key!r}: {type(value).__name__} is not allowed; "
        f"use int, str, bool, None, or lists/dicts of them{hint}"
    )


def _canonical(detail: Mapping[str, object]) -> str:
    _check_detail("", detail)
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Repository:
    """One connection to the bot's database. Calls may come from any thread (the shell uses
    ``asyncio.to_thread``); a lock serialises them."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # to_thread may run each call on a different worker thread; the lock serialises them
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        try:
            self._migrate()  # first, so a database this bot must refuse is left as it was
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            found = row[0]
            if found is not None and found > SCHEMA_VERSION:
                raise RepositoryError(
                    f"{self.path}: database schema version {found} is newer than this bot "
                    f"understands (version {SCHEMA_VERSION}); run the newer bot that wrote it, "
                    "or point repository.path at another file"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if found is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; BEGIN IMMEDIATE takes the write lock up front, so a second
        connection waits at the start instead of failing half-way."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- event log ------------------------------------------------------------------------

    def append_event(
        self, t_ms: int, kind: str, symbol: str | None, detail: Mapping[str, object]
    ) -> None:
        text = _canonical(detail)
        with self._write() as db:
            db.execute(
                "INSERT INTO events (t_ms, kind, symbol, detail) VALUES (?, ?, ?, ?)",
                (t_ms, kind, symbol, text),
            )

    def events(self, kind: str | None = None) -> list[EventRow]:
        sql = "SELECT seq, t_ms, kind, symbol, detail FROM events"
        if kind is None:
            rows = self._read(sql + " ORDER BY seq")
        else:
            rows = self._read(sql + " WHERE kind = ? ORDER BY seq", (kind,))
        return [EventRow(q, t, k, sym, json.loads(d)) for q, t, k, sym, d in rows]

    # --- trailing-stop state --------------------------------------------------------------

    def save_trail(self, state: TrailRecord) -> None:
        best = None if state.best is None else _text("TrailRecord.best", state.best)
        values = (
            state.symbol,
            state.side,
            _text("TrailRecord.entry", state.entry),
            state.opened_ms,
            int(state.activated),
            best,
            _text("TrailRecord.stop", state.stop),
            state.last_move_ms,
            state.next_stop_seq,
        )
        with self._write() as db:
            db.execute(_TRAIL_UPSERT, values)

    def load_trails(self) -> dict[str, TrailRecord]:
        rows = self._read(f"SELECT {_TRAIL_COLUMNS} FROM trails ORDER BY symbol")
        trails = {}
        for symbol, side, entry, opened_ms, activated, best, stop, moved_ms, next_seq in rows:
            trails[symbol] = TrailRecord(
                symbol,
                side,
                Decimal(entry),
                opened_ms,
                bool(activated),
                None if best is None else Decimal(best),
                Decimal(stop),
                moved_ms,
                next_seq,
            )
        return trails

    def delete_trail(self, symbol: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM trails WHERE symbol = ?", (symbol,))

    # --- stops placed ---------------------------------------------------------------------

    def save_stop(self, stop: StopRecord) -> None:
        level = _text("StopRecord.level", stop.level)
        with self._write() as db:
            # an upsert keeps the row's seq, so stops() lists stops in the order first saved
            db.execute(
                "INSERT INTO stops (client_id, symbol, level, status, t_ms) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (client_id) DO UPDATE SET symbol = excluded.symbol,"
                " level = excluded.level, status = excluded.status, t_ms = excluded.t_ms",
                (stop.client_id, stop.symbol, level, stop.status, stop.t_ms),
            )

    def stops(self, symbol: str | None = None, *, open_only: bool = False) -> list[StopRecord]:
        where, params = [], []
        if symbol is not None:
            where.append("symbol = ?")
            params.append(symbol)
        if open_only:
            where.append(f"status NOT IN ({', '.join('?' for _ in _CLOSED_STATUSES)})")
            params.extend(_CLOSED_STATUSES)
        sql = "SELECT client_id, symbol, level, status, t_ms FROM stops"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._read(sql + " ORDER BY seq", tuple(params))
        return [StopRecord(c, s, Decimal(level), st, t) for c, s, level, st, t in rows]

    # --- positions journal (audit only: never read back to size an order) ----------------

    def journal_position(
        self, t_ms: int, symbol: str, amount: Decimal, entry: Decimal, source: str
    ) -> None:
        values = (t_ms, symbol, _text("amount", amount), _text("entry", entry), source)
        with self._write() as db:
            db.execute(
                "INSERT INTO positions_journal (t_ms, symbol, amount, entry, source)"
                " VALUES (?, ?, ?, ?, ?)",
                values,
            )

    def positions_journal(self, symbol: str | None = None) -> list[PositionRow]:
        sql = "SELECT seq, t_ms, symbol, amount, entry, source FROM positions_journal"
        if symbol is None:
            rows = self._read(sql + " ORDER BY seq")
        else:
            rows = self._read(sql + " WHERE symbol = ? ORDER BY seq", (symbol,))
        return [PositionRow(q, t, s, Decimal(a), Decimal(e), src) for q, t, s, a, e, src in rows]
