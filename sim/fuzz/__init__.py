"""Property-based fuzzing: Hypothesis draws worlds (``strategies``), the runner runs them,
the checkers judge, and a failure is shrunk and filed as a scenario (``campaign``).
``machine`` holds the stateful test; ``coverage`` what a campaign reached."""
