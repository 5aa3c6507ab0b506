"""Link: one direction of a simulated connection, on the simpy clock.

``link.send(message)`` hands the message to the link's receiver callback after the link's
latency, as a simpy event; the receiver runs inside simpy's step, at the delivery instant,
and typically resolves an asyncio future or feeds a queue. Each delivery is one object pushed
onto simpy's heap (the ``env.schedule`` trick of :mod:`sim.runtime.loop`): O(1) per message.

Invariants:

* **FIFO links never reorder.** On a link built with ``fifo=True`` (a stream: a WebSocket
  direction) a message is delivered no earlier than any message sent before it:
  ``due = max(now + latency + extra, last_due)``; ties keep send order (simpy breaks ties by
  insertion). Only the two fault actions meant to reorder are exempt: duplicate copies (a
  resend) and held messages released in a burst.
* **A cut link loses everything**: what is sent while it is cut, and what was in flight when
  it was cut (simpy cannot cancel events, so each delivery carries the link's cut epoch and
  is discarded on arrival if a cut happened since). :meth:`restore` lets new traffic through.
* **Every fault effect is traced** (a rule's drop, hold, release, duplicate, delay; cut,
  restore); plain sends and deliveries, and each message a cut loses, are traced when
  ``trace_messages`` is on (a cut market-data link would otherwise add a line per frame).
  Trace fields are ints and strings only: ``link`` (name), ``msg`` (message kind), ``seq``
  (per link, from 1) and ``ref`` (the request the message belongs to, when it has one).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from sim.trace import Trace
from sim.transport.actions import PASS, Rule, combine
from sim.transport.latency import ByEndpoint, LatencyModel, sampler


@dataclass(frozen=True, slots=True)
class Message:
    """What travels on a link. ``kind`` names it for rules and traces (``"POST
    /fapi/v1/order"``, ``"ACCOUNT_UPDATE"``, ``"ws.ping"``); ``ref`` ties it to a request or
    connection number."""

    kind: str
    payload: Any = None
    ref: int | None = None


class _Delivery:
    """A message in flight, and its own simpy event: simpy's ``step()`` reads only
    ``callbacks`` and ``_ok`` from an event, so no ``Timeout`` object is needed beside it."""

    __slots__ = ("_ok", "callbacks", "copy", "epoch", "message", "seq")

    def __init__(self, callbacks: tuple, message: Message, seq: int, copy: int, epoch: int):
        self.callbacks = callbacks
        self._ok = True
        self.message = message
        self.seq = seq
        self.copy = copy
        self.epoch = epoch


class Link:
    """One direction of a connection. ``receiver(message)`` is called at each delivery.

    ``latency``: a model from :mod:`sim.transport.latency`; ``rng``: the link's own
    generator (give each link its own named stream, so traffic on one link does not shift
    the draws of another). ``fifo``: stream semantics (see the module docstring).
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        receiver: Callable[[Message], None],
        *,
        latency: LatencyModel | ByEndpoint,
        rng: random.Random,
        fifo: bool = False,
        trace: Trace | None = None,
        trace_messages: bool = True,
    ) -> None:
        self.env = env
        self.name = name
        self.fifo = fifo
        self.trace_messages = trace_messages
        self._receiver = receiver
        self._rng = rng
        self._latency = latency
        self._draw_us = sampler(latency, rng)
        self._trace = trace
        self._callbacks = (self._on_due,)
        self._rules: dict[int, Rule] = {}
        self._next_rule = 0
        self._held: list[tuple[Message, int]] = []
        self._seq = 0
        self._last_due_us = 0
        self._cut = False
        self._epoch = 0

    # ----------------------------------------------------------------- sending
    def send(self, message: Message) -> int:
        """Send ``message``; returns its sequence number on this link (from 1)."""
        self._seq += 1
        seq = self._seq
        if self._cut:
            if self.trace_messages:
                self._record("link.drop", message, seq, reason="cut")
            return seq
        verdict = combine(self._rules.values(), message) if self._rules else PASS
        if verdict.drop:
            self._record("link.drop", message, seq, reason="rule")
            return seq
        if verdict.hold:
            self._held.append((message, seq))
            self._record("link.hold", message, seq)
            return seq
        now_us = self.env._now
        due_us = now_us + self._draw_us(message) + verdict.extra_us
        if self.fifo:
            if due_us < self._last_due_us:
                due_us = self._last_due_us
            self._last_due_us = due_us
        if verdict.extra_us:
            self._record("link.delay", message, seq, extra_us=verdict.extra_us)
        if self.trace_messages and self._trace is not None:
            self._record("link.send", message, seq, delay_us=due_us - now_us)
        self._schedule(message, seq, 0, due_us - now_us)
        duplicate = verdict.duplicate
        if duplicate is not None:
            self._record(
                "link.duplicate",
                message,
                seq,
                copies=duplicate.copies,
                spacing_us=duplicate.spacing_us,
            )
            for copy in range(1, duplicate.copies + 1):
                self._schedule(message, seq, copy, due_us - now_us + copy * duplicate.spacing_us)
        return seq

    def _schedule(self, message: Message, seq: int, copy: int, delay_us: int) -> None:
        delivery = _Delivery(self._callbacks, message, seq, copy, self._epoch)
        self.env.schedule(delivery, simpy.core.NORMAL, delay_us)

    def _on_due(self, delivery: _Delivery) -> None:
        message = delivery.message
        if delivery.epoch != self._epoch:
            if self.trace_messages:
                self._record("link.drop", message, delivery.seq, reason="cut")
            return
        if self.trace_messages and self._trace is not None:
            if delivery.copy:
                self._record("link.deliver", message, delivery.seq, copy=delivery.copy)
            else:
                self._record("link.deliver", message, delivery.seq)
        self._receiver(message)

    # ----------------------------------------------------------------- fault hooks
    def add_rule(self, rule: Rule) -> int:
        """Add a rule (see :mod:`sim.transport.actions`); returns a handle for
        :meth:`remove_rule`. Rules are asked in the order they were added."""
        if not callable(rule):
            raise TypeError(f"a link rule is a callable (message) -> Action | None, got {rule!r}")
        self._next_rule += 1
        self._rules[self._next_rule] = rule
        return self._next_rule

    def remove_rule(self, handle: int) -> bool:
        """Remove a rule; True if it was there (removing twice is harmless: heals may overlap)."""
        return self._rules.pop(handle, None) is not None

    @property
    def rule_count(self) -> int:
        return len(self._rules)

    @property
    def held(self) -> tuple[Message, ...]:
        """Messages held by a :class:`~sim.transport.actions.Hold` rule, in send order."""
        return tuple(message for message, _ in self._held)

    def release_held(self, order: Callable[[Message], Any] | None = None) -> int:
        """Deliver every held message now, in one burst: in send order, or sorted (stably)
        by ``order(message)``. Returns how many were released. A cut link loses them."""
        held, self._held = self._held, []
        if order is not None:
            held.sort(key=lambda item: order(item[0]))
        self._record_link("link.release", count=len(held))
        now_us = self.env._now
        if self.fifo and self._last_due_us < now_us:
            self._last_due_us = now_us
        for message, seq in held:
            if self._cut:
                self._record("link.drop", message, seq, reason="cut")
            else:
                self._schedule(message, seq, 0, 0)
        return len(held)

    def cut(self) -> None:
        """Lose everything from now on, including what is in flight, until :meth:`restore`."""
        if self._cut:
            return
        self._cut = True
        self._epoch += 1
        self._record_link("link.cut")

    def restore(self) -> None:
        if not self._cut:
            return
        self._cut = False
        self._record_link("link.restore")

    @property
    def is_cut(self) -> bool:
        return self._cut

    def set_latency(self, latency: LatencyModel | ByEndpoint) -> None:
        """Change the latency model from now on (messages in flight keep their due time)."""
        self._latency = latency
        self._draw_us = sampler(latency, self._rng)

    @property
    def latency(self) -> LatencyModel | ByEndpoint:
        return self._latency

    # ----------------------------------------------------------------- trace
    def _record(self, kind: str, message: Message, seq: int, **fields: Any) -> None:
        if self._trace is None:
            return
        if message.ref is not None:
            fields["ref"] = message.ref
        self._trace.record(kind, link=self.name, msg=message.kind, seq=seq, **fields)

    def _record_link(self, kind: str, **fields: Any) -> None:
        if self._trace is not None:
            self._trace.record(kind, link=self.name, **fields)

    def __repr__(self) -> str:
        return f"Link({self.name!r}, fifo={self.fifo}, cut={self._cut})"
