"""loss_bounded: no position loses more than its stop distance plus the configured slippage.

Rule. Positions are rebuilt from the venue's fills (``venue.fill``), per symbol: a position
opens with the fill that takes the symbol away from zero, grows with fills on its side (its
entry fills), and closes with the fill that brings it back to zero. A fill that flips the
side closes the position with the part that reaches zero and opens a new one with the rest
(its fee is split pro rata). For each closed position:

    loss = -(sum of realized_pnl - sum of fees)   over all its fills, entry fills included
    bound = entry_notional × (stop_pct + slippage_pct) / 100
    entry_notional = sum of qty × price over its entry fills

and the check fails if ``loss > bound``. A position still open at the end is judged marked to
market at the last mark price of its symbol (``venue.price``): a naked position that has run
past its stop has lost the money, realized or not. It is counted in
``metrics["open_at_end"]``.

Parameters: ``stop_pct`` (the bot's initial stop distance in percent; default
``ctx.initial_stop_pct``, one of the two is required), ``slippage_pct`` (default 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sim.checkers.context import CheckContext
from sim.checkers.history import ZERO, as_decimal, capped, excerpt, fmt, settings
from sim.checkers.verdict import FAIL, PASS, Verdict

NAME = "loss_bounded"
HUNDRED = Decimal(100)


@dataclass(slots=True)
class _Position:
    symbol: str
    opened_ms: int
    long: bool
    amount: Decimal = ZERO
    entry_notional: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    fills: list[int] = field(default_factory=list)  # seqs of its venue.fill records


def closed_positions(
    records: list[dict[str, Any]],
) -> tuple[list[tuple[_Position, int, dict[str, Any]]], list[_Position]]:
    """``([(position, closing seq, closing fill), ...], positions open at the end)``."""
    open_: dict[str, _Position] = {}
    closed: list[tuple[_Position, int, dict[str, Any]]] = []
    for seq, fill in enumerate(records):
        if fill["kind"] != "venue.fill":
            continue
        symbol = fill["symbol"]
        qty, price = Decimal(fill["qty"]), Decimal(fill["price"])
        fee, realized = Decimal(fill["fee"]), Decimal(fill["realized_pnl"])
        signed = qty if fill["side"] == "BUY" else -qty
        position = open_.get(symbol)
        if position is not None and (signed > 0) != position.long:  # reduces: closes some
            closing = min(qty, abs(position.amount))
            closing_fee = fee * closing / qty
            position.amount += closing if signed > 0 else -closing
            position.realized += realized
            position.fees += closing_fee
            position.fills.append(seq)
            if position.amount != 0:
                continue
            closed.append((position, seq, fill))
            del open_[symbol]
            qty, fee = qty - closing, fee - closing_fee  # the rest opens a new position
            if qty == 0:
                continue
            signed = qty if signed > 0 else -qty
            position = None
        if position is None:
            position = open_[symbol] = _Position(symbol, fill["t_ms"], long=signed > 0)
        position.amount += signed
        position.entry_notional += qty * price
        position.fees += fee
        position.fills.append(seq)
    return closed, list(open_.values())


def _violation(
    records: list[dict[str, Any]],
    position: _Position,
    until_ms: int,
    what: str,
    pnl: dict[str, str],
    loss: Decimal,
    bound: Decimal,
    loss_pct: Decimal,
    allowed_pct: Decimal,
) -> dict[str, Any]:
    """The evidence for a position that lost more than ``bound``; ``pnl`` says how its loss
    was reckoned (realized, or marked to market)."""
    return {
        "t_ms": position.opened_ms,
        "until_ms": until_ms,
        "symbol": position.symbol,
        "what": what,
        "side": "long" if position.long else "short",
        "entry_notional": fmt(position.entry_notional),
        **pnl,
        "fees": fmt(position.fees),
        "loss": fmt(loss),
        "bound": fmt(bound),
        "loss_pct": fmt(loss_pct.quantize(Decimal("0.0001"))),
        "allowed_pct": fmt(allowed_pct),
        "records": [excerpt(seq, records[seq]) for seq in position.fills],
    }


def check(records: list[dict[str, Any]], params: Mapping[str, Any], ctx: CheckContext) -> Verdict:
    s = settings(NAME, params, {"stop_pct": ctx.initial_stop_pct, "slippage_pct": "0.5"})
    if s["stop_pct"] is None:
        raise ValueError(
            f"checker {NAME!r}: parameter 'stop_pct' is required (the bot's initial stop "
            'distance in percent, e.g. stop_pct = "6"), or set CheckContext.initial_stop_pct'
        )
    stop_pct = as_decimal(NAME, "stop_pct", s["stop_pct"])
    slippage_pct = as_decimal(NAME, "slippage_pct", s["slippage_pct"])
    allowed_pct = stop_pct + slippage_pct
    closed, still_open = closed_positions(records)
    violations: list[dict[str, Any]] = []
    worst_pct: Decimal | None = None
    for position, _close_seq, close_fill in closed:
        loss = position.fees - position.realized
        loss_pct = loss * HUNDRED / position.entry_notional
        worst_pct = loss_pct if worst_pct is None else max(worst_pct, loss_pct)
        bound = position.entry_notional * allowed_pct / HUNDRED
        if loss > bound:
            what = "the position lost more than its stop distance plus slippage"
            pnl = {"realized_pnl": fmt(position.realized)}
            until_ms = close_fill["t_ms"]
            violations.append(
                _violation(
                    records, position, until_ms, what, pnl, loss, bound, loss_pct, allowed_pct
                )
            )
    last_mark: dict[str, Decimal] = {}
    for record in records:
        if record["kind"] == "venue.price":
            last_mark[record["symbol"]] = Decimal(record["mark"])
    for position in still_open:
        mark = last_mark.get(position.symbol)
        if mark is None or position.amount == 0:
            continue
        entry = position.entry_notional / abs(position.amount)
        unrealized = (mark - entry) * position.amount
        loss = position.fees - position.realized - unrealized
        loss_pct = loss * HUNDRED / position.entry_notional
        worst_pct = loss_pct if worst_pct is None else max(worst_pct, loss_pct)
        bound = position.entry_notional * allowed_pct / HUNDRED
        if loss > bound:
            what = (
                "the position, still open at the end, has lost more than its stop "
                "distance plus slippage (marked to market)"
            )
            pnl = {"mark": fmt(mark), "unrealized_pnl": fmt(unrealized)}
            violations.append(
                _violation(
                    records, position, ctx.end_ms, what, pnl, loss, bound, loss_pct, allowed_pct
                )
            )
    metrics: dict[str, int | str] = {
        "positions": len(closed),
        "open_at_end": len(still_open),
        "violations": len(violations),
        "allowed_loss_pct": fmt(allowed_pct),
    }
    if worst_pct is not None:
        metrics["worst_loss_pct"] = fmt(worst_pct.quantize(Decimal("0.0001")))
    if violations:
        worst = max(violations, key=lambda v: Decimal(v["loss_pct"]))
        summary = (
            f"{len(violations)} position(s) lost more than {fmt(allowed_pct)} %; worst: "
            f"{worst['symbol']} lost {worst['loss']} ({worst['loss_pct']} % of "
            f"{worst['entry_notional']})"
        )
        return Verdict(NAME, FAIL, summary, capped(violations, metrics), metrics)
    if not closed:
        summary = "no position was closed: no realized loss to judge"
        if still_open:
            summary += f" ({len(still_open)} still open at the end)"
        return Verdict(NAME, PASS, summary, (), metrics)
    summary = (
        f"{len(closed)} closed position(s), worst loss {metrics['worst_loss_pct']} % "
        f"within {fmt(allowed_pct)} %"
    )
    return Verdict(NAME, PASS, summary, (), metrics)
