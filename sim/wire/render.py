"""Model values as Binance's JSON: REST objects and user-data / market stream payloads.

Field names and shapes follow binance-usdm.md §3.3, §6 and §9, including what ccxt's parsers
need to see (§14): ``positionSide``/``cumQuote`` on orders and ``ps`` on stream orders (they
mark a contract order), a signed ``notional`` on positions (ccxt reads the side from it), a
non-zero ``updateTime`` on account assets. Decimals travel as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.exchange.events import AccountUpdated, AlgoUpdated, Fill, OrderUpdated
from sim.exchange.model import Exchange
from sim.exchange.orders import AlgoOrder, Order

ZERO = Decimal(0)


def dec(value: Decimal | None) -> str:
    """A decimal as Binance writes it: plain notation, no exponent, no trailing zeros."""
    if value is None or value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


# ---------------------------------------------------------------- REST objects
def order(o: Order) -> dict[str, Any]:
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_id,
        "price": dec(o.price),
        "avgPrice": dec(o.avg_price),
        "origQty": dec(o.quantity),
        "executedQty": dec(o.executed_qty),
        "cumQty": dec(o.executed_qty),
        "cumQuote": dec(o.cum_quote),
        "timeInForce": o.time_in_force,
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": o.close_position,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": dec(o.stop_price),
        "workingType": o.working_type,
        "priceProtect": o.price_protect,
        "origType": o.orig_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.create_ms,
        "updateTime": o.update_ms,
    }


def algo_order(
    a: AlgoOrder, *, with_actual: bool = False, child: Order | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "algoId": a.algo_id,
        "clientAlgoId": a.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": a.order_type,
        "symbol": a.symbol,
        "side": a.side,
        "positionSide": "BOTH",
        "timeInForce": a.time_in_force,
        "quantity": dec(a.quantity),
        "algoStatus": a.status,
        "triggerPrice": dec(a.trigger_price),
        "price": dec(a.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": a.working_type,
        "priceMatch": "NONE",
        "closePosition": a.close_position,
        "priceProtect": a.price_protect,
        # Fix: a closePosition stop reads reduceOnly=true on Binance (real /fapi/v1/order
        # answers for closePosition stops say so, as do the samples of binance-usdm.md §6.12
        # and §9.3); the fake said false, so ccxt's unified reduceOnly disagreed with live.
        "reduceOnly": a.reduce_only or a.close_position,
        "createTime": a.create_ms,
        "updateTime": a.update_ms,
        "triggerTime": a.trigger_ms,
        "goodTillDate": 0,
    }
    if a.order_type == "TRAILING_STOP_MARKET":
        body["activatePrice"] = dec(a.activate_price)
        body["callbackRate"] = dec(a.callback_rate)
    if with_actual:
        body["actualOrderId"] = str(a.actual_order_id) if a.actual_order_id else ""
        body["actualPrice"] = dec(child.avg_price) if child else "0"
        body["actualQty"] = dec(child.executed_qty) if child else "0"
        body["actualType"] = child.type if child else ""
        body["tpOrderType"] = ""
    return body


def position_risk(ex: Exchange, symbol: str) -> dict[str, Any]:
    account = ex.account
    mark = ex.mark(symbol) or ZERO
    pos = account.position(symbol)
    state = account.position_state(symbol, mark)
    notional = pos.amount * mark
    leverage = account.leverage_of(symbol)
    initial = abs(notional) / leverage
    return {
        "symbol": symbol,
        "positionSide": "BOTH",
        "positionAmt": dec(pos.amount),
        "entryPrice": dec(pos.entry_price),
        "breakEvenPrice": dec(state.break_even_price),
        "markPrice": dec(mark),
        "unRealizedProfit": dec(state.unrealized_pnl),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": dec(notional),
        "marginAsset": account.asset,
        "isolatedWallet": "0",
        "initialMargin": dec(initial),
        "maintMargin": dec(abs(notional) * Decimal("0.004")),
        "positionInitialMargin": dec(initial),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.update_ms,
    }


def account(ex: Exchange, now_ms: int) -> dict[str, Any]:
    acct = ex.account
    marks = {s: m for s in acct.positions if (m := ex.mark(s)) is not None}
    unrealized = acct.unrealized(marks)
    initial = acct.initial_margin(marks)
    margin_balance = acct.wallet + unrealized
    available = margin_balance - initial
    asset = {
        "asset": acct.asset,
        "walletBalance": dec(acct.wallet),
        "unrealizedProfit": dec(unrealized),
        "marginBalance": dec(margin_balance),
        "maintMargin": "0",
        "initialMargin": dec(initial),
        "positionInitialMargin": dec(initial),
        "openOrderInitialMargin": "0",
        "crossWalletBalance": dec(acct.wallet),
        "crossUnPnl": dec(unrealized),
        "availableBalance": dec(available),
        "maxWithdrawAmount": dec(available),
        "updateTime": acct.update_ms or now_ms,  # ccxt skips assets whose updateTime is 0
    }
    positions = []
    for symbol, pos in sorted(acct.positions.items()):
        if pos.amount:
            risk = position_risk(ex, symbol)
            # /account spells it unrealizedProfit; positionRisk, unRealizedProfit (§6.5, §6.7)
            risk["unrealizedProfit"] = risk["unRealizedProfit"]
            positions.append(
                {
                    k: risk[k]
                    for k in (
                        "symbol",
                        "positionSide",
                        "positionAmt",
                        "unrealizedProfit",
                        "isolatedMargin",
                        "notional",
                        "isolatedWallet",
                        "initialMargin",
                        "maintMargin",
                        "updateTime",
                    )
                }
            )
    return {
        "totalInitialMargin": dec(initial),
        "totalMaintMargin": "0",
        "totalWalletBalance": dec(acct.wallet),
        "totalUnrealizedProfit": dec(unrealized),
        "totalMarginBalance": dec(margin_balance),
        "totalPositionInitialMargin": dec(initial),
        "totalOpenOrderInitialMargin": "0",
        "totalCrossWalletBalance": dec(acct.wallet),
        "totalCrossUnPnl": dec(unrealized),
        "availableBalance": dec(available),
        "maxWithdrawAmount": dec(available),
        "assets": [asset],
        "positions": positions,
    }


# ---------------------------------------------------------------- stream payloads
def order_trade_update(e: OrderUpdated) -> dict[str, Any]:
    o, fill = e.order, e.fill or Fill(0, ZERO, ZERO, ZERO, ZERO, False)
    payload = {
        "s": o.symbol,
        "c": o.client_id,
        "S": o.side,
        "o": o.type,
        "f": o.time_in_force,
        "q": dec(o.quantity),
        "p": dec(o.price),
        "ap": dec(o.avg_price),
        "sp": dec(o.stop_price),
        "x": e.execution,
        "X": o.status,
        "i": o.order_id,
        "l": dec(fill.qty),
        "z": dec(o.executed_qty),
        "L": dec(fill.price),
        "T": e.t_ms,
        "t": fill.trade_id,
        "b": "0",
        "a": "0",
        "m": fill.maker,
        "R": o.reduce_only,
        "wt": o.working_type,
        "ot": o.orig_type,
        "ps": "BOTH",
        "cp": o.close_position,
        "rp": dec(fill.realized_pnl),
        "pP": o.price_protect,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_MAKER",
        "pm": "NONE",
        "gtd": 0,
        "er": str(e.expiry_reason),
    }
    if e.fill is not None:  # commission fields are omitted when there is no commission
        payload["N"], payload["n"] = "USDT", dec(fill.fee)
    return {"e": "ORDER_TRADE_UPDATE", "E": e.t_ms, "T": e.t_ms, "o": payload}


def algo_update(e: AlgoUpdated) -> dict[str, Any]:
    a = e.algo
    return {
        "e": "ALGO_UPDATE",
        "T": e.t_ms,
        "E": e.t_ms,
        "o": {
            "caid": a.client_algo_id,
            "aid": a.algo_id,
            "at": "CONDITIONAL",
            "o": a.order_type,
            "s": a.symbol,
            "S": a.side,
            "ps": "BOTH",
            "f": a.time_in_force,
            "q": dec(a.quantity),
            "X": a.status,
            "ai": str(a.actual_order_id) if a.actual_order_id else "",
            "ap": "0",
            "aq": "0",
            "act": "0",
            "tp": dec(a.trigger_price),
            "p": dec(a.price),
            "V": "EXPIRE_MAKER",
            "wt": a.working_type,
            "pm": "NONE",
            "cp": a.close_position,
            "pP": a.price_protect,
            "R": a.reduce_only or a.close_position,  # as "reduceOnly" in algo_order()
            "tt": a.trigger_ms,
            "gtd": 0,
            "rm": a.reason,
            "ia": a.activated,
        },
    }


def account_update(e: AccountUpdated) -> dict[str, Any]:
    return {
        "e": "ACCOUNT_UPDATE",
        "E": e.t_ms,
        "T": e.t_ms,
        "a": {
            "m": e.reason,
            "B": [
                {"a": b.asset, "wb": dec(b.wallet), "cw": dec(b.cross_wallet), "bc": dec(b.change)}
                for b in e.balances
            ],
            "P": [
                {
                    "s": p.symbol,
                    "pa": dec(p.amount),
                    "ep": dec(p.entry_price),
                    "bep": dec(p.break_even_price),
                    "cr": dec(p.realized_pnl),
                    "up": dec(p.unrealized_pnl),
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                    "ma": "USDT",
                }
                for p in e.positions
            ],
        },
    }


def user_event(e: OrderUpdated | AlgoUpdated | AccountUpdated) -> dict[str, Any]:
    if isinstance(e, OrderUpdated):
        return order_trade_update(e)
    if isinstance(e, AlgoUpdated):
        return algo_update(e)
    return account_update(e)


def mark_price_update(
    symbol: str, mark: Decimal, now_ms: int, next_funding_ms: int
) -> dict[str, Any]:
    text = dec(mark)
    return {
        "e": "markPriceUpdate",
        "E": now_ms,
        "s": symbol,
        "p": text,
        "ap": text,
        "i": text,
        "P": text,
        "r": "0.00010000",
        "T": next_funding_ms,
    }


def premium_index(symbol: str, mark: Decimal, now_ms: int, next_funding_ms: int) -> dict[str, Any]:
    text = dec(mark)
    return {
        "symbol": symbol,
        "markPrice": text,
        "indexPrice": text,
        "estimatedSettlePrice": text,
        "lastFundingRate": "0.00010000",
        "interestRate": "0.00010000",
        "nextFundingTime": next_funding_ms,
        "time": now_ms,
    }
