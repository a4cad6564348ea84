"""Connecting to NATS, and creating streams and consumers idempotently at start-up."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from shuangsui.messaging.envelope import stream_name, stream_subjects

log = structlog.get_logger("messaging")

DEFAULT_MAX_AGE = timedelta(days=90)
DUPLICATE_WINDOW = timedelta(minutes=2)


async def connect(url: str, name: str) -> Client:
    """Reconnect forever: a broker restart must never need a restart of ours."""

    async def on_disconnect() -> None:
        log.warning("nats disconnected", client=name)

    async def on_reconnect() -> None:
        log.info("nats reconnected", client=name)

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", client=name, error=str(exc))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
        pending_size=64 * 1024 * 1024,
    )


async def ensure_stream(
    js: JetStreamContext, province_token: str, context: str, max_age: timedelta = DEFAULT_MAX_AGE
) -> str:
    name = stream_name(context)
    config = StreamConfig(
        name=name,
        subjects=stream_subjects(province_token, context),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age.total_seconds(),
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
    return name


def consumer_config(
    durable: str, filter_subjects: list[str], ack_wait: float, start_at: datetime | None = None
) -> ConsumerConfig:
    """`start_at`: a consumer created for a read model loaded from an export reads from there."""
    return ConsumerConfig(
        durable_name=durable,
        name=durable,
        deliver_policy=DeliverPolicy.ALL if start_at is None else DeliverPolicy.BY_START_TIME,
        opt_start_time=start_at,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        # We count deliveries ourselves and move a poison message to the dead-letter table.
        max_deliver=-1,
        filter_subjects=filter_subjects,
        max_ack_pending=10_000,
    )


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    assert config.durable_name is not None
    try:
        await js.consumer_info(stream, config.durable_name)
    except NotFoundError:
        await js.add_consumer(stream, config)


class NatsLink:
    """The API process's broker link: connects in the background, reported by /readyz."""

    name = "broker"

    def __init__(self, url: str, client_name: str) -> None:
        self.url = url
        self.client_name = client_name
        self.client: Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect_until_up())

    async def _connect_until_up(self) -> None:
        while self.client is None:
            try:
                self.client = await connect(self.url, self.client_name)
            except Exception as exc:  # the broker may start after us; keep trying
                log.warning("nats not reachable yet", error=str(exc))
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.client is not None:
            await self.client.drain()

    async def ready(self) -> tuple[bool, str]:
        if self.client is not None and self.client.is_connected:
            return True, "ok"
        return False, "not connected"
