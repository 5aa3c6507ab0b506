"""The reference bot: protects Binance USDⓈ-M positions with stop-losses and trailing stops.

It runs unchanged live and in simulation, so it never imports ``sim``, ``simpy`` or
``freezegun`` (enforced by import-linter, see pyproject.toml). The bot itself is built in a
later change; this package holds only that contract for now.
"""
