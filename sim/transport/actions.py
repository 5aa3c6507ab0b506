"""What a fault rule may do to one message on a link, and how several rules combine.

A *rule* is a callable ``(message) -> Action | None`` added to a link with
:meth:`~sim.transport.link.Link.add_rule`. The link asks every rule, in the order they were
added, about every message it sends; ``None`` means "not mine". Rules may keep state (count
messages, draw from their own seeded generator); they are always asked in the same order, so
a run stays a function of its inputs.

How answers combine, so that overlapping faults never depend on which was added first:

* any :class:`Drop` wins: the message is lost;
* otherwise any :class:`Hold` wins: the message waits on the link until
  ``link.release_held()``;
* otherwise every :class:`Delay` adds up, and the first :class:`Duplicate` (if any) applies.

Invariant: actions are frozen values holding ints; they never see or change the payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Delay:
    """Deliver ``extra_us`` later than the link's latency says (on a FIFO link the messages
    behind it wait too: a stream never reorders)."""

    extra_us: int

    def __post_init__(self) -> None:
        if not isinstance(self.extra_us, int) or self.extra_us < 0:
            raise ValueError(f"Delay: extra_us must be an int >= 0, got {self.extra_us!r}")


@dataclass(frozen=True, slots=True)
class Drop:
    """Lose the message."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Deliver the message, then ``copies`` more times, ``spacing_us`` apart (``copies=1``:
    it arrives twice). Copies model a resend: they are exempt from FIFO order."""

    copies: int = 1
    spacing_us: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.copies, int) or self.copies < 1:
            raise ValueError(f"Duplicate: copies must be an int >= 1, got {self.copies!r}")
        if not isinstance(self.spacing_us, int) or self.spacing_us < 0:
            raise ValueError(f"Duplicate: spacing_us must be an int >= 0, got {self.spacing_us!r}")


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the message on the link until ``link.release_held()`` delivers every held
    message at once (a burst, possibly reordered)."""


Action = Delay | Drop | Duplicate | Hold
Rule = Callable[[Any], Action | None]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The combined effect of every rule on one message."""

    drop: bool = False
    hold: bool = False
    extra_us: int = 0
    duplicate: Duplicate | None = None


PASS = Verdict()


def combine(rules: Iterable[Rule], message: Any) -> Verdict:
    """Ask every rule about ``message`` (all of them, in order) and combine the answers."""
    drop = hold = False
    extra_us = 0
    duplicate: Duplicate | None = None
    for rule in rules:
        action = rule(message)
        if action is None:
            continue
        if isinstance(action, Drop):
            drop = True
        elif isinstance(action, Hold):
            hold = True
        elif isinstance(action, Delay):
            extra_us += action.extra_us
        elif isinstance(action, Duplicate):
            if duplicate is None:
                duplicate = action
        else:
            raise TypeError(
                f"a link rule returned {type(action).__name__}; a rule returns None or one of "
                "Delay, Drop, Duplicate, Hold (sim.transport.actions)"
            )
    if not (drop or hold or extra_us or duplicate):
        return PASS
    return Verdict(drop=drop, hold=hold, extra_us=extra_us, duplicate=duplicate)


def for_kinds(action: Action, *kinds: str) -> Rule:
    """A rule applying ``action`` to every message whose kind is one of ``kinds``, e.g.
    ``for_kinds(Drop(), "POST /fapi/v1/order")`` or ``for_kinds(Hold(), "ACCOUNT_UPDATE")``."""
    wanted = frozenset(kinds)

    def rule(message: Any) -> Action | None:
        return action if message.kind in wanted else None

    return rule
