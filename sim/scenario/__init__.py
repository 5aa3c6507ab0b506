"""Scenario files: a world, a fault schedule and what must hold, in TOML."""
