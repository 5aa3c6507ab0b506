"""What flows into the core (events, past tense) and out of it (commands, imperative).

The shell turns exchange answers and stream messages into events, and turns commands into
ccxt calls. Every event carries ``t_ms``: the time the shell observed it (its clock), and, for
exchange facts, ``event_ms``: the time the exchange stamped on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ------------------------------------------------------------------ events: positions


@dataclass(frozen=True, slots=True)
class PositionReported:
    """The exchange stated a position: the user data stream (``ACCOUNT_UPDATE``) or a REST
    snapshot row. ``amount`` is signed (negative: short)."""

    symbol: str
    amount: Decimal
    entry: Decimal
    event_ms: int
    source: str  # "stream" | "rest"
    t_ms: int


@dataclass(frozen=True, slots=True)
class FillReported:
    """One of our orders filled (its REST answer or ``ORDER_TRADE_UPDATE``): the position
    moved by ``delta`` (signed) at ``event_ms``."""

    symbol: str
    delta: Decimal
    price: Decimal
    event_ms: int
    t_ms: int


@dataclass(frozen=True, slots=True)
class PositionAbsent:
    """A REST snapshot taken at ``event_ms`` did not list ``symbol`` (Binance omits flat
    symbols, and sometimes, briefly, fresh ones)."""

    symbol: str
    event_ms: int
    t_ms: int


# ------------------------------------------------------------------ events: prices, time


@dataclass(frozen=True, slots=True)
class MarkPriced:
    symbol: str
    mark: Decimal
    t_ms: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    symbol: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class EntryRequested:
    """The entry signal: open a position now."""

    symbol: str
    side: str  # "long" | "short"
    quantity: Decimal
    t_ms: int


# ------------------------------------------------------------------ events: our orders


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The exchange has the order: a REST answer, an ``ALGO_UPDATE``/``ORDER_TRADE_UPDATE``,
    or a lookup that found it open."""

    symbol: str
    client_id: str
    t_ms: int
    exchange_id: str = ""


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The exchange refused the order (a Binance error code) and it does not exist."""

    symbol: str
    client_id: str
    code: int
    t_ms: int


@dataclass(frozen=True, slots=True)
class OrderOutcomeUnknown:
    """A timeout, a 5xx or a dropped connection: the order may or may not exist."""

    symbol: str
    client_id: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class OrderNotFound:
    """A lookup by client id found no such order (it never reached the exchange)."""

    symbol: str
    client_id: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class StopStatusChanged:
    """An algo order of ours changed status: ``TRIGGERING``, ``TRIGGERED``, ``FINISHED``,
    ``CANCELED``, ``REJECTED`` or ``EXPIRED`` (from ``ALGO_UPDATE`` or a lookup)."""

    symbol: str
    client_id: str
    status: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class StopCancelled:
    """Our cancel succeeded, or the stop was already gone (-2011) and a lookup found it
    neither triggered nor finished (then a :class:`StopStatusChanged` comes instead)."""

    symbol: str
    client_id: str
    t_ms: int


@dataclass(frozen=True, slots=True)
class OpenStopsListed:
    """A REST listing of the open algo orders of ``symbol``: ``{client_id: trigger}``."""

    symbol: str
    stops: tuple[tuple[str, Decimal], ...]
    t_ms: int


@dataclass(frozen=True, slots=True)
class ReconcileCompleted:
    """The shell has reported everything a REST reconciliation of ``symbol`` found."""

    symbol: str
    t_ms: int


Event = (
    ReconcileCompleted
    | PositionReported
    | FillReported
    | PositionAbsent
    | MarkPriced
    | TimerFired
    | EntryRequested
    | OrderAccepted
    | OrderRejected
    | OrderOutcomeUnknown
    | OrderNotFound
    | StopStatusChanged
    | StopCancelled
    | OpenStopsListed
)

# ------------------------------------------------------------------ commands


@dataclass(frozen=True, slots=True)
class PlaceEntry:
    symbol: str
    side: str  # order side: "buy" | "sell"
    quantity: Decimal
    client_id: str


@dataclass(frozen=True, slots=True)
class PlaceStop:
    """A ``STOP_MARKET`` at ``trigger``: ``reduceOnly`` for ``quantity``, or, with no
    quantity, ``closePosition=true``."""

    symbol: str
    side: str  # order side: "sell" protects a long, "buy" a short
    trigger: Decimal
    client_id: str
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelStop:
    symbol: str
    client_id: str


@dataclass(frozen=True, slots=True)
class LookUpOrder:
    """Ask the exchange about ``client_id`` (an algo order if ``stop``) before any retry."""

    symbol: str
    client_id: str
    stop: bool


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """A ``MARKET`` order with ``reduceOnly=true`` for the whole position."""

    symbol: str
    side: str  # order side
    quantity: Decimal
    client_id: str


@dataclass(frozen=True, slots=True)
class Reconcile:
    """Fetch positions and open algo orders for ``symbol`` over REST."""

    symbol: str


@dataclass(frozen=True, slots=True)
class SetTimer:
    symbol: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Note:
    """Something a human should read in the log (and the repository's event log)."""

    symbol: str
    kind: str
    detail: str


Command = (
    PlaceEntry | PlaceStop | CancelStop | LookUpOrder | ClosePosition | Reconcile | SetTimer | Note
)
