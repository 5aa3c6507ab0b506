"""Request parameters as Binance reads them: from the raw query string and form body.

Typed accessors raise Binance's own errors for missing or malformed values (-1102), so a
handler reads ``p.decimal("quantity")`` and never sees a bad string. Unknown parameters are
ignored, as ccxt sends a few (binance-usdm.md §7.3).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from sim.exchange import errors


class Params:
    def __init__(self, raw_query: str, body: bytes) -> None:
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        if body:
            pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        self._values = dict(pairs)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._values.get(name)
        return default if value is None or value == "" else value

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise errors.mandatory_missing(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise errors.mandatory_missing(name) from None
        if not number.is_finite():
            raise errors.mandatory_missing(name)
        return number

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise errors.mandatory_missing(name) from None

    def boolean(self, name: str) -> bool:
        value = self.text(name, "false").lower()
        if value not in ("true", "false"):
            raise errors.illegal_value(name)
        return value == "true"
