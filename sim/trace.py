"""The trace: an append-only record of what happened in a run, and its SHA-256.

One record per line of canonical JSON: keys sorted, no spaces, UTF-8, values that are ints,
strings, booleans, null, or lists/objects of those. No floats: prices and quantities are
decimal strings (a float's text depends on its arithmetic history, and would make equal runs
hash differently). Every record carries ``kind`` and ``t_ms`` (virtual milliseconds since the
epoch). The SHA-256 of the lines (each ending in ``\\n``) is the run's fingerprint: the same
scenario and seed must give the same hash in any process (DESIGN.md, principle 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

_SCALARS = (int, str, bool, type(None))
_RESERVED = ("kind", "t_ms")


class TraceValueError(TypeError):
    """A record held a value the canonical form cannot carry."""


def _check_value(kind: str, key: str, value: Any) -> None:
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(kind, key, item)
        return
    if isinstance(value, dict):
        for sub_key, item in value.items():
            if not isinstance(sub_key, str):
                raise TraceValueError(
                    f"trace record {kind!r}, key {key!r}: object keys must "
                    f"be strings, got {type(sub_key).__name__}"
                )
            _check_value(kind, f"{key}.{sub_key}", item)
        return
    hint = " (write decimals as strings: str(Decimal(...)))" if isinstance(value, float) else ""
    raise TraceValueError(
        f"trace record {kind!r}, key {key!r}: {type(value).__name__} is not allowed in a trace; "
        f"use int, str, bool, None, or lists/dicts of them{hint}"
    )


def canonical_line(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Trace:
    """Records are appended with :meth:`record`; read back as lines, a hash, or a DataFrame."""

    def __init__(self, clock_us: Callable[[], int]) -> None:
        self._clock_us = clock_us
        self._lines: list[str] = []
        self._sha = hashlib.sha256()

    def record(self, kind: str, **fields: Any) -> None:
        """Append one record stamped with the current virtual time."""
        for key, value in fields.items():
            if key in _RESERVED:
                raise TraceValueError(f"trace record {kind!r}: {key!r} is set by the trace itself")
            _check_value(kind, key, value)
        fields["kind"] = kind
        fields["t_ms"] = self._clock_us() // 1000
        line = canonical_line(fields)
        self._lines.append(line)
        self._sha.update(line.encode())
        self._sha.update(b"\n")

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    def sha256(self) -> str:
        return self._sha.hexdigest()

    def records(self) -> Iterable[dict[str, Any]]:
        return (json.loads(line) for line in self._lines)

    def write_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Write the lines to ``path`` atomically: a reader sees the old file or the whole new
        one, never half of it."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                for line in self._lines:
                    out.write(line)
                    out.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def to_polars(self, kind: str | None = None) -> pl.DataFrame:
        """A DataFrame view. Without ``kind``: columns ``seq``, ``t_ms``, ``kind``, ``record``
        (the JSON line). With ``kind``: that kind's records, one column per field."""
        if kind is None:
            rows = [json.loads(line) for line in self._lines]
            return pl.DataFrame(
                {
                    "seq": list(range(len(rows))),
                    "t_ms": [r["t_ms"] for r in rows],
                    "kind": [r["kind"] for r in rows],
                    "record": list(self._lines),
                },
                schema={"seq": pl.Int64, "t_ms": pl.Int64, "kind": pl.String, "record": pl.String},
            )
        rows = [rec for rec in self.records() if rec["kind"] == kind]
        if not rows:
            return pl.DataFrame(schema={"t_ms": pl.Int64, "kind": pl.String})
        return pl.from_dicts(rows, infer_schema_length=None)


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
