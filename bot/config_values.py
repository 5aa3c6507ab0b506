"""Reading TOML values and reporting mistakes as "<file>: <dotted.key>: expected X, got Y; <fix>".

A ``Rule`` says what one value must be: the wording of "expected X", an example as TOML text
and a converter. A converter returns the value read or raises ``Reject``; ``read_value`` turns
that into a mistake at the dotted key and hands it to the caller's ``fail``, which raises the
caller's own error with the file name in front. ``bot.config`` reads the bot's config with
these; any other TOML file written in the same style can be read with them too.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
MISSING = object()  # no value, not even a default: the key is required

Fail = Callable[[str, str, str, str], NoReturn]  # (key, expected, found, fix) -> raises


class Reject(Exception):
    """Raised by a converter; ``found``/``fix`` override the generic wording."""

    def __init__(self, found: str | None = None, fix: str | None = None) -> None:
        self.found, self.fix = found, fix


@dataclass(frozen=True, slots=True)
class Rule:
    """How one value is read; ``fix``, when given, replaces the generic "use e.g. ..."."""

    expected: str
    example: str  # as TOML text
    convert: Callable[[Any], Any]
    fix: str = ""


def show(value: Any) -> str:
    """A value as the user wrote it in TOML (roughly), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def header(key: str) -> str:
    """How a table is written: ``[protection]``, or ``[[signals.entries]]`` for an item
    ``signals.entries[2]``."""
    return f"[[{key.split('[')[0]}]]" if key.endswith("]") else f"[{key}]"


def unknown_key(name: str, known: Sequence[str], moved: str = "") -> tuple[str, str, str]:
    """``(expected, found, fix)`` for a key that is none of ``known``. The fix is a
    did-you-mean when a known key is close, else ``moved`` (where the key belongs) if given,
    else to remove it."""
    close = difflib.get_close_matches(name, known, n=1)
    fix = f"did you mean {close[0]}?" if close else moved or "remove it or fix its spelling"
    return f"one of {', '.join(known)}", "an unknown key", fix


def read_value(
    raw: Mapping[str, Any],
    prefix: str,
    name: str,
    rule: Rule,
    default: Any,
    fail: Fail,
    *,
    key_in_example: bool = False,
) -> Any:
    """``raw[name]`` read by ``rule``, or ``default`` when the key is absent (unless it is
    ``MISSING``); a mistake goes to ``fail`` at the key ``prefix.name``. The generic fix
    reads "use e.g. <example>", or "use e.g. <name> = <example>" with ``key_in_example``."""
    key = f"{prefix}.{name}"
    if name not in raw:
        if default is MISSING:
            fix = f"add {name} = {rule.example} under {header(prefix)}"
            fail(key, rule.expected, "nothing (the key is missing)", fix)
        return default
    try:
        return rule.convert(raw[name])
    except Reject as bad:
        example = f"{name} = {rule.example}" if key_in_example else rule.example
        fix = bad.fix or rule.fix or f"use e.g. {example}"
        fail(key, rule.expected, bad.found or show(raw[name]), fix)


# --- converters -------------------------------------------------------------------------------


def as_decimal(value: Any) -> Decimal:
    """A finite decimal from a string or a TOML number."""
    # TOML numbers are read through str(): 1.1 means Decimal("1.1"), not the float
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Reject
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Reject from None
    if not number.is_finite():
        raise Reject
    return number


def instant_ms(value: Any, finer_fix: str | None = None) -> int:
    """An ISO-8601 UTC instant, as a string or a TOML datetime, to epoch milliseconds.

    ``finer_fix`` is the fix for an instant finer than a millisecond (default: the rule's).
    """
    if isinstance(value, str):
        if not value.endswith(("Z", "+00:00")):
            raise Reject(found=f"{show(value)} (not in UTC: no Z or +00:00 at the end)")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Reject from None
    elif isinstance(value, datetime) and value.utcoffset() == timedelta(0):
        moment = value
    else:
        raise Reject
    ms, rest = divmod(moment - EPOCH, MS)
    if rest:
        raise Reject(found=f"{show(value)} (finer than a millisecond)", fix=finer_fix)
    return ms


# --- rules ------------------------------------------------------------------------------------


def text(expected: str, example: str, regex: str = r"(?s).*\S.*") -> Rule:
    """A string matching ``regex`` (default: not blank)."""

    def convert(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(regex, value):
            raise Reject
        return value

    return Rule(expected, example, convert)


def integer(expected: str, example: str, ok: Callable[[int], bool] = lambda n: True) -> Rule:
    """A TOML integer for which ``ok`` holds."""

    def convert(value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            raise Reject(fix=f"write it as a TOML integer, without quotes: {value}")
        if isinstance(value, bool) or not isinstance(value, int) or not ok(value):
            raise Reject
        return value

    return Rule(expected, example, convert)


def number(expected: str, example: str, ok: Callable[[Decimal], bool]) -> Rule:
    """A decimal (``as_decimal``) for which ``ok`` holds."""

    def convert(value: Any) -> Decimal:
        result = as_decimal(value)
        if not ok(result):
            raise Reject
        return result

    return Rule(expected, example, convert)


def choice(*options: str, suggest: bool = False) -> Rule:
    """One of ``options``; with ``suggest``, a near miss is answered with a did-you-mean."""

    def convert(value: Any) -> str:
        if value not in options:
            close = (
                difflib.get_close_matches(value, options, n=1)
                if suggest and isinstance(value, str)
                else []
            )
            raise Reject(fix=f"did you mean {show(close[0])}?" if close else None)
        return value

    shown = ", ".join(json.dumps(o) for o in options)
    return Rule(f"one of {shown}", json.dumps(options[0]), convert)
