"""listenKeys: one per API key, valid 60 minutes from creation or the last keepalive
(binance-usdm.md §10.1).

``POST`` returns the account's key if it is still valid (and extends it), else a new one;
``PUT`` extends it or answers -1125; ``DELETE`` ends it. Keys are 64 hex characters drawn from
the run's ``ids`` stream, so runs replay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sim.exchange import errors

VALIDITY_MS = 60 * 60 * 1000


@dataclass(slots=True)
class _Key:
    api_key: str
    expires_ms: int
    announced: bool = False  # listenKeyExpired already pushed


class ListenKeys:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._keys: dict[str, _Key] = {}  # listenKey -> state

    def _live_key_of(self, api_key: str, now_ms: int) -> str | None:
        for key, state in self._keys.items():
            if state.api_key == api_key and state.expires_ms > now_ms:
                return key
        return None

    def create(self, api_key: str, now_ms: int) -> str:
        key = self._live_key_of(api_key, now_ms)
        if key is None:
            key = self._rng.randbytes(32).hex()
        self._keys[key] = _Key(api_key, now_ms + VALIDITY_MS)
        return key

    def keepalive(self, api_key: str, now_ms: int) -> str:
        key = self._live_key_of(api_key, now_ms)
        if key is None:
            raise errors.invalid_listen_key()
        self._keys[key].expires_ms = now_ms + VALIDITY_MS
        return key

    def delete(self, api_key: str, now_ms: int) -> None:
        key = self._live_key_of(api_key, now_ms)
        if key is not None:  # closed by the client: no listenKeyExpired follows
            state = self._keys[key]
            state.expires_ms, state.announced = now_ms, True

    def is_valid(self, key: str, now_ms: int) -> bool:
        state = self._keys.get(key)
        return state is not None and state.expires_ms > now_ms

    def expires_ms(self, key: str) -> int:
        return self._keys[key].expires_ms

    def expire(self, key: str, now_ms: int) -> None:
        """Force expiry now (a test control and a fault)."""
        self._keys[key].expires_ms = now_ms

    def newly_expired(self, now_ms: int) -> list[str]:
        """Keys that have expired and whose ``listenKeyExpired`` has not been pushed yet."""
        due = [k for k, s in self._keys.items() if s.expires_ms <= now_ms and not s.announced]
        for key in due:
            self._keys[key].announced = True
        return due
