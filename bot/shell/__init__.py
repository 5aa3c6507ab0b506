"""The bot's asyncio shell: ccxt, streams, timers, the repository writer."""
