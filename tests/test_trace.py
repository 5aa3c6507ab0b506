"""The trace is canonical, append-only, hashable, and refuses values that would drift."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from sim.trace import Trace, TraceValueError, sha256_of_file


def make_trace():
    clock = {"us": 1_762_790_551_092_345}
    return Trace(clock_us=lambda: clock["us"]), clock


def test_records_are_canonical_json_lines_stamped_in_virtual_milliseconds():
    trace, clock = make_trace()
    trace.record(
        "order.new",
        symbol="SOONUSDT",
        price=str(Decimal("2.0333")),
        qty=4,
        tags={"z": 1, "a": [True, None]},
    )
    clock["us"] += 250_000
    trace.record("order.filled", symbol="SOONUSDT")
    assert trace.lines == (
        '{"kind":"order.new","price":"2.0333","qty":4,"symbol":"SOONUSDT",'
        '"t_ms":1762790551092,"tags":{"a":[true,null],"z":1}}',
        '{"kind":"order.filled","symbol":"SOONUSDT","t_ms":1762790551342}',
    )
    expected = hashlib.sha256("".join(f"{line}\n" for line in trace.lines).encode()).hexdigest()
    assert trace.sha256() == expected


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"price": 2.0333}, "key 'price': float is not allowed"),
        ({"qty": Decimal("4")}, "key 'qty': Decimal is not allowed"),
        ({"book": {"bids": [1.5]}}, "key 'book.bids': float"),
        ({"t_ms": 5}, "'t_ms' is set by the trace itself"),
        ({"book": {1: "x"}}, "object keys must be strings"),
    ],
)
def test_values_that_would_make_equal_runs_hash_differently_are_refused(fields, needle):
    trace, _ = make_trace()
    with pytest.raises(TraceValueError, match=needle):
        trace.record("bad", **fields)
    assert len(trace) == 0  # nothing half-written


def test_written_file_hashes_to_the_trace_hash_and_replaces_atomically(tmp_path):
    trace, _ = make_trace()
    for i in range(100):
        trace.record("tick", i=i, symbol="BTCUSDT")
    target = trace.write_jsonl(tmp_path / "run" / "trace.jsonl")
    assert sha256_of_file(target) == trace.sha256()
    assert [p.name for p in target.parent.iterdir()] == ["trace.jsonl"]  # no temp file left
    assert [json.loads(line)["i"] for line in target.read_text().splitlines()] == list(range(100))


def test_polars_views_of_the_whole_trace_and_of_one_kind():
    trace, clock = make_trace()
    trace.record("tick", symbol="BTCUSDT", mark="97000.10")
    clock["us"] += 1_000_000
    trace.record("fill", symbol="BTCUSDT", qty=2)
    trace.record("tick", symbol="BTCUSDT", mark="97001.20")
    everything = trace.to_polars()
    assert everything["kind"].to_list() == ["tick", "fill", "tick"]
    assert everything["seq"].to_list() == [0, 1, 2]
    ticks = trace.to_polars("tick")
    assert ticks["mark"].to_list() == ["97000.10", "97001.20"]
    assert ticks["t_ms"].to_list() == [1_762_790_551_092, 1_762_790_552_092]
    assert trace.to_polars("nothing").height == 0
