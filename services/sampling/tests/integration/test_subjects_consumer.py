"""The subjects read model, fed the registry's events through JetStream: copies of an event,
older versions after newer ones, a re-tagging before the subject, risk classes in any order —
each ends in the state of the newest change."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

from shuangsui.sampling.worker import SUBSCRIPTIONS

CONSUMER = "sampling-subjects"
T0 = datetime(2026, 2, 1, tzinfo=UTC)


def fresh_uscc(uscc):
    return uscc(random.randrange(10**8, 10**9))


async def applied(feed, *envelopes):
    for envelope in envelopes:
        assert await feed.outcome(envelope) == "applied"


async def held_subject(rows, code):
    found = await rows(
        "SELECT s.version, s.name, s.status, s.unit_code, c.classification, c.tags, c.item_ids "
        "FROM subjects s LEFT JOIN subject_scopes c USING (uscc) WHERE s.uscc = $1",
        code,
    )
    if not found:
        return None
    return {**found[0], "tags": json.loads(found[0]["tags"]) if found[0]["tags"] else None}


async def held_classes(rows, code):
    found = await rows("SELECT domain, risk_class FROM subject_risk_classes WHERE uscc = $1", code)
    return {r["domain"]: r["risk_class"] for r in found}


async def test_an_older_version_after_a_newer_one_changes_nothing(
    consumer_feed, subject_events, sampling_rows, uscc
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = fresh_uscc(uscc)
    newer = subject_events.upserted(code, version=3, status="cancelled")
    older = subject_events.upserted(code, version=2)
    await applied(feed, await feed.publish(newer, "registry"))
    await applied(feed, await feed.publish(older, "registry"))

    held = await held_subject(sampling_rows, code)
    assert (held["version"], held["status"]) == (3, "cancelled"), "version 3 stays"


async def test_a_copy_of_an_event_is_applied_once_and_changes_nothing(
    consumer_feed, subject_events, sampling_rows, uscc, ledger
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = fresh_uscc(uscc)
    first = feed.envelope_of(subject_events.upserted(code, version=1), "registry")
    second = feed.envelope_of(subject_events.upserted(code, version=2), "registry")
    await feed.publish(first)
    await feed.publish(second)
    # The first again, under a new message id (a re-publish the broker cannot recognise).
    await feed.publish_raw(first.nats_subject, first.model_dump_json().encode())
    await applied(feed, first, second)
    await feed.settled()

    assert await ledger("sampling").inbox_count(first.id, CONSUMER) == 1
    held = await held_subject(sampling_rows, code)
    assert held["version"] == 2, "the copy of version 1 did not bring it back"
    assert await ledger("sampling").dead_letters(first.id) == []


async def test_a_retagging_before_the_subject_keeps_the_newer_classification(
    consumer_feed, subject_events, sampling_rows, uscc
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = fresh_uscc(uscc)
    item_old, item_new = uuid.uuid4(), uuid.uuid4()
    retagged = subject_events.tags_changed(8, (code, {"format": ["网络餐饮"]}, [item_new]))
    upserted = subject_events.upserted(code, version=4, classification=7, item_ids=[item_old])
    await applied(feed, await feed.publish(retagged, "registry"))
    await applied(feed, await feed.publish(upserted, "registry"))

    held = await held_subject(sampling_rows, code)
    assert held["version"] == 4, "the content of the upsert is held"
    assert (held["classification"], held["item_ids"]) == (8, [item_new]), (
        "the tags and items of classification 8, not those of the older 7"
    )
    assert held["tags"] == {"format": ["网络餐饮"]}


async def test_a_correction_under_the_same_classification_wins_by_time_in_any_order(
    consumer_feed, subject_events, sampling_rows, uscc
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = fresh_uscc(uscc)
    pushed = feed.envelope_of(
        subject_events.upserted(code, classification=5, tags={"scale": ["小微"]}), "registry"
    )
    corrected = feed.envelope_of(
        subject_events.tags_changed(5, (code, {"scale": ["大型"]}, [])), "registry"
    )
    assert pushed.time < corrected.time
    await applied(feed, await feed.publish(corrected))
    await applied(feed, await feed.publish(pushed))

    held = await held_subject(sampling_rows, code)
    assert held["tags"] == {"scale": ["大型"]}, "the later correction stays"


async def test_risk_classes_keep_the_latest_as_of_per_domain_and_v1_is_not_applied(
    consumer_feed, subject_events, sampling_rows, uscc
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = fresh_uscc(uscc)
    events = [
        subject_events.risk_class(code, "C", T0 + timedelta(days=30)),
        subject_events.risk_class(code, "A", T0),  # older, arriving later
        subject_events.risk_class(code, "B", T0, domain="food"),
        subject_events.risk_class(code, "D", T0 + timedelta(days=60), domain="food", v1=True),
    ]
    sent = [await feed.publish(e, "registry") for e in events]
    await applied(feed, *sent[:3])  # before the subject's own event: kept for its USCC
    await feed.settled()

    assert await held_classes(sampling_rows, code) == {"general": "C", "food": "B"}, (
        "general C (the later as_of), food B (v1 carries no change sampling applies)"
    )


def subjects_consumer(feed):
    return next(c for c in feed.consumers if c.subscription.durable == CONSUMER)


async def test_a_fetched_batch_in_one_transaction_ends_as_one_by_one_would(
    consumer_feed, subject_events, sampling_rows, uscc, ledger
):
    """The registry's changes waiting when the consumer starts: fetched together, applied in
    one transaction (`batched`, runs of one type by `BATCH_HANDLERS`), in the stream's order."""
    before = await consumer_feed("sampling", [])
    code, other = fresh_uscc(uscc), fresh_uscc(uscc)
    item_old, item_new = uuid.uuid4(), uuid.uuid4()
    first = before.envelope_of(subject_events.upserted(code, version=1), "registry")
    events = [
        first,
        *(before.envelope_of(e, "registry") for e in [
            subject_events.upserted(code, version=3, status="cancelled"),
            subject_events.upserted(other, version=1),
            subject_events.upserted(code, version=2),  # older, after a newer: changes nothing
            subject_events.tags_changed(8, (code, {"format": ["网络餐饮"]}, [item_new])),
            subject_events.upserted(code, version=4, classification=7, item_ids=[item_old]),
            subject_events.risk_class(code, "C", T0 + timedelta(days=30)),
            subject_events.risk_class(code, "A", T0),
            subject_events.upserted(other, version=2, status="cancelled"),
        ]),
    ]  # fmt: skip
    for envelope in events:
        await before.publish(envelope)
    await before.publish_raw(first.nats_subject, first.model_dump_json().encode())  # a copy

    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    await applied(feed, *events)
    await feed.settled()

    held = await held_subject(sampling_rows, code)
    assert (held["version"], held["status"]) == (4, "active")
    assert (held["classification"], held["item_ids"]) == (8, [item_new])
    assert (await held_subject(sampling_rows, other))["status"] == "cancelled"
    assert await held_classes(sampling_rows, code) == {"general": "C"}
    assert await ledger("sampling").inbox_count(first.id, CONSUMER) == 1
    consumer = subjects_consumer(feed)
    assert (consumer.stats.applied, consumer.stats.duplicates) == (len(events), 1)
    assert consumer.stats.fallbacks == 0
    transactions = await sampling_rows(
        "SELECT count(DISTINCT xmin::text) AS n FROM inbox "
        "WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
        CONSUMER, [e.id for e in events],
    )  # fmt: skip
    # The first fetch of an idle consumer takes one message; the next, the rest together.
    assert transactions[0]["n"] <= 2 < len(events)


