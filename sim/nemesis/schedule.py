"""Nemesis: a fault schedule (data) armed on the run's clock.

At ``start_ms + at_ms`` a fault starts (``fault.start`` record, then its effect), at
``start_ms + until_ms`` (or at the heal phase, ``heal_at_ms``) it heals (its heal, then
``fault.stop``). Instantaneous faults (``bot_crashed``, ``listen_key_expired``,
``stream_disconnected``) record both at the one instant. At an instant where one fault
heals and another starts, heals go first; ties then go by the fault's id, so a run is a
function of its schedule.

Everything is checked when the Nemesis is built (params, times, the world: a symbol the
venue lists, a bot process for process faults), so a bad schedule fails before the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.nemesis.base import FaultEffect, World
from sim.nemesis.catalogue import fault_class
from sim.nemesis.params import FaultParamError, canonical
from sim.scenario.model import Fault

if TYPE_CHECKING:
    from sim.botrun import BotProcess
    from sim.runtime import Simulation
    from sim.transport.session import SimSession
    from sim.venue import FakeBinance


def check_fault_times(fault: Fault, heal_at_ms: int) -> None:
    """Times of one fault, as offsets from the run's start: it starts at or after 0;
    an instantaneous one has no ``until``; any other heals strictly after it starts and no
    later than the heal phase. Raises :class:`FaultParamError`."""
    cls = fault_class(fault.kind)

    def fail(param: str, message: str) -> FaultParamError:
        return FaultParamError(fault.kind, param, f"(fault #{fault.index}) {message}")

    if isinstance(fault.at_ms, bool) or not isinstance(fault.at_ms, int) or fault.at_ms < 0:
        raise fail("at", f"must be an offset >= 0 ms from the start, got {fault.at_ms!r}")
    if cls.INSTANT:
        if fault.until_ms is not None:
            raise fail("until", "this fault is instantaneous. Fix: remove until")
        return
    heals = heal_at_ms if fault.until_ms is None else fault.until_ms
    source = "the heal phase" if fault.until_ms is None else "until"
    if heals <= fault.at_ms:
        raise fail(
            "until",
            f"it would heal at +{heals} ms ({source}), not after it starts at +{fault.at_ms} ms. "
            "Fix: start it earlier or heal it later",
        )
    if fault.until_ms is not None and fault.until_ms > heal_at_ms:
        raise fail(
            "until",
            f"+{fault.until_ms} ms is after the heal phase (+{heal_at_ms} ms): every fault heals "
            "by then. Fix: lower until, or leave it out to heal at the heal phase",
        )


class Nemesis:
    """The faults of one run. Build it in the run's setup, then :meth:`arm` it (once,
    before the first fault's instant).

    ``start_ms``: the run's start (epoch ms); fault times are offsets from it.
    ``heal_at_ms``: the heal phase, as an offset from the start, like the scenario's
    ``phases.heal_at_ms``. ``process``: the bot's process (None: a run without a bot;
    process faults then refuse to build).
    """

    def __init__(
        self,
        sim: Simulation,
        venue: FakeBinance,
        session: SimSession,
        process: BotProcess | None,
        faults: Sequence[Fault],
        start_ms: int,
        heal_at_ms: int,
    ) -> None:
        self.sim = sim
        self.trace = sim.trace
        self.start_ms = start_ms
        self.heal_at_ms = heal_at_ms
        self.world = World(sim, venue, session, process, start_ms, start_ms + heal_at_ms)
        seen: dict[int, None] = {}
        for fault in faults:
            if fault.index in seen:
                raise FaultParamError(
                    fault.kind,
                    None,
                    f"fault id {fault.index} is used twice. Fix: give each fault its position "
                    "in the schedule as its index",
                )
            seen[fault.index] = None
            check_fault_times(fault, heal_at_ms)
        self.effects: list[FaultEffect] = [
            fault_class(fault.kind)(fault, self.world) for fault in faults
        ]
        self.active: dict[int, FaultEffect] = {}  # id -> effect, while it is in effect
        self._armed = False

    def arm(self) -> None:
        """Schedule every start and heal as a simpy event (those due now take effect now)."""
        if self._armed:
            raise RuntimeError("a Nemesis is armed once")
        self._armed = True
        env = self.sim.env
        plan: list[tuple[int, int, int, Any]] = []
        for effect in self.effects:
            if effect.INSTANT:
                plan.append((effect.starts_ms, 1, effect.index, lambda e=effect: self._flash(e)))
                continue
            plan.append((effect.starts_ms, 1, effect.index, lambda e=effect: self._start(e)))
            plan.append((effect.heals_ms, 0, effect.index, lambda e=effect: self._heal(e)))
        plan.sort(key=lambda item: item[:3])
        if plan and plan[0][0] * 1000 < env.now:
            t_ms, _, index, _ = plan[0]
            raise ValueError(
                f"fault #{index} is due at {t_ms} ms (epoch), before now ({env.now // 1000} "
                "ms). Fix: arm the Nemesis before the run starts, with start_ms = the run's start"
            )
        for t_ms, _, _, action in plan:
            if t_ms * 1000 == env.now:
                # Due now, before the run starts: in effect before anything else happens at
                # this instant (the program's first steps would otherwise run first).
                action()
            else:
                env.timeout(t_ms * 1000 - env.now).callbacks.append(lambda _e, a=action: a())

    # ------------------------------------------------------------------ transitions
    def _record(self, kind: str, effect: FaultEffect) -> None:
        self.trace.record(kind, id=effect.index, fault=effect.kind, params=canonical(effect.params))

    def _start(self, effect: FaultEffect) -> None:
        self._record("fault.start", effect)
        self.active[effect.index] = effect
        effect.start()

    def _heal(self, effect: FaultEffect) -> None:
        if self.active.pop(effect.index, None) is None:
            return
        effect.heal()
        self._record("fault.stop", effect)

    def _flash(self, effect: FaultEffect) -> None:
        self._record("fault.start", effect)
        effect.start()
        self._record("fault.stop", effect)

    def heal_all(self) -> None:
        """Heal every active fault now (a run that ends early), in id order."""
        for index in sorted(self.active):
            self._heal(self.active[index])
