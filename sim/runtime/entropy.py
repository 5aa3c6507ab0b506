"""Named, seeded random streams, and deterministic stand-ins for the process's entropy.

Every random choice in a run comes from a stream named for its concern (``latency``,
``prices``, ``faults``, ``ids``, ...), each an independent ``random.Random`` seeded with the
string ``f"{seed}:{name}"``. A string seed is hashed with SHA-512, so it does not depend on
``PYTHONHASHSEED``; and because streams are independent, drawing more latencies (say, after a
bot change) does not shift the price path.

Inside a run, code that does not take a stream still draws deterministically:
the ``random`` module's global generator is reseeded from stream ``random``, and
``os.urandom`` (hence ``uuid.uuid4``, ``secrets``, ``random.SystemRandom``) reads stream
``urandom``. Everything is restored when the run ends.
"""

from __future__ import annotations

import os
import random
from typing import Any


class Streams:
    """``streams["latency"]`` is the run's latency generator; created on first use."""

    def __init__(self, seed: int | str) -> None:
        if not isinstance(seed, int | str) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int or a str, got {type(seed).__name__}")
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __getitem__(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = random.Random(f"{self.seed}:{name}")
        return stream


class EntropyPatch:
    """Context manager: the process's global entropy sources read the run's streams."""

    def __init__(self, streams: Streams) -> None:
        self._streams = streams
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> EntropyPatch:
        urandom_stream = self._streams["urandom"]

        def urandom(size: int) -> bytes:
            return urandom_stream.randbytes(size)

        self._saved = {
            "random_state": random.getstate(),
            "os.urandom": os.urandom,
            "random._urandom": random._urandom,
        }
        random.seed(f"{self._streams.seed}:random")
        os.urandom = urandom
        random._urandom = urandom  # SystemRandom and secrets read this alias
        return self

    def __exit__(self, *exc_info: object) -> None:
        os.urandom = self._saved["os.urandom"]
        random._urandom = self._saved["random._urandom"]
        random.setstate(self._saved["random_state"])
