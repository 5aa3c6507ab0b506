"""Bots the harness can run: the reference bot and known-bad variants of it.

A variant is a realistic bug, kept outside the reference bot's code path: the harness must
catch every variant (its scenario's named checker fails) and pass the reference bot. Each
factory takes ``(config, exchange, repository, observer)`` and returns an object with an
``async run()`` and a ``belief(symbol) -> dict`` (phase, amount, stops).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.shell.app import Bot
from sim.variants import zoo
from sim.variants.legacy import LegacyBot

BotFactory = Callable[..., Any]

VARIANTS: dict[str, tuple[BotFactory, str]] = {
    "reference": (Bot, "the reference bot (bot/): what every scenario must pass"),
    "legacy-2025-11": (
        LegacyBot,
        "the SOONUSDT incident's bot: cancel the stop, then look the size up in an empty "
        "cache, REST twice, the database; create the new stop; -2021 unhandled, success "
        "logged anyway",
    ),
}
for _name, _cls in (
    ("cancel-then-create", zoo.CancelThenCreateBot),
    ("timeout-as-failure", zoo.TimeoutAsFailureBot),
    ("stream-only-book", zoo.StreamOnlyBookBot),
    ("ignore-listen-key-expired", zoo.IgnoreListenKeyExpiryBot),
    ("trust-triggering", zoo.TrustTriggeringBot),
    ("database-on-restart", zoo.DatabaseOnRestartBot),
    ("double-count-fills", zoo.DoubleCountFillsBot),
    ("software-stop", zoo.SoftwareStopBot),
    ("no-2021-handling", zoo.No2021HandlingBot),
    ("stops-left-after-close", zoo.StopsLeftAfterCloseBot),
    ("loosening-trail", zoo.LooseningTrailBot),
    ("trust-rest-absence", zoo.TrustRestAbsenceBot),
    ("no-cancel-backpressure", zoo.NoCancelBackpressureBot),
    ("gone-means-cancelled", zoo.GoneMeansCancelledBot),
    ("reconcile-gives-up", zoo.ReconcileGivesUpBot),
    ("rest-snapshot-overwrites", zoo.RestSnapshotOverwritesBot),
):
    VARIANTS[_name] = (_cls, " ".join((_cls.__doc__ or "").split()))


def variant(name: str) -> BotFactory:
    if name not in VARIANTS:
        raise ValueError(f"unknown bot variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name][0]
