"""Fault parameters as data: each fault kind declares its params (type, default, bounds), and
:func:`check_params` turns what a scenario file or a Hypothesis strategy wrote into a complete,
normalised dict, or refuses it with an error that names the fault, the param, what was
expected and how to fix it.

Invariant: a normalised dict holds only ``int``, ``float``, ``str`` and tuples of ``str``, so
it is hashable-friendly, frozen-friendly and has a canonical trace form (:func:`canonical`).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

USER_EVENTS = ("ALGO_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE")


class FaultParamError(ValueError):
    """A fault's params are wrong. ``kind`` and ``param`` say where; the message says what
    was expected and how to fix it (the scenario loader prefixes the file and key)."""

    def __init__(self, kind: str, param: str | None, message: str) -> None:
        where = f"fault {kind!r}" if param is None else f"fault {kind!r}, param {param!r}"
        super().__init__(f"{where}: {message}")
        self.kind = kind
        self.param = param


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED = _Marker("REQUIRED")  # no default: the scenario must give it
OPTIONAL = _Marker("OPTIONAL")  # no default: absent unless given (another param decides)

TYPES = ("ms", "number_ms", "number", "count", "route", "events", "choice", "symbol")


@dataclass(frozen=True, slots=True)
class Param:
    """One param of a fault kind.

    ``type``: ``ms`` (an int of milliseconds >= 0), ``number_ms`` (int or float of
    milliseconds >= 0), ``number`` (int or float in ``[lo, hi]``), ``count`` (an int >= 0; 0
    means "no limit"), ``route`` (``""`` for every REST endpoint or ``"METHOD /path"``),
    ``events`` (a list of user-data event types), ``choice`` (one of ``choices``), ``symbol``
    (a Binance symbol id, ``"SOONUSDT"``). ``help`` says what it means, for errors and docs.
    """

    type: str
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"Param type must be one of {TYPES}, got {self.type!r}")


@functools.cache
def known_routes() -> tuple[str, ...]:
    """Every ``"METHOD /path"`` the venue serves (``sim.wire.rest.RestApi``'s table)."""
    from sim.wire.rest import RestApi

    # The route table is built by the constructor from handler names alone; nothing else
    # of the placeholders is touched, so no exchange is needed to list it.
    api = RestApi(None, None, None, {}, [])  # type: ignore[arg-type]
    return tuple(sorted(api.routes()))


_ROUTE = re.compile(r"(GET|POST|PUT|DELETE) /\S+")
_SYMBOL = re.compile(r"[A-Z0-9]{2,32}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_one(kind: str, name: str, spec: Param, value: Any) -> Any:
    def fail(expected: str, fix: str) -> FaultParamError:
        return FaultParamError(kind, name, f"expected {expected}, got {value!r}. Fix: {fix}")

    t = spec.type
    if t == "ms":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(
                "an integer number of milliseconds >= 0", f"write e.g. {name} = 1500 (no quotes)"
            )
        return value
    if t == "number_ms":
        if not _is_number(value) or not value >= 0:
            raise fail("a number of milliseconds >= 0", f"write e.g. {name} = 250")
        return value
    if t == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("an integer >= 0 (0: no limit while active)", f"write e.g. {name} = 3")
        return value
    if t == "number":
        lo = -float("inf") if spec.lo is None else spec.lo
        hi = float("inf") if spec.hi is None else spec.hi
        if not _is_number(value) or not lo <= value <= hi:
            if spec.lo is not None and spec.hi is not None:
                bounds = f" in [{spec.lo}, {spec.hi}]"
            elif spec.lo is not None:
                bounds = f" >= {spec.lo}"
            else:
                bounds = "" if spec.hi is None else f" <= {spec.hi}"
            raise fail(f"a number{bounds}", f"write e.g. {name} = {spec.lo or 0}")
        return value
    if t == "choice":
        if isinstance(value, bool) or value not in spec.choices:
            options = " | ".join(repr(c) for c in spec.choices)
            raise fail(f"one of {options}", f"pick one of {options}")
        return value
    if t == "route":
        if not isinstance(value, str):
            raise fail("a route string", f'write e.g. {name} = "POST /fapi/v1/algoOrder"')
        if value == "":
            return value
        if not _ROUTE.fullmatch(value):
            raise fail(
                '"" (every endpoint) or "METHOD /path"',
                f'write e.g. {name} = "POST /fapi/v1/algoOrder" (method in capitals, one space)',
            )
        if value not in known_routes():
            close = difflib.get_close_matches(value, known_routes(), n=3, cutoff=0.6)
            hint = (
                f"did you mean {' or '.join(repr(c) for c in close)}?"
                if close
                else (f"the venue serves: {', '.join(known_routes())}")
            )
            raise fail("a route the venue serves", hint)
        return value
    if t == "events":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not items:
            raise fail(
                f"a non-empty list of {', '.join(USER_EVENTS)}",
                f'write e.g. {name} = ["ACCOUNT_UPDATE"]',
            )
        for item in items:
            if item not in USER_EVENTS:
                raise FaultParamError(
                    kind,
                    name,
                    f"unknown event type {item!r}; expected some of {', '.join(USER_EVENTS)}. "
                    "Fix: use Binance's event names exactly (capitals)",
                )
        return tuple(e for e in USER_EVENTS if e in items)  # one canonical order
    if t == "symbol":
        if not isinstance(value, str) or not _SYMBOL.fullmatch(value):
            raise fail(
                'a Binance symbol id like "SOONUSDT"',
                'write the exchange id in capitals, without "/" or ":" (e.g. "SOONUSDT")',
            )
        return value
    raise AssertionError(t)  # Param.__post_init__ keeps t in TYPES


def check_params(kind: str, spec: Mapping[str, Param], params: Any) -> dict[str, Any]:
    """``params`` checked against ``spec``: defaults filled in, ``OPTIONAL`` params left
    out when absent, values normalised (events in one canonical order)."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise FaultParamError(
            kind,
            None,
            f"params must be a table of name = value, got {type(params).__name__}. "
            "Fix: write them as a table, e.g. params = { delay_ms = 500 }",
        )
    for name in params:
        if name not in spec:
            known = ", ".join(spec) or "none"
            close = difflib.get_close_matches(str(name), list(spec), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise FaultParamError(kind, str(name), f"unknown param. {hint}Fix: use one of: {known}")
    values: dict[str, Any] = {}
    for name, param in spec.items():
        if name in params:
            values[name] = _check_one(kind, name, param, params[name])
        elif param.default is REQUIRED:
            meaning = f" ({param.help})" if param.help else ""
            raise FaultParamError(
                kind, name, f"missing required param{meaning}. Fix: add {name} = ... to the fault"
            )
        elif param.default is not OPTIONAL:
            values[name] = param.default
    return values


def canonical(value: Any) -> Any:
    """A param value in the trace's canonical form: floats and decimals as strings (a float's
    shortest repr is the same in every process), tuples as lists."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    raise TypeError(f"a fault param of type {type(value).__name__} has no canonical form")
