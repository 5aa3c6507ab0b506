"""The bot's decision core: pure logic in the sans-IO style (events in, commands out).

No I/O, no clock, no randomness: time arrives inside events as ``t_ms``. The asyncio shell
(``bot.shell``) feeds it what the exchange says and carries out what it asks.
"""
