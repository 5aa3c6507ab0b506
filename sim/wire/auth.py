"""Request authentication as Binance does it (binance-usdm.md §11).

``signature = hex(HMAC_SHA256(secret, totalParams))`` where totalParams is the raw query string
followed by the raw body, each without its ``signature=`` component: verified over the bytes
as they arrived, never over a re-encoded dict. The key travels in ``X-MBX-APIKEY``. A signed
request needs a ``timestamp`` within ``recvWindow`` (default 5000 ms, at most 60000) of the
server's clock and less than 1000 ms ahead of it.

Secrets stay here: nothing in this module logs or returns a key or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from sim.exchange.errors import BinanceError
from sim.wire.params import Params

API_KEY_HEADER = "x-mbx-apikey"
MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _without_signature(raw: str) -> tuple[str, str | None]:
    kept, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


class Authenticator:
    """Knows the API keys and their secrets; checks keys, signatures and timestamps."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._secrets = dict(keys)

    def api_key(self, headers: Mapping[str, str]) -> str:
        """The request's known API key, or Binance's error (-2014 missing, -2015 unknown)."""
        key = _header(headers, API_KEY_HEADER)
        if not key:
            raise BinanceError(-2014, "API-key format invalid.", status=401)
        if key not in self._secrets:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return key

    def verify_signed(
        self, headers: Mapping[str, str], raw_query: str, body: bytes, params: Params, now_ms: int
    ) -> str:
        """Check a SIGNED request; returns its API key."""
        key = self.api_key(headers)
        query, query_sig = _without_signature(raw_query)
        text_body, body_sig = _without_signature(body.decode("utf-8", errors="replace"))
        signature = body_sig or query_sig
        if signature is None:
            raise BinanceError(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        expected = hmac.new(
            self._secrets[key].encode(), (query + text_body).encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        timestamp = params.integer("timestamp")
        if timestamp is None:
            raise BinanceError(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        recv_window = params.integer("recvWindow") or DEFAULT_RECV_WINDOW_MS
        if recv_window > MAX_RECV_WINDOW_MS:
            raise BinanceError(-1131, "recvWindow must be less than 60000.")
        if timestamp >= now_ms + 1000:
            raise BinanceError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now_ms - timestamp > recv_window:
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return key
