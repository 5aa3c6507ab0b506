"""Binance's errors, with the exact messages ccxt matches on.

ccxt looks an error's ``msg`` up before its ``code`` (binance-usdm.md §5.2), so messages are
copied verbatim from Binance's error-code page (§5.1). ``status`` is the HTTP status the wire
layer answers with.
"""

from __future__ import annotations


class BinanceError(Exception):
    """A request the exchange refuses: ``{"code": code, "msg": msg}`` with HTTP ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def mandatory_missing(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def not_required(name: str) -> BinanceError:
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def illegal_value(name: str) -> BinanceError:
    return BinanceError(-1116, f"Invalid {name}.")


def bad_precision() -> BinanceError:
    return BinanceError(-1111, "Precision is over the maximum defined for this asset.")


def price_not_on_tick() -> BinanceError:
    return BinanceError(-4014, "Price not increased by tick size.")


def qty_not_on_step() -> BinanceError:
    return BinanceError(-4023, "Qty not increased by step size.")


def qty_not_positive() -> BinanceError:
    return BinanceError(-4003, "Quantity less than or equal to zero.")


def min_notional(notional: str) -> BinanceError:
    return BinanceError(
        -4164,
        f"Order's notional must be no smaller than {notional} (unless you choose reduce only).",
    )


def margin_insufficient() -> BinanceError:
    return BinanceError(-2019, "Margin is insufficient.")


def would_trigger_immediately() -> BinanceError:
    return BinanceError(-2021, "Order would immediately trigger.")


def stop_triggered_immediately() -> BinanceError:
    """The alternative answer to an immediately-triggering stop (§15, item 1)."""
    return BinanceError(-4142, "REJECT: take profit or stop order will be triggered immediately")


def reduce_only_rejected() -> BinanceError:
    return BinanceError(-2022, "ReduceOnly Order is rejected.")


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def no_such_order() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def duplicate_client_id() -> BinanceError:
    return BinanceError(-4116, "clientOrderId is duplicated")


def invalid_client_id() -> BinanceError:
    return BinanceError(-4015, "Client order id is not valid.")


def use_algo_endpoint() -> BinanceError:
    return BinanceError(
        -4120,
        "Order type not supported for this endpoint. Please use the Algo Order API endpoints "
        "instead.",
    )


def max_stop_orders() -> BinanceError:
    return BinanceError(-4045, "Reach max stop order limit.")


def max_open_orders() -> BinanceError:
    return BinanceError(-2025, "Reach max open order limit.")


def fok_not_filled() -> BinanceError:
    return BinanceError(
        -5021, "Due to the order could not be filled immediately, the FOK order has been rejected."
    )


def post_only_rejected() -> BinanceError:
    return BinanceError(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )


def leverage_invalid() -> BinanceError:
    return BinanceError(-4028, "Leverage is not valid")


def limit_order_only() -> BinanceError:
    return BinanceError(-5025, "Only limit order is supported.")


def same_order() -> BinanceError:
    return BinanceError(-5027, "No need to modify the order.")


def invalid_listen_key() -> BinanceError:
    return BinanceError(
        -1125,
        "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate "
        "`listenKey`",
    )


def close_position_exists() -> BinanceError:
    """A second closePosition stop of the same kind and side (widely reported by bot authors
    on the live venue; not in Binance's error page snapshot: ExchangeConfig makes it a
    setting)."""
    return BinanceError(
        -4130,
        "An open stop or take profit order with GTE and closePosition in the direction is "
        "existing.",
    )
