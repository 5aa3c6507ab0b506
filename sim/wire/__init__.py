"""Binance's wire format over the exchange model: REST handlers with Binance's paths, fields,
string decimals, error bodies and HTTP statuses; request signing; listen keys; the JSON of the
user data and mark price streams. Pure: the time comes in as ``now_ms``."""
