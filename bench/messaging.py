"""Outbox → relay → JetStream, beside a raw nats-py `publish_async` of the same messages.

Also end-to-end latency (outbox commit → consumer commit) at a steady moderate rate.
Real PostgreSQL (fsync on) and NATS from the devstack wheels, on this machine's cores.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.ext.asyncio import create_async_engine

from bench.results import Figure
from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.postgres import PostgresServer
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.envelope import Envelope
from shuangsui.messaging.tables import metadata
from shuangsui.messaging.testing import PROVINCE, fill_outbox, probe, unit_of_work_factory

console = Console(stderr=True)
PROBE = "registry.probe.sent.v1"


async def run(quick: bool) -> list[Figure]:
    events = 5_000 if quick else 50_000
    with tempfile.TemporaryDirectory(prefix="bench-messaging-") as tmp:
        root = Path(tmp)
        postgres = PostgresServer(root / "pg", free_port(), "bench", durable=True)
        nats = NatsServer(root / "nats", free_port())
        postgres.start()
        nats.start()
        try:
            dsn = await _messaging_database(postgres)
            raw = await _raw_publish_rate(nats.url, events)
            relayed = await _relay_rate(dsn, nats.url, events)
            p50, p99 = await _latency(dsn, nats.url, rate=50, seconds=4 if quick else 20)
        finally:
            nats.stop()
            postgres.stop()
    return [
        Figure(
            "messaging: outbox→relay→JetStream",
            relayed,
            "events/s",
            "raw publish_async",
            raw,
            higher_is_better=True,
        ),
        Figure("messaging: end-to-end latency p50", p50, "ms", None, None, higher_is_better=False),
        Figure("messaging: end-to-end latency p99", p99, "ms", None, None, higher_is_better=False),
    ]


async def _messaging_database(postgres: PostgresServer) -> str:
    admin = await asyncpg.connect(postgres.dsn())
    await admin.execute("CREATE DATABASE bench")
    await admin.close()
    dsn = postgres.dsn(database="bench")
    engine = create_async_engine("postgresql+asyncpg://" + dsn.split("://", 1)[1])
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.text("CREATE TABLE applied_events (event_id text, probe_note text)"))
    await engine.dispose()
    return dsn


def _sample_messages(count: int) -> list[tuple[str, bytes, str]]:
    messages = []
    for i in range(count):
        envelope = probe(f"bench-{i}").envelope(PROVINCE, "registry", None)
        messages.append(
            (envelope.nats_subject, envelope.model_dump_json().encode(), str(envelope.id))
        )
    return messages


async def _raw_publish_rate(url: str, count: int) -> float:
    """The fastest raw path: publish_async into a stream configured like ours, await all acks."""
    nc = await connect(url, "bench-raw")
    js = nc.jetstream()
    # Its own stream with our stream settings: EVT_REGISTRY must appear only when our relay is up.
    await ensure_stream(js, PROVINCE, "rawbench")
    messages = [
        (s.replace(".registry.", ".rawbench."), b, i) for s, b, i in _sample_messages(count)
    ]
    console.print(f"raw publish_async of {count:,} messages ({len(messages[0][1])} bytes each) …")
    started = time.perf_counter()
    pending = [await js.publish_async(s, b, headers={"Nats-Msg-Id": i}) for s, b, i in messages]
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - started
    await nc.close()
    return count / elapsed


async def _relay_rate(dsn: str, url: str, count: int) -> float:
    console.print(f"relaying {count:,} outbox rows through shuangsui-relay …")
    env = {**os.environ, "DATABASE_URL": dsn, "NATS_URL": url, "PROVINCE": "33",
           "SERVICE_NAME": "registry", "AUTH_ISSUER": "unused", "LOG_LEVEL": "WARNING"}  # fmt: skip
    conn = await asyncpg.connect(dsn)
    relay = subprocess.Popen([sys.executable, "-m", "shuangsui.messaging.relay_main"], env=env)
    try:
        await _wait_for_stream(url)  # the relay is up and idle
        # Steady state: the clock runs from the moment the events are in the outbox (written
        # with COPY, as a bulk use case would) until the last one is acknowledged by JetStream.
        await fill_outbox(dsn, count, "relay")
        started = time.perf_counter()
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0:
            await asyncio.sleep(0.1)  # polling lightly: the bench must not slow what it measures
        elapsed = time.perf_counter() - started
    finally:
        relay.terminate()
        relay.wait()
        await conn.close()
    return count / elapsed


async def _wait_for_stream(url: str) -> None:
    nc = await connect(url, "bench-probe")
    try:
        while True:
            try:
                await nc.jetstream().stream_info("EVT_REGISTRY")
                return
            except Exception:
                await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def _latency(dsn: str, url: str, rate: int, seconds: int) -> tuple[float, float]:
    """Commit events at `rate`/s; measure commit → consumer commit for each."""
    console.print(f"latency at {rate} events/s for {seconds}s …")
    database = Database("postgresql+asyncpg://" + dsn.split("://", 1)[1])
    committed: dict[str, float] = {}
    applied: dict[str, float] = {}

    async def mark_applied(event: Envelope, uow: UnitOfWork) -> None:
        async with uow:
            await uow.session.execute(
                sa.text("INSERT INTO applied_events VALUES (:i, :n)"),
                {"i": str(event.id), "n": "x"},
            )
            await uow.commit()
        applied[event.data["probe_id"]] = time.perf_counter()

    env = {**os.environ, "DATABASE_URL": dsn, "NATS_URL": url, "PROVINCE": "33",
           "SERVICE_NAME": "registry", "AUTH_ISSUER": "unused", "LOG_LEVEL": "WARNING"}  # fmt: skip
    relay = subprocess.Popen([sys.executable, "-m", "shuangsui.messaging.relay_main"], env=env)
    nc = await connect(url, "bench-consumer")
    await nc.jetstream().purge_stream("EVT_REGISTRY")  # latency only: not the throughput backlog
    consumer = EventConsumer(
        Subscription("bench", "latency", "registry", {PROBE: mark_applied}),
        nc, database, PROVINCE, unit_of_work_factory(database),
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    new_uow = unit_of_work_factory(database)
    try:
        # Warm-up: measure only once the relay and the consumer are up and have moved events.
        for _ in range(10):
            async with new_uow() as uow:
                uow.record(probe("warm-up"))
                await uow.commit()
        while len(applied) < 10:
            await asyncio.sleep(0.05)
        applied.clear()
        for _ in range(rate * seconds):
            event = probe("latency")
            uow = new_uow()
            async with uow:
                uow.record(event)
                await uow.commit()
            committed[str(event.payload.probe_id)] = time.perf_counter()  # type: ignore[union-attr]
            await asyncio.sleep(1 / rate)
        deadline = time.monotonic() + 30
        while len(applied) < len(committed) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await nc.close()
        relay.terminate()
        relay.wait()
        await database.stop()
    latencies = sorted((applied[k] - committed[k]) * 1000 for k in committed if k in applied)
    if len(latencies) < len(committed):
        console.print(f"[red]{len(committed) - len(latencies)} events not applied in time[/red]")
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    return statistics.median(latencies), p99
