"""Venue faults: behaviours of Binance's servers that the exchange model exposes for
faults, without changing its rules: a listenKey that expires early, and algo orders that
fire but stay in TRIGGERING (seen on Binance Demo: binance-usdm.md §15, item 12).
"""

from __future__ import annotations

from typing import ClassVar

from sim.nemesis.base import FaultEffect
from sim.nemesis.params import Param


def valid_listen_keys(venue, now_ms: int) -> list[str]:
    """Every listenKey valid now, in creation order."""
    keys = venue.listen_keys
    lister = getattr(keys, "valid_keys", None)  # a public listing, if the venue has one
    if callable(lister):
        return list(lister(now_ms))
    # ListenKeys keeps its keys in a dict in creation order and exposes no listing (yet).
    return [key for key in keys._keys if keys.is_valid(key, now_ms)]


class ListenKeyExpired(FaultEffect):
    """Every valid listenKey expires now: its connections get ``listenKeyExpired`` and
    nothing after it; keepalives answer -1125; a new ``POST /fapi/v1/listenKey`` makes a new
    key. Instantaneous (the heal is the client's to do)."""

    kind = "listen_key_expired"
    INSTANT = True
    PARAMS: ClassVar = {}

    def start(self) -> None:
        venue = self.world.venue
        for key in valid_listen_keys(venue, venue.now_ms()):
            venue.expire_listen_key(key)


class AlgoStuckTriggering(FaultEffect):
    """Algo orders of ``symbol`` that fire while active stay in TRIGGERING (an ALGO_UPDATE
    says so; no child order, the position stays open). Heal: the held triggers go through
    now: their events (TRIGGERED, the child's fill, ACCOUNT_UPDATE, FINISHED) are published
    to the user stream. Overlapping faults on one symbol release when the last one heals."""

    kind = "algo_stuck_triggering"
    PARAMS: ClassVar = {
        "symbol": Param("symbol", help='the Binance symbol whose triggers stick, e.g. "SOONUSDT"'),
    }

    def bind(self) -> None:
        self.require_symbol()

    def start(self) -> None:
        holders = self.world.state(self.kind).setdefault(self.params["symbol"], {})
        holders[self.index] = None
        self.world.venue.exchange.hold_triggers(self.params["symbol"])

    def heal(self) -> None:
        symbol = self.params["symbol"]
        holders = self.world.state(self.kind).get(symbol, {})
        if self.index not in holders:
            return  # healed already
        del holders[self.index]
        if holders:
            return  # another fault still holds this symbol's triggers
        venue = self.world.venue
        venue.publish(venue.exchange.release_triggers(venue.now_ms(), symbol))
