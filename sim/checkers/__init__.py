"""Checkers: pure functions of a run's records (the trace) that judge what happened."""
