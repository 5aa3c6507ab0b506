"""Time units: the one place where seconds, milliseconds and microseconds convert.

Invariant: virtual time is an integer count of microseconds since the Unix epoch inside the
simulator (simpy's clock) and an integer count of milliseconds in traces and on Binance's wire.
Floats appear only where asyncio demands them (``loop.time()``) and are converted back here,
rounded to the nearest microsecond, never truncated.
"""

from __future__ import annotations

import datetime as _dt

US_PER_MS = 1_000
US_PER_S = 1_000_000
MS_PER_S = 1_000

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def s_to_us(seconds: float) -> int:
    """Seconds (int or float) to whole microseconds, rounded to nearest."""
    return round(seconds * US_PER_S)


def us_to_s(t_us: int) -> float:
    return t_us / US_PER_S


def us_to_ms(t_us: int) -> int:
    """Microseconds to whole milliseconds, rounded down (Binance stamps with floor ms)."""
    return t_us // US_PER_MS


def ms_to_us(t_ms: int) -> int:
    return t_ms * US_PER_MS


def us_to_datetime(t_us: int) -> _dt.datetime:
    """An aware UTC datetime for an epoch-microsecond instant (exact)."""
    return _EPOCH + _dt.timedelta(microseconds=t_us)


def us_to_iso(t_us: int) -> str:
    """``2025-11-10T16:04:01.000000Z``: how virtual instants appear in messages."""
    return us_to_datetime(t_us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_to_us(text: str) -> int:
    """Parse an ISO-8601 instant (``Z`` or an offset; naive means UTC) to epoch microseconds."""
    parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds
