"""Hand-written records for checker tests: one small builder per record kind.

Times are offsets in ms from :data:`T0`; amounts and prices are decimal strings, as in a real
trace (``sim/RECORDS.md``).
"""

from __future__ import annotations

from typing import Any

from sim.checkers.context import CheckContext

T0 = 1_762_790_550_000  # 2025-11-10T16:02:30Z
SYM = "SOONUSDT"


def stop(
    client_id: str,
    trigger: str,
    side: str = "SELL",
    *,
    symbol: str = SYM,
    status: str = "NEW",
    type: str = "STOP_MARKET",
    close_position: bool = True,
    qty: str = "0",
) -> dict[str, Any]:
    return {
        "id": int.from_bytes(f"{symbol}/{client_id}".encode(), "big") % 1_000_000_007,
        "client_id": client_id,
        "symbol": symbol,
        "side": side,
        "type": type,
        "status": status,
        "trigger": trigger,
        "close_position": close_position,
        "qty": qty,
    }


def truth(
    t: int, positions: dict[str, str] | None = None, algos=(), entry: str = "2"
) -> dict[str, Any]:
    """``positions``: ``{symbol: signed amount}``; zero amounts are left out, as the venue
    does."""
    return {
        "kind": "venue.truth",
        "t_ms": T0 + t,
        "wallet": "10000",
        "positions": {
            s: {"amount": a, "entry": entry}
            for s, a in sorted((positions or {}).items())
            if a != "0"
        },
        "open_orders": [],
        "open_algo_orders": list(algos),
    }


def fill(
    t: int,
    side: str,
    qty: str,
    price: str,
    *,
    realized: str = "0",
    fee: str = "0",
    symbol: str = SYM,
    client_id: str = "c",
    orig_type: str = "MARKET",
) -> dict[str, Any]:
    return {
        "kind": "venue.fill",
        "t_ms": T0 + t,
        "symbol": symbol,
        "side": side,
        "qty": qty,
        "price": price,
        "fee": fee,
        "realized_pnl": realized,
        "order_id": 1,
        "client_id": client_id,
        "orig_type": orig_type,
        "reduce_only": side == "SELL",
    }


def rest(
    t: int, route: str, code: int = 0, *, status: int = 200, fault: str = ""
) -> dict[str, Any]:
    return {
        "kind": "venue.rest",
        "t_ms": T0 + t,
        "request_id": t,
        "route": route,
        "status": status if code == 0 else 400,
        "code": code,
        "effect": not fault,
        "fault": fault,
    }


def belief(
    t: int, amount: str, stops=(), *, symbol: str = SYM, life: int = 1, phase: str = "PROTECTED"
) -> dict[str, Any]:
    """``stops``: ``(client_id, level, state)`` triples."""
    return {
        "kind": "bot.belief",
        "t_ms": T0 + t,
        "symbol": symbol,
        "life": life,
        "phase": phase,
        "amount": amount,
        "stops": [{"client_id": c, "level": lv, "state": st} for c, lv, st in stops],
    }


def price(t: int, mark: str, symbol: str = SYM) -> dict[str, Any]:
    return {"kind": "venue.price", "t_ms": T0 + t, "symbol": symbol, "mark": mark, "last": mark}


def command(t: int, command: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "bot.command", "t_ms": T0 + t, "command": command, "life": 1, **fields}


def record(t: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "t_ms": T0 + t, **fields}


def ctx(end: int, *, heal: int = 0, converge: int = 0, **fields: Any) -> CheckContext:
    """A context for a run from ``T0`` to ``T0 + end``."""
    return CheckContext(
        start_ms=T0, end_ms=T0 + end, heal_ms=T0 + heal, converge_ms=T0 + converge, **fields
    )
