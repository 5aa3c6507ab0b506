"""Latency models: how long one message spends on a link, in whole microseconds.

Invariant: a model draws only from the ``random.Random`` it is handed (never the ``random``
module's global generator), and always returns a non-negative ``int`` of microseconds, so a
delay can go straight into simpy's integer clock. Models are frozen values: the same model
and the same generator state give the same draw in any process.

Milliseconds go in (``delay_ms``, ``lo_ms``...) because that is how people think about network
latency; microseconds come out, rounded to nearest once, here.

    Fixed(250)                                 # always 250 ms
    Uniform(20, 80)                            # 20..80 ms, every microsecond equally likely
    LogNormal(median_ms=40, sigma=0.5)         # long right tail, median 40 ms
    WithSpikes(LogNormal(40, 0.5), probability=0.01, lo_ms=1000, hi_ms=5000)
    ByEndpoint(Fixed(30), {("POST", "/fapi/v1/order"): Fixed(250)})   # REST, per endpoint
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.runtime.units import US_PER_MS


def _ms_to_us(ms: float) -> int:
    return round(ms * US_PER_MS)


def _check_ms(model: str, name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{model}: {name} must be a number of milliseconds >= 0, got {value!r}")


class LatencyModel(Protocol):
    """Anything with ``draw_us(rng) -> int`` (microseconds, >= 0)."""

    def draw_us(self, rng: random.Random) -> int: ...


@dataclass(frozen=True, slots=True)
class Fixed:
    """Always ``delay_ms``. Draws nothing from the generator."""

    delay_ms: float

    def __post_init__(self) -> None:
        _check_ms("Fixed", "delay_ms", self.delay_ms)

    def draw_us(self, rng: random.Random) -> int:
        return _ms_to_us(self.delay_ms)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Uniform on ``[lo_ms, hi_ms]`` at microsecond resolution (an integer draw: no float
    arithmetic between the generator and the result)."""

    lo_ms: float
    hi_ms: float

    def __post_init__(self) -> None:
        _check_ms("Uniform", "lo_ms", self.lo_ms)
        _check_ms("Uniform", "hi_ms", self.hi_ms)
        if self.hi_ms < self.lo_ms:
            raise ValueError(f"Uniform: hi_ms ({self.hi_ms}) is below lo_ms ({self.lo_ms})")

    def draw_us(self, rng: random.Random) -> int:
        return rng.randint(_ms_to_us(self.lo_ms), _ms_to_us(self.hi_ms))


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal with the given median (``exp(mu)``) and shape ``sigma``; optionally capped
    at ``cap_ms`` so a long tail cannot produce an absurd delay."""

    median_ms: float
    sigma: float
    cap_ms: float | None = None

    def __post_init__(self) -> None:
        _check_ms("LogNormal", "median_ms", self.median_ms)
        if self.median_ms <= 0:
            raise ValueError("LogNormal: median_ms must be > 0")
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, int | float):
            raise ValueError(f"LogNormal: sigma must be a number >= 0, got {self.sigma!r}")
        if not self.sigma >= 0:
            raise ValueError(f"LogNormal: sigma must be >= 0, got {self.sigma!r}")
        if self.cap_ms is not None:
            _check_ms("LogNormal", "cap_ms", self.cap_ms)

    def draw_us(self, rng: random.Random) -> int:
        draw_ms = rng.lognormvariate(math.log(self.median_ms), self.sigma)
        if self.cap_ms is not None and draw_ms > self.cap_ms:
            draw_ms = self.cap_ms
        return _ms_to_us(draw_ms)


@dataclass(frozen=True, slots=True)
class WithSpikes:
    """``base``, except that with ``probability`` a message takes a spike instead: a delay
    uniform on ``[lo_ms, hi_ms]``. One ``rng.random()`` decides, then one model draws."""

    base: LatencyModel
    probability: float
    lo_ms: float
    hi_ms: float
    _spike: Uniform = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.probability <= 1:
            raise ValueError(f"WithSpikes: probability must be in [0, 1], got {self.probability}")
        object.__setattr__(self, "_spike", Uniform(self.lo_ms, self.hi_ms))

    def draw_us(self, rng: random.Random) -> int:
        if rng.random() < self.probability:
            return self._spike.draw_us(rng)
        return self.base.draw_us(rng)


@dataclass(frozen=True, slots=True)
class ByEndpoint:
    """A model per REST endpoint, ``default`` for the rest. Keys are ``(method, path)``,
    e.g. ``("POST", "/fapi/v1/order")``; a message matches by its kind, ``"POST
    /fapi/v1/order"`` (see :mod:`sim.transport.rest`)."""

    default: LatencyModel
    per_endpoint: Mapping[tuple[str, str], LatencyModel] = field(default_factory=dict)
    _by_kind: dict[str, LatencyModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, LatencyModel] = {}
        for key, model in self.per_endpoint.items():
            well_formed = isinstance(key, tuple) and len(key) == 2
            if not (well_formed and all(isinstance(part, str) for part in key)):
                raise ValueError(
                    f"ByEndpoint: keys are (method, path) pairs like ('POST', '/fapi/v1/order'), "
                    f"got {key!r}"
                )
            method, path = key
            by_kind[f"{method.upper()} {path}"] = model
        object.__setattr__(self, "_by_kind", by_kind)

    def draw_us(self, rng: random.Random, message: Any) -> int:
        """``message`` is anything with a ``kind`` (a :class:`~sim.transport.link.Message`)."""
        return self._by_kind.get(message.kind, self.default).draw_us(rng)


def sampler(model: LatencyModel | ByEndpoint, rng: random.Random) -> Any:
    """``(message) -> delay_us`` for a link: binds a model to the link's own generator."""
    if isinstance(model, ByEndpoint):
        return lambda message: model.draw_us(rng, message)
    draw = model.draw_us
    return lambda message: draw(rng)
