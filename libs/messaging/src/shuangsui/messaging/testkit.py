"""The consumer test kit: feed a service's consumers real events through JetStream, then look
at what landed in its inbox, dead letters and outbox.

Every service's tests use it the same way (the pytest fixtures are in
`shuangsui.messaging.pytest_plugin`):

    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    sent = await feed.publish(Outgoing(ProbeSent(...), subject=..., actor="test"), "registry")
    assert await feed.outcome(sent) == "applied"
    assert await feed.ledger.inbox_count(sent.id) == 1

Events go the production way: an envelope as the outbox builds it, published to the source
context's stream with `Nats-Msg-Id`, fetched by the service's own `EventConsumer`s against
the service's own database. Nothing here runs in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from nats.aio.client import Client

from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.envelope import Envelope, Outgoing, nats_subject
from shuangsui.messaging.outbox import outbox_rows, outbox_writer

STACK_PROVINCE = "p33"  # the province the test stack serves (its event subjects)
Outcome = Literal["applied", "dead_lettered"]
# Redeliveries in tests: quick, but still through JetStream's nak-with-delay.
TEST_RETRY_DELAY = 0.05


@dataclass(frozen=True)
class Ledger:
    """What a service's database says about events: inbox, dead letters, outbox (plain SQL on
    the service's database, as an operator would look)."""

    dsn: str

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def inbox_count(self, event_id: uuid.UUID, consumer: str | None = None) -> int:
        rows = await self._fetch(
            "SELECT count(*) AS n FROM inbox WHERE event_id = $1 AND ($2::text IS NULL "
            "OR consumer = $2)",
            event_id,
            consumer,
        )
        return int(rows[0]["n"])

    async def dead_letters(self, event_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """Unresolved dead letters (of one event, if given), oldest first."""
        rows = await self._fetch(
            "SELECT consumer, event_id, event_type, deliveries, last_error FROM dead_letters "
            "WHERE resolved_at IS NULL AND ($1::text IS NULL OR event_id = $1) ORDER BY id",
            str(event_id) if event_id else None,
        )
        return [dict(r) for r in rows]

    async def announced(self, event_type: str) -> list[dict[str, Any]]:
        """The envelopes of every `event_type` event in the outbox, in outbox order."""
        rows = await self._fetch(
            "SELECT envelope::text AS envelope FROM outbox WHERE event_type = $1 ORDER BY seq",
            event_type,
        )
        return [json.loads(r["envelope"]) for r in rows]

    async def announced_data(self, event_type: str) -> list[dict[str, Any]]:
        return [envelope["data"] for envelope in await self.announced(event_type)]


@dataclass
class ConsumerFeed:
    """A service's consumers running against its database and a NATS server, and a way in."""

    nats: Client
    province_token: str
    consumers: list[EventConsumer]
    ledger: Ledger
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def envelope_of(self, event: Outgoing, source_service: str) -> Envelope:
        """The envelope the source service's outbox would have stored for `event`."""
        row = outbox_rows([event], self.province_token, source_service)[0]
        return Envelope.model_validate(row["envelope"])

    async def publish(
        self, event: Outgoing | Envelope, source_service: str | None = None
    ) -> Envelope:
        """Publish as the source's relay does (same envelope, same `Nats-Msg-Id`)."""
        if isinstance(event, Outgoing):
            if source_service is None:
                raise ValueError("publishing an Outgoing event needs its source service")
            event = self.envelope_of(event, source_service)
        await self.publish_raw(
            nats_subject(event.province, event.type), event.model_dump_json().encode(), event.id
        )
        return event

    async def publish_raw(
        self, subject: str, body: bytes, msg_id: uuid.UUID | str | None = None
    ) -> None:
        """Any bytes on any subject: a malformed envelope, or a copy under another message id
        (a re-publish JetStream's duplicate window no longer catches)."""
        js = self.nats.jetstream()
        context = subject.split(".")[2]
        await ensure_stream(js, self.province_token, context)
        headers = {"Nats-Msg-Id": str(msg_id or uuid.uuid4())}
        await js.publish(subject, body, headers=headers)

    async def outcome(self, event: Envelope | uuid.UUID, timeout: float = 30.0) -> Outcome:
        """Wait until the service applied the event (inbox) or gave up on it (dead letters)."""
        event_id = event.id if isinstance(event, Envelope) else event
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.ledger.inbox_count(event_id):
                return "applied"
            if await self.ledger.dead_letters(event_id):
                return "dead_lettered"
            await asyncio.sleep(0.05)
        raise AssertionError(f"event {event_id} was neither applied nor dead-lettered")

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until every consumer has nothing pending and nothing unacknowledged. (An event
        waiting out a retry delay may count as neither: wait for its `outcome` instead.)"""
        js = self.nats.jetstream()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            infos = [
                await js.consumer_info(c.stream, c.subscription.durable) for c in self.consumers
            ]
            if all(not i.num_pending and not i.num_ack_pending for i in infos):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the consumers did not settle")

    def start(self) -> None:
        # Each consumer creates its stream and durable itself; the durable delivers from the
        # stream's start, so an event published before it exists still arrives.
        self._tasks = [asyncio.create_task(c.run(self._stop)) for c in self.consumers]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def running_consumers(
    *,
    nats_url: str,
    database_url: str,
    service: str,
    subscriptions: Sequence[Subscription],
    province_token: str = STACK_PROVINCE,
    uow_factory: Callable[[Database], UnitOfWork] | None = None,
    max_deliveries: int = 5,
) -> AsyncIterator[ConsumerFeed]:
    """The service's consumers, as its worker runs them, until the block ends."""
    nc = await connect(nats_url, f"{service}-testkit")
    database = Database(_asyncpg_url(database_url), pool_size=2)

    def new_uow() -> UnitOfWork:
        if uow_factory is not None:
            return uow_factory(database)
        return UnitOfWork(database, event_writer=outbox_writer(province_token, service))

    consumers = [
        EventConsumer(
            s,
            nc,
            database,
            province_token,
            new_uow,
            max_deliveries=max_deliveries,
            retry_delay=lambda _n: TEST_RETRY_DELAY,
        )
        for s in subscriptions
    ]
    feed = ConsumerFeed(nc, province_token, consumers, Ledger(_plain_url(database_url)))
    try:
        feed.start()
        yield feed
    finally:
        await feed.stop()
        await nc.drain()
        await database.stop()


def _asyncpg_url(dsn: str) -> str:
    return "postgresql+asyncpg://" + dsn.split("://", 1)[1]


def _plain_url(dsn: str) -> str:
    return "postgresql://" + dsn.split("://", 1)[1]
