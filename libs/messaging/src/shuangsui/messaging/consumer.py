"""Durable pull consumers: ack only after the handler's transaction committed.

A fetched batch is applied in one transaction with a savepoint per event, then acked. The inbox
row (consumer, event id) is written in each event's savepoint, so a redelivered event is
recognised and skipped: JetStream's duplicate window is minutes, the inbox is forever.
After `max_deliveries` failed attempts a message goes to the dead-letter table with its payload
and last error, and the messages behind it keep flowing.

A subscription whose handlers may share a transaction opts in to `batched` (docs/events.md): the
batch's inbox rows are inserted together first (the ones already there are the duplicates), the
new events' handlers run in order on the one session without savepoints (a run of events of a
type with a `batch_handlers` entry in one call), one commit, then every ack. On any error the
whole transaction rolls back and the batch is applied one by one as above, so a poison message
gets its retries and dead letter and the others are applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.broker import consumer_config, ensure_consumer, ensure_stream
from shuangsui.messaging.envelope import Envelope, consumer_name, nats_subject, stream_name
from shuangsui.messaging.snapshots import txid_of
from shuangsui.messaging.tables import dead_letters, inbox

log = structlog.get_logger("consumer")

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
# A run of consecutive events of one type, in order, applied as `Handler` would one after another.
BatchHandler = Callable[[list[Envelope], UnitOfWork], Awaitable[None]]
# (event type, writing transaction) -> the event's change is already applied, e.g. by loading an
# export whose snapshot covers it (`SnapshotPoint.skips`, ADR 0012).
Skip = Callable[[str, int | None], bool]
BUSY_FETCH_WAIT = 0.05


@dataclass(frozen=True)
class Subscription:
    """What one durable consumer listens to and who handles it."""

    consumer_service: str
    purpose: str
    source_context: str
    handlers: dict[str, Handler]
    # Opt in: a fetched batch in one transaction without a savepoint per event (the handlers
    # must not catch database errors and go on, and must commit whatever they write).
    batched: bool = False
    # With `batched`: event type -> a handler for a run of consecutive events of that type.
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)

    @property
    def durable(self) -> str:
        return consumer_name(self.consumer_service, self.purpose)


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    resubscribed: int = 0
    covered: int = 0  # skipped: already applied by other means (`skip`)
    batches: int = 0  # batches applied in one transaction (`Subscription.batched`)
    fallbacks: int = 0  # batches that failed so and were applied one by one


def retry_delay(deliveries: int) -> float:
    """Exponential backoff between redeliveries: 0.5 s, 1 s, 2 s … capped at 30 s."""
    return float(min(0.5 * 2 ** max(deliveries - 1, 0), 30.0))


@dataclass
class EventConsumer:
    subscription: Subscription
    nats: Client
    database: Database
    province_token: str
    uow_factory: Callable[[], UnitOfWork]
    max_deliveries: int = 5
    batch: int = 256
    fetch_timeout: float = 1.0
    ack_wait: float = 30.0
    stall_after: float = 10.0
    retry_delay: Callable[[int], float] = retry_delay
    start_at: datetime | None = None  # where a newly created durable consumer starts reading
    skip: Skip | None = None
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    _sub: Any = field(default=None, init=False, repr=False)
    _last_message: float = field(default_factory=time.monotonic, init=False)

    @property
    def stream(self) -> str:
        return stream_name(self.subscription.source_context)

    async def start(self) -> None:
        js = self.nats.jetstream()
        await ensure_stream(js, self.province_token, self.subscription.source_context)
        subjects = [nats_subject(self.province_token, t) for t in self.subscription.handlers]
        config = consumer_config(self.subscription.durable, subjects, self.ack_wait, self.start_at)
        await ensure_consumer(js, self.stream, config)
        self._sub = await js.pull_subscribe_bind(
            durable=self.subscription.durable, stream=self.stream
        )

    async def run(self, stop: asyncio.Event) -> None:
        await self._start_with_retry(stop)
        watchdog = asyncio.create_task(self._watchdog(stop))
        idle = True
        try:
            while not stop.is_set():
                # Idle: a long poll for ONE message, answered the moment it arrives (a batch
                # fetch would linger until the batch fills or the timeout ends: seconds of
                # latency at low rates). Busy: take whatever is waiting, up to a batch.
                size, wait = (1, self.fetch_timeout) if idle else (self.batch, BUSY_FETCH_WAIT)
                try:
                    messages = await self._sub.fetch(size, timeout=wait)
                except (NatsTimeout, TimeoutError):
                    # nats-py raises either, depending on where in the fetch the deadline passed.
                    idle = True
                    continue
                except Exception as exc:  # broker restarting: the watchdog and reconnect handle it
                    log.warning("fetch failed", consumer=self.subscription.durable, error=repr(exc))
                    await asyncio.sleep(0.5)
                    continue
                self._last_message = time.monotonic()
                idle = False
                await self._process_batch(messages)
        finally:
            watchdog.cancel()
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _start_with_retry(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                await self.start()
                return
            except Exception as exc:
                log.warning(
                    "consumer start failed", consumer=self.subscription.durable, error=repr(exc)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _watchdog(self, stop: asyncio.Event) -> None:
        """Re-create the consumer if it vanished, or if it has work but has stopped receiving."""
        while not stop.is_set():
            await asyncio.sleep(self.stall_after / 2)
            js: JetStreamContext = self.nats.jetstream()
            try:
                info = await js.consumer_info(self.stream, self.subscription.durable)
            except NotFoundError:
                await self._resubscribe("consumer or stream missing")
                continue
            except Exception:  # broker unreachable right now; check again later
                continue
            stalled = time.monotonic() - self._last_message > self.stall_after
            if stalled and (info.num_pending or 0) > 0 and (info.num_ack_pending or 0) == 0:
                await self._resubscribe("messages pending but none received")

    async def _resubscribe(self, reason: str) -> None:
        log.warning("re-creating consumer", consumer=self.subscription.durable, reason=reason)
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()
        try:
            await self.start()
            self.stats.resubscribed += 1
            self._last_message = time.monotonic()
        except Exception as exc:
            log.warning("re-creating consumer failed", error=repr(exc))

    async def _process_batch(self, messages: list[Msg]) -> None:
        if self.subscription.batched and await self._apply_together(messages):
            return
        await self._process_one_by_one(messages)

    async def _apply_together(self, messages: list[Msg]) -> bool:
        """The batch in one transaction, its handlers in order on one session; acked after the
        commit. False if anything failed: then nothing of it was applied."""
        envelopes: list[Envelope] = []
        for message in messages:
            try:
                envelopes.append(Envelope.model_validate_json(message.data))
            except ValidationError:
                return False  # one by one, it goes straight to dead letters
        counts = ConsumerStats()
        try:
            async with self.database.sessions() as session, session.begin():
                await self._apply_all(session, messages, envelopes, counts)
        except Exception as exc:
            self.stats.fallbacks += 1
            log.info("batch failed; applying it one by one", consumer=self.subscription.durable,
                     size=len(messages), error=repr(exc)[:500])  # fmt: skip
            return False
        self.stats.applied += counts.applied
        self.stats.duplicates += counts.duplicates
        self.stats.covered += counts.covered
        self.stats.batches += 1
        for message in messages:
            await message.ack()
        return True

    async def _apply_all(
        self,
        session: AsyncSession,
        messages: list[Msg],
        envelopes: list[Envelope],
        counts: ConsumerStats,
    ) -> None:
        handled = [
            (m, e) for m, e in zip(messages, envelopes, strict=True)
            if e.type in self.subscription.handlers
        ]  # fmt: skip
        fresh = await self._remember_all(session, [e for _, e in handled])
        due: list[Envelope] = []
        for message, envelope in handled:
            if self.skip is not None and self.skip(envelope.type, txid_of(message.headers)):
                counts.covered += 1  # its inbox row is in: seen, like an applied event
            elif envelope.id in fresh:
                fresh.discard(envelope.id)  # a second copy in this batch is a duplicate
                due.append(envelope)
            else:
                counts.duplicates += 1
        for run in _runs(due):
            batch_handler = self.subscription.batch_handlers.get(run[0].type)
            if batch_handler is not None:
                uow = self.uow_factory().shared_in(session)
                await batch_handler(run, uow)
                _check_committed(uow)
            else:
                for envelope in run:
                    uow = self.uow_factory().shared_in(session)
                    await self.subscription.handlers[envelope.type](envelope, uow)
                    _check_committed(uow)
            counts.applied += len(run)

    async def _remember_all(self, session: AsyncSession, events: list[Envelope]) -> set[Any]:
        """Every event's inbox row in one statement; the ids that were not there yet."""
        if not events:
            return set()
        rows = [{"consumer": self.subscription.durable, "event_id": e.id, "event_type": e.type}
                for e in events]  # fmt: skip
        statement = pg_insert(inbox).values(rows).on_conflict_do_nothing()
        inserted = await session.execute(statement.returning(inbox.c.event_id))
        return set(inserted.scalars())

    async def _process_one_by_one(self, messages: list[Msg]) -> None:
        """Apply a fetched batch in one transaction, one savepoint per event; ack after commit."""
        outcomes: list[tuple[Msg, Envelope | None, int, Exception | None]] = []
        try:
            async with self.database.sessions() as session, session.begin():
                for message in messages:
                    outcomes.append(await self._process_one(session, message))
        except Exception as exc:  # the batch did not commit: nothing of it was applied
            log.warning("batch commit failed; will retry", error=repr(exc), size=len(messages))
            for message in messages:
                await message.nak(delay=self.retry_delay(message.metadata.num_delivered))
            return
        for message, envelope, deliveries, error in outcomes:
            if error is None:
                await message.ack()
            elif envelope is None or deliveries >= self.max_deliveries:
                self._alert_dead_letter(envelope, deliveries, error)
                await message.term()
            else:
                self.stats.retried += 1
                log.warning(
                    "handler failed; will retry",
                    consumer=self.subscription.durable,
                    event_id=str(envelope.id),
                    deliveries=deliveries,
                    error=repr(error),
                )
                await message.nak(delay=self.retry_delay(deliveries))

    async def _process_one(
        self, session: AsyncSession, message: Msg
    ) -> tuple[Msg, Envelope | None, int, Exception | None]:
        deliveries = message.metadata.num_delivered
        try:
            envelope = Envelope.model_validate_json(message.data)
        except ValidationError as exc:
            # A malformed event can never succeed: straight to dead letters, no retries.
            error = ValueError(f"malformed envelope: {exc}")
            await self._store_dead_letter(session, message, None, deliveries, error)
            return message, None, deliveries, error
        handler = self.subscription.handlers.get(envelope.type)
        if handler is None:
            return message, envelope, deliveries, None
        try:
            if self.skip is not None and self.skip(envelope.type, txid_of(message.headers)):
                await self._remember_covered(session, envelope)
                return message, envelope, deliveries, None
            await self._apply(session, handler, envelope)
        except IntegrityError as exc:
            if "inbox" in str(exc.orig):
                # Already applied (a redelivery, or a concurrent delivery that committed first):
                # this event's savepoint rolled back whole, so nothing was applied twice.
                self.stats.duplicates += 1
                return message, envelope, deliveries, None
            return await self._failed(session, message, envelope, deliveries, exc)
        except Exception as exc:
            return await self._failed(session, message, envelope, deliveries, exc)
        self.stats.applied += 1
        return message, envelope, deliveries, None

    async def _apply(self, session: AsyncSession, handler: Handler, envelope: Envelope) -> None:
        row = {
            "consumer": self.subscription.durable,
            "event_id": envelope.id,
            "event_type": envelope.type,
        }

        async def remember(session: AsyncSession, _events: list[Any]) -> None:
            await session.execute(insert(inbox).values(**row))

        uow = self.uow_factory().nested_in(session)
        uow.add_commit_hook(remember)
        await handler(envelope, uow)
        if not uow.committed:  # the handler had nothing to store; still remember the event
            async with session.begin_nested():
                await session.execute(insert(inbox).values(**row))

    async def _remember_covered(self, session: AsyncSession, envelope: Envelope) -> None:
        """In the inbox like an applied event, so that it counts as seen (a redelivery too)."""
        row = pg_insert(inbox).values(
            consumer=self.subscription.durable, event_id=envelope.id, event_type=envelope.type
        )
        async with session.begin_nested():
            await session.execute(row.on_conflict_do_nothing())
        self.stats.covered += 1

    async def _failed(
        self,
        session: AsyncSession,
        message: Msg,
        envelope: Envelope,
        deliveries: int,
        exc: Exception,
    ) -> tuple[Msg, Envelope | None, int, Exception | None]:
        if deliveries >= self.max_deliveries:
            await self._store_dead_letter(session, message, envelope, deliveries, exc)
        return message, envelope, deliveries, exc

    async def _store_dead_letter(
        self,
        session: AsyncSession,
        message: Msg,
        envelope: Envelope | None,
        deliveries: int,
        error: Exception,
    ) -> None:
        """Stored in the batch's transaction: if the batch fails, the message is redelivered."""
        async with session.begin_nested():
            await session.execute(
                insert(dead_letters).values(
                    consumer=self.subscription.durable,
                    event_id=str(envelope.id) if envelope else None,
                    event_type=envelope.type if envelope else None,
                    nats_subject=message.subject,
                    payload=message.data,
                    deliveries=deliveries,
                    last_error=repr(error)[:4000],
                )
            )

    def _alert_dead_letter(
        self, envelope: Envelope | None, deliveries: int, error: Exception
    ) -> None:
        self.stats.dead_lettered += 1
        # An alert, not a silent drop: operators watch this log event and the dead-letter table.
        log.error(
            "event moved to dead letters",
            alert=True,
            consumer=self.subscription.durable,
            event_id=str(envelope.id) if envelope else None,
            deliveries=deliveries,
            error=repr(error)[:500],
        )


def _runs(events: list[Envelope]) -> list[list[Envelope]]:
    """Consecutive events of one type together, in order."""
    runs: list[list[Envelope]] = []
    for event in events:
        if runs and runs[-1][0].type == event.type:
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


class Abandoned(Exception):
    """A handler left its unit of work without committing: in a shared transaction its writes
    cannot be undone alone, so the batch is applied one by one (savepoints) instead."""


def _check_committed(uow: UnitOfWork) -> None:
    if uow.abandoned:
        raise Abandoned("a handler left its unit of work without committing")
