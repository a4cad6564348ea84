"""Pytest fixtures of the consumer test kit (`shuangsui.messaging.testkit`), for every service.

Loaded for the whole workspace through `-p shuangsui.messaging.pytest_plugin` (root pyproject),
beside `shuangsui.devstack.pytest_plugin` whose `stack` they use.
- `nats_server` — a private NATS JetStream server for one test (ready in milliseconds), so a
  test's streams and durable consumers start empty and a test may stop or restart it.
- `consumer_feed(service, subscriptions)` — the service's consumers running against its own
  database on the stack and `nats_server`; publish events in, wait for their outcome.
- `ledger(service)` — the service database's inbox, dead letters and outbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.ports import free_port
from shuangsui.messaging.consumer import Subscription
from shuangsui.messaging.testkit import ConsumerFeed, Ledger, running_consumers


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def consumer_feed(stack: Any, nats_server: NatsServer) -> AsyncIterator[Callable[..., Any]]:
    """`feed = await consumer_feed("planning", SUBSCRIPTIONS, max_deliveries=3)`."""
    async with contextlib.AsyncExitStack() as running:

        async def start(
            service: str, subscriptions: Sequence[Subscription], **options: Any
        ) -> ConsumerFeed:
            return await running.enter_async_context(
                running_consumers(
                    nats_url=nats_server.url,
                    database_url=stack.database_url(service),
                    service=service,
                    subscriptions=subscriptions,
                    **options,
                )
            )

        yield start


@pytest.fixture
def ledger(stack: Any) -> Callable[[str], Ledger]:
    """`ledger("registry")`: what that service's database holds of events."""
    return lambda service: Ledger(stack.database_url(service))
