"""How far behind the registry the subjects read model is: from what the broker says of the
consumer (events not applied yet, and since when), recorded by the worker, read by the API."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.broker import connect
from shuangsui.messaging.consumer import EventConsumer
from shuangsui.messaging.testing import wait_until
from shuangsui.sampling.adapters import subjects as repo
from shuangsui.sampling.domain.subjects import SUBJECTS, Consumption
from shuangsui.sampling.service import subjects
from shuangsui.sampling.worker import SUBSCRIPTIONS, consumption_of

READ_MODELS = "/api/v1/sampling/read-models"
HEADER = {
    "type": "header", "format": "shuangsui.registry.export.v1", "snapshot": "10:12:11",
    "taken_at": "2026-01-01T00:00:00+00:00", "covers": ["registry.subject."],
}  # fmt: skip


@pytest.fixture
async def loaded_state(new_uow, sampling_rows):
    """The stack's sampling database as if loaded from an export; forgotten afterwards."""
    async with new_uow() as uow:
        await repo.save_loaded(uow.session, SUBJECTS, HEADER, 0, datetime.now(UTC))
        await uow.commit()
    yield
    await sampling_rows("DELETE FROM read_models WHERE model = $1 RETURNING model", SUBJECTS)


async def test_events_waiting_for_the_consumer_count_as_lag_since_the_oldest(
    stack, nats_server, sampling_database, consumer_feed, subject_events, uscc
):
    publisher = await consumer_feed("sampling", [])
    nats = await connect(nats_server.url, "lag-test")
    [subscription] = [s for s in SUBSCRIPTIONS if s.durable == "sampling-subjects"]
    consumer = EventConsumer(
        subscription, nats, sampling_database, "p33", lambda: UnitOfWork(sampling_database)
    )
    stop = asyncio.Event()
    try:
        await consumer.start()
        assert (await consumption_of(consumer)).unapplied == 0
        before = datetime.now(UTC)
        for n in range(3):
            await publisher.publish(subject_events.upserted(uscc(9_700_000 + n)), "registry")
        await asyncio.sleep(0.2)
        waiting = await consumption_of(consumer)
        assert waiting.unapplied == 3
        assert waiting.oldest_unapplied_at is not None
        assert before - timedelta(seconds=1) <= waiting.oldest_unapplied_at <= waiting.checked_at

        running = asyncio.create_task(consumer.run(stop))

        async def caught_up() -> bool:
            return (await consumption_of(consumer)).unapplied == 0

        await wait_until(caught_up, timeout=30, what="the consumer caught up")
    finally:
        stop.set()
        if "running" in locals():
            await running
        await nats.close()


async def test_the_lag_is_unknown_before_the_model_is_loaded(sampling, bearer, sampling_rows):
    await sampling_rows("DELETE FROM read_models WHERE model = $1 RETURNING model", SUBJECTS)
    answer = await sampling.get(READ_MODELS, headers=bearer("provincial_admin"))
    assert answer.status_code == 200, answer.text
    [model] = answer.json()["items"]
    assert model["model"] == "subjects"
    assert (model["loaded"], model["lag_seconds"], model["within_bound"]) == (False, None, False)


async def test_a_loaded_model_is_current_to_the_oldest_event_it_has_not_applied(
    sampling, bearer, new_uow, loaded_state
):
    now = datetime.now(UTC)
    await subjects.record_consumption(new_uow(), Consumption(now, 0, None))
    answer = await sampling.get(READ_MODELS, headers=bearer("auditor"))
    [current] = answer.json()["items"]
    assert current["loaded"]
    assert current["within_bound"]
    assert current["lag_seconds"] < 5
    assert current["max_lag_seconds"] == 300

    behind = Consumption(now, 42, now - timedelta(seconds=400))
    await subjects.record_consumption(new_uow(), behind)
    [late] = (await sampling.get(READ_MODELS, headers=bearer("auditor"))).json()["items"]
    assert late["lag_seconds"] >= 400
    assert late["pending"] == 42
    assert not late["within_bound"], "400 s behind is beyond READ_MODEL_MAX_LAG_SECONDS"

    # Behind without knowing since when: the model stays current to what was last known.
    await subjects.record_consumption(new_uow(), Consumption(now + timedelta(seconds=5), 3, None))
    lag = await subjects.subjects_lag(new_uow(), 300, now=now + timedelta(seconds=10))
    assert lag.seconds == pytest.approx(410)


async def test_the_read_models_are_shown_to_admins_and_auditors_only(sampling, bearer):
    answer = await sampling.get(READ_MODELS, headers=bearer("inspector"))
    assert answer.status_code == 403
