"""Benchmarks of the virtual-time runtime (``make bench``, i.e. ``python -m bench``).

Not part of the test suite. :mod:`bench.runtime` holds the workloads and says what each one
measures; :mod:`bench.__main__` runs them all in one invocation and prints a table (or JSON
with ``--json``). Wall time is always read with the real ``time.perf_counter`` from outside
:meth:`~sim.runtime.Simulation.run`, never from inside a run, where the clock is virtual.
"""
