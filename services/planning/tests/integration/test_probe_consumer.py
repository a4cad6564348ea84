"""Planning's consumer, fed real events through JetStream with the consumer test kit: each
event is applied once however often it arrives, a poison event goes to dead letters without
holding up the rest, and events published while the worker is down arrive when it is back."""

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from shuangsui.contracts.events.registry import ProbeSent
from shuangsui.messaging.envelope import Outgoing
from shuangsui.planning.worker import SUBSCRIPTIONS


def probe(note: str) -> Outgoing:
    sent = ProbeSent(probe_id=uuid.uuid4(), note=note, sent_at=datetime.now(UTC))
    return Outgoing(sent, subject=str(sent.probe_id), actor="system:registry")


@pytest.fixture
def received(stack):
    async def count(probe_id: str) -> int:
        conn = await asyncpg.connect(stack.database_url("planning"))
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM received_probes WHERE probe_id = $1", uuid.UUID(probe_id)
                )
            )
        finally:
            await conn.close()

    return count


async def test_a_probe_from_the_registry_lands_in_planning_once(consumer_feed, received):
    feed = await consumer_feed("planning", SUBSCRIPTIONS)

    sent = await feed.publish(probe("kit"), "registry")

    assert await feed.outcome(sent) == "applied"
    assert await received(sent.subject) == 1
    assert await feed.ledger.inbox_count(sent.id, "planning-probes") == 1


async def test_a_copy_published_again_later_is_not_applied_twice(consumer_feed, received):
    """A re-publish after JetStream's duplicate window (another message id) reaches the
    consumer again; the inbox recognises it."""
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    sent = await feed.publish(probe("twice"), "registry")
    assert await feed.outcome(sent) == "applied"

    await feed.publish_raw(f"evt.p33.{sent.type}", sent.model_dump_json().encode())
    await feed.settled()

    assert await received(sent.subject) == 1
    assert await feed.ledger.inbox_count(sent.id) == 1


async def test_a_poison_event_is_dead_lettered_and_the_next_one_still_applied(
    consumer_feed, received
):
    feed = await consumer_feed("planning", SUBSCRIPTIONS, max_deliveries=3)
    envelope = feed.envelope_of(probe("poison"), "registry").model_dump(mode="json")
    envelope["data"]["sent_at"] = "last tuesday"  # what the handler cannot read
    poison_id = uuid.UUID(envelope["id"])
    await feed.publish_raw(f"evt.p33.{envelope['type']}", _json(envelope), poison_id)
    await feed.publish_raw("evt.p33.registry.probe.sent.v1", b"not an envelope")
    healthy = await feed.publish(probe("after the poison"), "registry")

    assert await feed.outcome(healthy) == "applied"
    assert await feed.outcome(poison_id) == "dead_lettered"
    [dead] = await feed.ledger.dead_letters(poison_id)
    assert dead["consumer"] == "planning-probes"
    assert dead["deliveries"] == 3
    assert "sent_at" in dead["last_error"]
    assert await feed.ledger.inbox_count(poison_id) == 0


async def test_events_published_while_the_worker_is_down_arrive_when_it_is_back(
    consumer_feed, nats_server, received
):
    first = await consumer_feed("planning", SUBSCRIPTIONS)
    await first.stop()

    missed = await first.publish(probe("while down"), "registry")
    assert await received(missed.subject) == 0

    restarted = await consumer_feed("planning", SUBSCRIPTIONS)
    assert await restarted.outcome(missed) == "applied"
    assert await received(missed.subject) == 1


def _json(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode()