async def test_a_poison_event_in_a_batch_is_dead_lettered_and_the_others_applied_once(
    consumer_feed, subject_events, sampling_rows, uscc, ledger
):
    before = await consumer_feed("sampling", [])
    codes = [fresh_uscc(uscc) for _ in range(6)]
    events = [before.envelope_of(subject_events.upserted(c), "registry") for c in codes]
    poison = events[3].model_copy(update={"data": {"uscc": codes[3]}})  # not a subject
    events[3] = poison
    for envelope in events:
        await before.publish(envelope)

    feed = await consumer_feed("sampling", SUBSCRIPTIONS, max_deliveries=2)
    assert await feed.outcome(poison) == "dead_lettered"
    await applied(feed, *events[:3], *events[4:])

    for code in codes[:3] + codes[4:]:
        assert (await held_subject(sampling_rows, code))["version"] == 1
    assert await held_subject(sampling_rows, codes[3]) is None
    consumer = subjects_consumer(feed)
    assert consumer.stats.applied == 5
    assert consumer.stats.fallbacks >= 1
    letters = await ledger("sampling").dead_letters(poison.id)
    assert len(letters) == 1
    for envelope in events[:3] + events[4:]:
        assert await ledger("sampling").inbox_count(envelope.id, CONSUMER) == 1
