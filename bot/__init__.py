"""The reference bot: keeps Binance USDⓈ-M positions protected by stop-losses and trailing
stops, the way the SOONUSDT incident's bot should have.

- ``bot.core``: the pure decision core (position book, stop guard, trailing arithmetic);
- ``bot.shell``: the asyncio shell around it (ccxt calls, streams, timers, repository writes);
- ``bot.config`` (TOML), ``bot.repository`` (SQLite), ``bot.live`` (the live entry point).

It is given a ccxt.pro ``binanceusdm`` and does not know which network is under it; the
import rules in pyproject.toml keep it independent of the test harness.
"""
