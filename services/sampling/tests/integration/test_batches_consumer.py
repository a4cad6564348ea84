"""The batches read model, fed planning's real events through JetStream: a publication stored as
published, a copy that changes nothing, a cancellation that wins whether it comes after or
before its publication, and a worker restart that misses nothing."""

import uuid

from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.service import batches
from shuangsui.sampling.worker import SUBSCRIPTIONS

CONSUMER = "sampling-batches"


async def publish_all(feed, events):
    sent = [await feed.publish(e, "planning") for e in events]
    for envelope in sent:
        assert await feed.outcome(envelope) == "applied"
    return sent


async def test_a_published_batch_is_stored_as_published_and_drawable(
    consumer_feed, batch_events, new_uow
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    published = batch_events.published()

    await publish_all(feed, [published])

    stored = await batches.batch(new_uow(), published.payload.batch_id)
    assert stored is not None
    assert stored.status is BatchStatus.published
    assert stored.drawable
    assert stored.published == published.payload  # everything a draw needs, as published
    assert stored.cancellation is None


async def test_a_copy_published_again_changes_nothing(consumer_feed, batch_events, new_uow,
                                                      sampling_rows):  # fmt: skip
    """Another message id for the same event (the inbox), and another event of the same batch
    (a publication never changes: the first copy is the batch)."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    batch_id = uuid.uuid4()
    [first] = await publish_all(feed, [batch_events.published(batch_id)])

    await feed.publish_raw(f"evt.p33.{first.type}", first.model_dump_json().encode())
    await publish_all(feed, [batch_events.published(batch_id, name="改过的名称")])
    await feed.settled()

    rows = await sampling_rows("SELECT * FROM batches WHERE batch_id = $1", batch_id)
    assert len(rows) == 1
    assert await feed.ledger.inbox_count(first.id, CONSUMER) == 1
    stored = await batches.batch(new_uow(), batch_id)
    assert stored.published.name == first.payload(type(stored.published)).name


async def test_a_cancellation_after_publication_makes_the_batch_undrawable(
    consumer_feed, batch_events, new_uow
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    published = batch_events.published()
    first = batch_events.cancelled(published, reason="计划调整")
    later = batch_events.cancelled(published, reason="另一次撤销")

    await publish_all(feed, [published, first, later])

    stored = await batches.batch(new_uow(), published.payload.batch_id)
    assert stored.status is BatchStatus.cancelled
    assert not stored.drawable
    assert stored.cancellation.reason == "计划调整"  # the first cancellation is kept
    assert stored.published == published.payload


async def test_a_cancellation_before_its_publication_is_kept_and_wins(
    consumer_feed, batch_events, new_uow
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    published = batch_events.published()
    cancelled = batch_events.cancelled(published, cancelled_from="published")

    await publish_all(feed, [cancelled])
    known = await batches.batch(new_uow(), published.payload.batch_id)
    assert known.status is BatchStatus.cancelled
    assert known.published is None
    assert known.batch_code == published.payload.batch_code

    await publish_all(feed, [published])

    stored = await batches.batch(new_uow(), published.payload.batch_id)
    assert stored.status is BatchStatus.cancelled
    assert not stored.drawable
    assert stored.published == published.payload  # kept for the record
    assert stored.cancellation.cancelled_from == "published"


async def test_events_published_while_the_worker_is_down_arrive_when_it_is_back(
    consumer_feed, batch_events, new_uow
):
    first = await consumer_feed("sampling", SUBSCRIPTIONS)
    await first.stop()
    published = batch_events.published()
    missed = await first.publish(published, "planning")
    assert await batches.batch(new_uow(), published.payload.batch_id) is None

    restarted = await consumer_feed("sampling", SUBSCRIPTIONS)
    assert await restarted.outcome(missed) == "applied"
    assert (await batches.batch(new_uow(), published.payload.batch_id)).drawable
