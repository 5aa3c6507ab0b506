"""Link semantics on a bare simpy clock: latency, FIFO, rules, hold/release, cut, tracing."""

from __future__ import annotations

import random

import simpy

from sim.trace import Trace
from sim.transport.actions import Delay, Drop, Duplicate, Hold, for_kinds
from sim.transport.latency import Fixed, Uniform
from sim.transport.link import Link, Message

TEN_MS = Fixed(10)


class Bench:
    """A simpy env, a trace and a link whose deliveries are recorded as (t_us, kind, payload)."""

    def __init__(self, latency=TEN_MS, *, fifo=False, trace_messages=True, seed="link"):
        self.env = simpy.Environment()
        self.trace = Trace(clock_us=lambda: self.env.now)
        self.got: list[tuple[int, str, object]] = []
        self.link = Link(
            self.env,
            "test",
            lambda m: self.got.append((self.env.now, m.kind, m.payload)),
            latency=latency,
            rng=random.Random(seed),
            fifo=fifo,
            trace=self.trace,
            trace_messages=trace_messages,
        )

    def send_at(self, t_us, kind, payload=None):
        self.at(t_us, lambda: self.link.send(Message(kind, payload)))

    def at(self, t_us, action):
        self.env.timeout(t_us - self.env.now).callbacks.append(lambda _e: action())

    def kinds(self):
        return [r["kind"] for r in self.trace.records()]


def test_delivery_after_latency_and_traced_with_name_kind_seq():
    bench = Bench(Fixed(10))
    bench.send_at(0, "A", 1)
    bench.send_at(5_000, "B", 2)
    bench.env.run()
    assert bench.got == [(10_000, "A", 1), (15_000, "B", 2)]
    first = next(bench.trace.records())
    assert first == {
        "kind": "link.send",
        "link": "test",
        "msg": "A",
        "seq": 1,
        "delay_us": 10_000,
        "t_ms": 0,
    }
    assert bench.kinds() == ["link.send", "link.send", "link.deliver", "link.deliver"]


def test_fifo_link_never_reorders_while_a_plain_link_does():
    def run(fifo):
        bench = Bench(Uniform(0, 50), fifo=fifo, seed="same")
        for i in range(40):
            bench.send_at(i * 2_000, "m", i)
        bench.env.run()
        return bench.got

    fifo, plain = run(True), run(False)
    assert [p for _, _, p in fifo] == list(range(40))
    assert [p for _, _, p in plain] != list(range(40))  # the same draws do reorder
    times = [t for t, _, _ in fifo]
    assert times == sorted(times)


def test_delay_adds_and_on_a_fifo_link_the_messages_behind_wait():
    bench = Bench(Fixed(10), fifo=True)
    bench.link.add_rule(for_kinds(Delay(100_000), "slow"))
    bench.send_at(0, "slow")
    bench.send_at(1_000, "fast")
    bench.env.run()
    assert bench.got == [(110_000, "slow", None), (110_000, "fast", None)]
    assert "link.delay" in bench.kinds()


def test_drop_and_rule_removal():
    bench = Bench(Fixed(1))
    handle = bench.link.add_rule(for_kinds(Drop(), "x"))
    bench.send_at(0, "x", 1)
    bench.send_at(0, "y", 2)
    bench.at(5_000, lambda: bench.link.remove_rule(handle))
    bench.send_at(5_000, "x", 3)
    bench.env.run()
    assert bench.got == [(1_000, "y", 2), (6_000, "x", 3)]
    drops = [r for r in bench.trace.records() if r["kind"] == "link.drop"]
    assert drops == [
        {"kind": "link.drop", "link": "test", "msg": "x", "seq": 1, "reason": "rule", "t_ms": 0}
    ]
    assert bench.link.remove_rule(handle) is False


def test_drop_beats_hold_beats_delay_whatever_the_order_of_rules():
    bench = Bench(Fixed(1))
    bench.link.add_rule(lambda m: Delay(5))
    bench.link.add_rule(lambda m: Hold() if m.payload >= 1 else None)
    bench.link.add_rule(lambda m: Drop() if m.payload == 2 else None)
    for payload in (0, 1, 2):
        bench.send_at(0, "m", payload)
    bench.env.run()
    assert bench.got == [(1_005, "m", 0)]
    assert [m.payload for m in bench.link.held] == [1]


def test_duplicate_delivers_copies_spaced_apart():
    bench = Bench(Fixed(10))
    bench.link.add_rule(for_kinds(Duplicate(copies=2, spacing_us=3_000), "dup"))
    bench.send_at(0, "dup", "d")
    bench.env.run()
    assert bench.got == [(10_000, "dup", "d"), (13_000, "dup", "d"), (16_000, "dup", "d")]
    delivers = [r for r in bench.trace.records() if r["kind"] == "link.deliver"]
    assert [(r["seq"], r.get("copy")) for r in delivers] == [(1, None), (1, 1), (1, 2)]


def test_hold_then_release_in_one_burst_optionally_reordered():
    bench = Bench(Fixed(10), fifo=True)
    handle = bench.link.add_rule(for_kinds(Hold(), "held"))
    bench.send_at(0, "held", 3)
    bench.send_at(1_000, "held", 1)
    bench.send_at(2_000, "other", 0)
    bench.send_at(3_000, "held", 2)

    def release():
        bench.link.remove_rule(handle)
        assert bench.link.release_held(order=lambda m: m.payload) == 3

    bench.at(50_000, release)
    bench.env.run()
    assert bench.got == [
        (12_000, "other", 0),
        (50_000, "held", 1),
        (50_000, "held", 2),
        (50_000, "held", 3),
    ]
    assert bench.link.held == ()


def test_cut_loses_what_is_in_flight_and_what_is_sent_until_restore():
    bench = Bench(Fixed(10))
    bench.send_at(0, "m", "in flight")
    bench.at(5_000, bench.link.cut)
    bench.send_at(6_000, "m", "while cut")
    bench.at(7_000, bench.link.restore)
    bench.send_at(8_000, "m", "after")
    bench.env.run()
    assert bench.got == [(18_000, "m", "after")]
    drops = [
        (r["t_ms"], r["reason"], r["seq"])
        for r in bench.trace.records()
        if r["kind"] == "link.drop"
    ]
    assert drops == [(6, "cut", 2), (10, "cut", 1)]


def test_with_message_tracing_off_only_fault_effects_are_traced():
    bench = Bench(Fixed(10), trace_messages=False)
    bench.link.add_rule(for_kinds(Drop(), "bad"))
    bench.send_at(0, "good")
    bench.send_at(0, "bad")
    bench.env.run()
    assert [t for t, _, _ in bench.got] == [10_000]
    assert bench.kinds() == ["link.drop"]
