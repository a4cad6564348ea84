"""The outbox relay: publishes unsent outbox rows to JetStream, in order, in batches.

`FOR UPDATE SKIP LOCKED` lets several relays run at once without publishing a row twice, and a
relay that dies mid-batch leaves its rows locked only until its connection drops, after which
another (or the restarted one) takes them over. Rows are marked sent only after JetStream acked
them; `Nats-Msg-Id` = event id lets JetStream drop a re-publish after a crash in between.
Each message also carries the transaction that wrote it and its outbox position (`snapshots.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from nats.aio.client import Client

from shuangsui.kernel.faults import crash_point
from shuangsui.messaging.outbox import NOTIFY_CHANNEL
from shuangsui.messaging.snapshots import SEQ_HEADER, TXID_HEADER

log = structlog.get_logger("relay")

_CLAIM = """
SELECT seq, id::text AS id, nats_subject, envelope::text AS body, txid::text AS txid
FROM outbox
WHERE published_at IS NULL
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
# A crash point (`shuangsui.kernel.faults`): JetStream acked the batch, the outbox not yet marked.
RELAY_ACKED = "relay.acked"
_MARK_SENT = "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])"


@dataclass
class RelayStats:
    published: int = 0
    duplicates: int = 0
    batches: int = 0
    failures: int = 0


@dataclass
class OutboxRelay:
    """Publishes the outbox in order, with up to `depth` batches in flight.

    While JetStream acknowledges batch N, batch N+1 is already claimed and published on the same
    connection, so the broker still receives the rows in outbox order; a batch is marked sent
    only once all its acks are in. A failed batch rolls back and is retried later.
    """

    database_url: str
    nats: Client
    batch_size: int = 1000
    idle_poll: float = 0.5
    ack_timeout: float = 10.0
    depth: int = 2
    stats: RelayStats = field(default_factory=RelayStats)

    async def run(self, stop: asyncio.Event) -> None:
        pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=self.depth + 1)
        wake = asyncio.Event()
        listener = await asyncpg.connect(self.database_url)
        await listener.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
        backoff = 0.1
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    await self.publish_available(pool)
                    backoff = 0.1
                except Exception as exc:  # broker or database down: keep rows, retry later
                    self.stats.failures += 1
                    log.warning("relay batch failed; will retry", error=repr(exc), retry_in=backoff)
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                await _wait_any(stop, wake, self.idle_poll)
        finally:
            with contextlib.suppress(Exception):
                await listener.close()
            await pool.close()

    async def publish_available(self, pool: asyncpg.Pool) -> int:
        """Publish until the outbox has no unclaimed rows left; the number of rows sent."""
        in_flight: deque[asyncio.Task[int]] = deque()
        sent = 0
        try:
            while True:
                claimed = await self._claim_and_publish(pool)
                if claimed is None:
                    break
                in_flight.append(asyncio.create_task(claimed))
                if len(in_flight) >= self.depth:
                    sent += await in_flight.popleft()
            while in_flight:
                sent += await in_flight.popleft()
        finally:
            for task in in_flight:  # after a failure: let the others finish or roll back
                with contextlib.suppress(Exception):
                    await task
        return sent

    async def _claim_and_publish(self, pool: asyncpg.Pool) -> Coroutine[Any, Any, int] | None:
        conn = await pool.acquire()
        transaction = conn.transaction()
        await transaction.start()
        try:
            rows = await conn.fetch(_CLAIM, self.batch_size)
            if not rows:
                await transaction.rollback()
                await pool.release(conn)
                return None
            js = self.nats.jetstream()
            pending = [
                await js.publish_async(
                    row["nats_subject"], row["body"].encode(), headers=_headers(row)
                )
                for row in rows
            ]
        except BaseException:
            await transaction.rollback()
            await pool.release(conn)
            raise
        return self._finish(pool, conn, transaction, rows, pending)

    async def _finish(
        self,
        pool: asyncpg.Pool,
        conn: asyncpg.Connection,
        transaction: Any,
        rows: list[asyncpg.Record],
        pending: list[asyncio.Future[Any]],
    ) -> int:
        try:
            acks = await asyncio.wait_for(asyncio.gather(*pending), self.ack_timeout)
            # The crash tests' seam: on the stream, not yet marked sent, so a restart re-publishes.
            crash_point(RELAY_ACKED)
            await conn.execute(_MARK_SENT, [row["seq"] for row in rows])
            await transaction.commit()
        except BaseException:
            await transaction.rollback()
            raise
        finally:
            await pool.release(conn)
        self.stats.published += len(rows)
        self.stats.duplicates += sum(1 for ack in acks if ack.duplicate)
        self.stats.batches += 1
        return len(rows)


def _headers(row: asyncpg.Record) -> dict[str, str]:
    headers = {"Nats-Msg-Id": row["id"], SEQ_HEADER: str(row["seq"])}
    if row["txid"] is not None:  # rows written before outbox rows recorded it have none
        headers[TXID_HEADER] = row["txid"]
    return headers


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
