"""The runtime's errors. Each one says *when* (virtual time) and *who* (task) and what to do.

They all derive from :class:`SimError`, so a harness can tell "the simulation refused to go
on" from an exception raised by the code under test.
"""

from __future__ import annotations


class SimError(Exception):
    """The simulation cannot continue faithfully; the message says why and where."""


class RealIOForbidden(SimError):
    """Code inside a run tried real I/O, a real thread or a real sleep.

    Inside a run only the simulated transport exists: real sockets would wait in wall time
    while virtual time stands still, and threads would race with it.
    """


class SimDeadlock(SimError):
    """Nothing can run and nothing is scheduled: every task waits on something nobody will set."""


class SimStuck(SimError):
    """Virtual time cannot progress the way the run requires (base of the three below)."""


class BusyLoop(SimStuck):
    """Tasks kept the loop busy at one virtual instant without ever letting time advance."""


class Stall(SimStuck):
    """A task waited on the same thing for longer than the run's stall bound."""


class ShutdownOverrun(SimStuck):
    """The run passed its horizon plus the grace period and tasks still had not finished."""


class BotTaskCrashed(SimError):
    """A task died with an exception that nobody retrieved (or a loop callback raised).

    The original exception is chained as ``__cause__``.
    """
