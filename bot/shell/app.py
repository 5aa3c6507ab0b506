"""The bot's asyncio shell: streams in, commands out, around the pure core.

One task owns the core (:class:`~bot.core.protector.Protector`): it takes events from a
queue, hands them to the core, and starts what the core asks (ccxt calls, timers,
reconciliations) as tasks that put their outcomes back on the queue. Around it: consumers of
the user data stream (``watch_orders``, ``watch_positions``) and of the mark prices, a
periodic REST reconciliation, our own listenKey keepalive (ccxt sends only one:
binance-usdm.md §10), the repository writer and the entry signals.

The same code runs live and in simulation: it is given a ccxt.pro ``binanceusdm`` and never
knows which network is under it. Its clock is ccxt's (``exchange.milliseconds()``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt

from bot.config import BotConfig, Entry
from bot.core import messages as m
from bot.core.guard import GuardConfig, GuardState
from bot.core.protector import Protector
from bot.core.trailing import Trail, TrailParams
from bot.repository import Repository, StopRecord, TrailRecord
from bot.shell.exchange import NOT_EXECUTED, UNKNOWN_OUTCOME, Venue, error_code

log = logging.getLogger("bot")

STREAM_RETRY_MS = 1_000
STALE_ENTRY_MS = 60_000  # a scheduled entry this late when it is due is skipped
REPOSITORY_RETRY_MS = 1_000  # first wait after a failed repository write (doubles, capped)
REPOSITORY_RETRY_MAX_MS = 30_000
#: a repository write that failed and can be tried again (a lock held by another process,
#: a full disk); every write is one SQLite transaction, so a failed one left nothing behind
REPOSITORY_ERRORS = (sqlite3.Error, OSError)
#: every ccxt error a call can end in: the narrower classes are caught first, and whatever
#: is left (OperationFailed, BadResponse, ...) is an outcome we cannot know
CCXT_ERRORS = (ccxt.BaseError,)


class Bot:
    #: the core, replaceable by a subclass
    protector_class: type[Protector] = Protector

    def __init__(
        self,
        config: BotConfig,
        exchange: Any,
        repository: Repository,
        entries: list[Entry] | None = None,
        observer: Callable[[int, m.Command], None] | None = None,
    ) -> None:
        """``observer(now_ms, command)`` sees every command the core issues (a log, a
        trace); it must not block."""
        self.config = config
        self._observer = observer
        exchange.timeout = config.execution.request_timeout_ms  # ccxt's per-request timeout
        # ccxt's watch_positions can seed its cache with a REST snapshot; when that request
        # fails (a 503 at start-up) the first watch waits forever and the bot goes blind to
        # ACCOUNT_UPDATE. Our own reconciliation is the snapshot, retried until it succeeds.
        exchange.options["watchPositions"] = {
            **exchange.options.get("watchPositions", {}),
            "fetchPositionsSnapshot": False,
        }
        self.venue = Venue(exchange, config.protection.working_type)
        self.repository = repository
        self.entries = list(entries if entries is not None else config.signals.entries)
        self._rng = random.Random(f"{config.execution.seed}:retry-jitter")
        self._events: asyncio.Queue[m.Event] = asyncio.Queue()
        self._writes: asyncio.Queue[Callable[[], None]] = asyncio.Queue()
        self._tasks: dict[asyncio.Task, None] = {}  # insertion-ordered: cancelled in order
        self._reconciling: dict[str, bool] = {}
        self._reconciled: set[str] = set()  # symbols reconciled at least once (membership only)
        self._positions_known = asyncio.Event()  # every symbol reconciled once: entries may go
        self.protector: Protector | None = None
        #: every command the core issued, with the time: for tests and the event log
        self.issued: list[tuple[int, m.Command]] = []
        self._watch_listen_key_expiry(exchange)

    def _watch_listen_key_expiry(self, exchange: Any) -> None:
        """ccxt 4.5.90 ignores ``listenKeyExpired`` and leaves its watches hanging
        (binance-usdm.md §10.2). Seeing the message, renew at once: the renewal fails with
        -1125, ccxt drops the key and fails the pending watches, and our watchers
        re-authenticate and reconcile. Must run before the first WebSocket opens: ccxt binds
        ``handle_message`` when it creates a connection."""
        original = exchange.handle_message

        def handle_message(client: Any, message: Any) -> Any:
            if isinstance(message, dict) and message.get("e") == "listenKeyExpired":
                log.warning("user data stream: listenKeyExpired")
                self._spawn(self._renew_after_expiry(), "listen-key-expired")
            return original(client, message)

        exchange.handle_message = handle_message

    async def _renew_after_expiry(self) -> None:
        try:
            await self._keepalive()
        except CCXT_ERRORS as exc:
            log.warning("listenKey renewal after expiry: %s", type(exc).__name__)
        self._reconcile_all_now()

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Run until cancelled; then shut down gracefully (stops stay on the exchange)."""
        await self._load_markets()
        symbols = list(self.config.bot.symbols)
        ticks = self.venue.bind_markets(symbols)
        p = self.config.protection
        self.protector = self.protector_class(
            {
                s: GuardConfig(
                    prefix=self.config.bot.client_id_prefix,
                    params=TrailParams(
                        p.initial_stop_pct,
                        p.activation_pct,
                        p.callback_pct,
                        ticks[s],
                        p.min_move_ticks,
                        p.min_move_interval_ms,
                    ),
                    on_immediate_trigger=p.on_immediate_trigger,
                    stop_style=p.stop_style,
                    triggering_timeout_ms=p.triggering_timeout_ms,
                    confirm_timeout_ms=max(p.rest_lag_bound_ms, 1000),
                )
                for s in symbols
            },
            rest_lag_bound_ms=p.rest_lag_bound_ms,
        )
        trails = await asyncio.to_thread(self.repository.load_trails)
        for symbol, record in trails.items():
            if symbol in ticks:
                self.protector.restore(
                    symbol,
                    Trail(
                        side=record.side,
                        entry=record.entry,
                        stop=record.stop,
                        activated=record.activated,
                        best=record.best,
                        last_move_ms=record.last_move_ms,
                    ),
                    record.opened_ms,
                    record.next_stop_seq,
                )
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._core_loop(), name="bot-core")
                group.create_task(self._repository_writer(), name="bot-repository")
                group.create_task(self._watch(self._orders_once), name="bot-orders")
                group.create_task(self._watch(self._positions_once), name="bot-positions")
                for symbol in symbols:
                    group.create_task(
                        self._watch(lambda s=symbol: self._marks_once(s)),
                        name=f"bot-marks-{symbol}",
                    )
                group.create_task(
                    self._every(self.config.reconcile.interval_ms, self._reconcile_all),
                    name="bot-reconcile",
                )
                group.create_task(
                    self._every(self.config.reconcile.listen_key_keepalive_ms, self._keepalive),
                    name="bot-keepalive",
                )
                group.create_task(self._signals(), name="bot-signals")
                self._reconcile_all_now()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._writes.empty():  # one try each: shutting down must not hang
            try:
                await asyncio.to_thread(self._writes.get_nowait())
            except REPOSITORY_ERRORS as exc:
                log.error("repository write lost at shutdown: %s", exc)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks[task] = None
        task.add_done_callback(lambda t: self._tasks.pop(t, None))

    # ------------------------------------------------------------------ the core
    async def _core_loop(self) -> None:
        assert self.protector is not None
        while True:
            event = await self._events.get()
            symbol = event.symbol
            known = symbol in self.protector.symbols
            before = self.protector.state(symbol) if known else None
            held = self.protector.book.get(symbol) if known else None
            for command in self.protector.handle(event):
                self._dispatch(command)
            if isinstance(event, m.ReconcileCompleted) and not self._positions_known.is_set():
                self._reconciled.add(symbol)
                if self._reconciled >= set(self.config.bot.symbols):
                    self._positions_known.set()
            if before is not None:
                self._persist(before, self.protector.state(symbol))
                after = self.protector.book.get(symbol)
                if (after.amount, after.entry) != (held.amount, held.entry):
                    self._write(
                        lambda h=after: self.repository.journal_position(
                            h.as_of_ms, h.symbol, h.amount, h.entry, h.source
                        )
                    )

    def _emit(self, events: list[m.Event]) -> None:
        for event in events:
            self._events.put_nowait(event)

    def _dispatch(self, command: m.Command) -> None:
        now = self.venue.now_ms()
        self.issued.append((now, command))
        if self._observer is not None:
            self._observer(now, command)
        symbol = command.symbol
        if isinstance(command, m.Note):
            log.warning("%s %s: %s", symbol, command.kind, command.detail)
            self._write(
                lambda c=command, t=now: self.repository.append_event(
                    t, c.kind, c.symbol, {"detail": c.detail}
                )
            )
        elif isinstance(command, m.SetTimer):
            self._spawn(self._timer(command), f"timer-{symbol}-{command.at_ms}")
        elif isinstance(command, m.Reconcile):
            self._reconcile_soon(symbol)
        else:
            self._spawn(self._execute(command), f"cmd-{type(command).__name__}-{symbol}")

    async def _timer(self, command: m.SetTimer) -> None:
        delay_ms = command.at_ms - self.venue.now_ms()
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        self._emit([m.TimerFired(command.symbol, self.venue.now_ms())])

    # ------------------------------------------------------------------ commands
    async def _execute(self, command: m.Command) -> None:
        """One command, with retries for what was certainly not executed (429/418, a stale
        timestamp) and a report of the outcome to the core."""
        call = {
            m.PlaceEntry: self.venue.place_entry,
            m.PlaceStop: self.venue.place_stop,
            m.CancelStop: self.venue.cancel_stop,
            m.ClosePosition: self.venue.close_position,
            m.LookUpOrder: self.venue.look_up,
        }[type(command)]
        symbol, client_id = command.symbol, command.client_id
        execution = self.config.execution
        for attempt in range(1, execution.max_attempts + 1):
            try:
                self._emit(await call(command))
                return
            except NOT_EXECUTED as exc:
                if isinstance(exc, ccxt.InvalidNonce):
                    await self._resync_clock()
                if attempt == execution.max_attempts:
                    self._emit(
                        [
                            m.OrderRejected(
                                symbol, client_id, error_code(exc) or 429, self.venue.now_ms()
                            )
                        ]
                    )
                    return
            except UNKNOWN_OUTCOME:
                if isinstance(command, m.CancelStop | m.LookUpOrder) and (
                    attempt < execution.max_attempts
                ):
                    pass  # idempotent by client id: ask again
                else:
                    self._emit([m.OrderOutcomeUnknown(symbol, client_id, self.venue.now_ms())])
                    return
            except ccxt.ExchangeError as exc:
                self._emit(
                    [m.OrderRejected(symbol, client_id, error_code(exc), self.venue.now_ms())]
                )
                return
            except CCXT_ERRORS as exc:  # e.g. a response ccxt could not parse
                log.warning("%s %s: %s", symbol, client_id, type(exc).__name__)
                self._emit([m.OrderOutcomeUnknown(symbol, client_id, self.venue.now_ms())])
                return
            await asyncio.sleep(self._backoff_s(attempt))

    async def _load_markets(self) -> None:
        """exchangeInfo, retried with capped backoff until it answers: a 429 or a 5xx at
        start-up must not kill the bot (futsim fuzz found that it did)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.venue.exchange.load_markets()
                return
            except CCXT_ERRORS as exc:
                if attempt == self.config.execution.max_attempts:
                    log.error("exchangeInfo failing (%s); still trying", type(exc).__name__)
                await asyncio.sleep(self._backoff_s(attempt))

    async def _resync_clock(self) -> None:
        """After -1021 (timestamp outside recvWindow): measure the offset to the server's
        clock again. If that fails too, the retry's backoff gives it another chance."""
        try:
            await self.venue.exchange.load_time_difference()
        except CCXT_ERRORS as exc:
            log.warning("clock resync failed: %s", type(exc).__name__)

    def _backoff_s(self, attempt: int) -> float:
        execution = self.config.execution
        base = min(execution.retry_max_ms, execution.retry_base_ms * 2 ** (attempt - 1))
        return base * (0.5 + self._rng.random() / 2) / 1000

    # ------------------------------------------------------------------ reconciliation
    def _reconcile_all_now(self) -> None:
        for symbol in self.config.bot.symbols:
            self._reconcile_soon(symbol)

    async def _reconcile_all(self) -> None:
        self._reconcile_all_now()

    def _reconcile_soon(self, symbol: str) -> None:
        if self._reconciling.get(symbol):
            return
        self._reconciling[symbol] = True
        self._spawn(self._reconcile(symbol), f"reconcile-{symbol}")

    async def _reconcile(self, symbol: str) -> None:
        """Reconcile ``symbol`` over REST, retrying with capped backoff until it succeeds:
        giving up would leave the bot blind (at start-up, no entry is sent until every
        symbol has been reconciled once)."""
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    self._emit(await self.venue.reconcile(symbol))
                    return
                except CCXT_ERRORS as exc:
                    if isinstance(exc, ccxt.InvalidNonce):
                        await self._resync_clock()
                    if attempt == self.config.execution.max_attempts:
                        log.error("%s: reconciliation failing (%s); still trying", symbol, exc)
                    await asyncio.sleep(self._backoff_s(attempt))
        finally:
            self._reconciling[symbol] = False

    # ------------------------------------------------------------------ streams
    async def _watch(self, once: Callable[[], Awaitable[None]]) -> None:
        """Keep a stream consumer alive: after any stream error (a drop, an expired
        listenKey), wait, reconcile over REST, and watch again."""
        while True:
            try:
                await once()
            except CCXT_ERRORS as exc:
                log.warning("stream error: %s", type(exc).__name__)
                await asyncio.sleep(STREAM_RETRY_MS / 1000)
                self._reconcile_all_now()

    async def _orders_once(self) -> None:
        while True:
            self._emit(self.venue.order_events(await self.venue.exchange.watch_orders()))

    async def _positions_once(self) -> None:
        symbols = [self.venue.unified(s) for s in self.config.bot.symbols]
        while True:  # no REST snapshot (see __init__): every answer is an ACCOUNT_UPDATE
            positions = await self.venue.exchange.watch_positions(symbols)
            self._emit(self.venue.position_events(positions, "stream"))

    async def _marks_once(self, symbol: str) -> None:
        unified = self.venue.unified(symbol)
        while True:
            ticker = await self.venue.exchange.watch_mark_price(unified)
            mark = ticker.get("markPrice") or ticker.get("info", {}).get("p")
            if mark is not None:
                self._emit([m.MarkPriced(symbol, Decimal(str(mark)), self.venue.now_ms())])

    async def _every(self, interval_ms: int, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                await action()
            except CCXT_ERRORS as exc:
                log.warning(
                    "%s failed: %s", getattr(action, "__name__", "task"), type(exc).__name__
                )

    async def _keepalive(self) -> None:
        """ccxt 4.5.90 renews the listenKey once only (binance-usdm.md §10.2)."""
        await self.venue.exchange.keep_alive_listen_key()

    async def _signals(self) -> None:
        """Scheduled entries, each sent once in the life of the repository: a restarted bot
        does not replay an entry an earlier life already sent (nor one too old to act on)."""
        done = {
            (row.detail.get("at_ms"), row.symbol)
            for row in await asyncio.to_thread(self.repository.events, "entry")
        }
        # Know what is open before opening anything: after a crash whose last writes were
        # lost, an entry may look undone while its position stands on the exchange (then the
        # guard, no longer FLAT, ignores the entry).
        await self._positions_known.wait()
        for entry in sorted(self.entries, key=lambda e: e.at_ms):
            if (entry.at_ms, entry.symbol) in done:
                continue
            delay_ms = entry.at_ms - self.venue.now_ms()
            if delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000)
            now = self.venue.now_ms()
            if now - entry.at_ms > STALE_ENTRY_MS:  # the market it was meant for is gone
                log.warning(
                    "%s: entry at %d skipped: %d ms late",
                    entry.symbol,
                    entry.at_ms,
                    now - entry.at_ms,
                )
                continue
            record = {"at_ms": entry.at_ms, "side": entry.side, "quantity": str(entry.quantity)}
            # Recorded before it is sent: a crash in between loses an entry, never doubles
            # one; an entry that cannot be recorded is not sent.
            try:
                await asyncio.to_thread(
                    self.repository.append_event, now, "entry", entry.symbol, record
                )
            except REPOSITORY_ERRORS as exc:
                log.error(
                    "%s: entry at %d not sent: cannot record it (%s)",
                    entry.symbol,
                    entry.at_ms,
                    exc,
                )
                continue
            self._emit([m.EntryRequested(entry.symbol, entry.side, entry.quantity, now)])
        await asyncio.Event().wait()  # nothing more to do; live until cancelled

    # ------------------------------------------------------------------ repository
    def _write(self, action: Callable[[], None]) -> None:
        self._writes.put_nowait(action)

    async def _repository_writer(self) -> None:
        """Apply the writes in order. A failed write (another process holds the lock, the
        disk is full) is retried with capped backoff before any later one: the repository
        falls behind but never reorders, and protection goes on meanwhile."""
        while True:
            action = await self._writes.get()
            wait_ms = REPOSITORY_RETRY_MS
            while True:
                try:
                    await asyncio.to_thread(action)
                    break
                except REPOSITORY_ERRORS as exc:
                    log.error("repository write failed (%s); retrying in %d ms", exc, wait_ms)
                    await asyncio.sleep(wait_ms / 1000)
                    wait_ms = min(wait_ms * 2, REPOSITORY_RETRY_MAX_MS)

    def _persist(self, before: GuardState, after: GuardState) -> None:
        now = self.venue.now_ms()
        if after.trail != before.trail or after.seq != before.seq:
            if after.trail is None:
                self._write(lambda s=after.symbol: self.repository.delete_trail(s))
            else:
                trail = after.trail
                record = TrailRecord(
                    after.symbol,
                    trail.side,
                    trail.entry,
                    after.opened_ms,
                    trail.activated,
                    trail.best,
                    trail.stop,
                    trail.last_move_ms,
                    after.seq,
                )
                self._write(lambda r=record: self.repository.save_trail(r))
        known = {s.client_id: s for s in before.stops}
        for stop in after.stops:
            old = known.pop(stop.client_id, None)
            if old is None or old.state != stop.state:
                record = StopRecord(stop.client_id, after.symbol, stop.level, stop.state, now)
                self._write(lambda r=record: self.repository.save_stop(r))
        for gone in known.values():
            record = StopRecord(gone.client_id, after.symbol, gone.level, "gone", now)
            self._write(lambda r=record: self.repository.save_stop(r))

    # ------------------------------------------------------------------ introspection
    def belief(self, symbol: str) -> dict[str, Any]:
        """What the bot believes about ``symbol`` (for status displays and harnesses): its
        phase, the position its book holds, and the stops it manages."""
        if self.protector is None or symbol not in self.protector.symbols:
            return {"phase": "STARTING", "amount": "0", "stops": []}
        state = self.protector.state(symbol)
        return {
            "phase": state.phase,
            "amount": str(self.protector.book.get(symbol).amount),
            "stops": [
                {"client_id": s.client_id, "level": str(s.level), "state": s.state}
                for s in state.stops
            ],
        }
