"""A batch's life follows where sampling's draw events say its draws leave it (`batch_status`,
consumer `planning-draws`), fed through JetStream: committed → drawing, the completion that
draws it → drawn, failed or voided → drawable again; one county's draw voided while the others
stand → drawing again. A copy of an event, a team draw that leaves the batch drawing, an event
for a batch planning does not hold change nothing; a drawn batch is then cancelled from `drawn`
by an adjustment."""

import uuid

import pytest
from planning_testkit import BATCHES, PLANS, add_batch, new_plan, plan_step, publish

from shuangsui.contracts.events.sampling_draws import (
    DrawCommitted,
    DrawCompleted,
    DrawFailed,
    DrawVoided,
)
from shuangsui.messaging.envelope import Outgoing
from shuangsui.planning.worker import SUBSCRIPTIONS

YEAR = 2094


@pytest.fixture
async def api(service_client, test_catalogue):
    return await service_client("planning")


@pytest.fixture
async def published_batch(api, batch_world):
    plan = await new_plan(api, batch_world, YEAR)
    batch = (await add_batch(api, plan, batch_world["owner"])).json()
    await publish(api, batch_world, plan)
    return plan, (await api.get(f"{BATCHES}/{batch['batch_id']}")).json()


def draw_event(model, batch, **changes):
    example = model.model_config["json_schema_extra"]["examples"][0]
    payload = model.model_validate(
        {**example, "batch_id": batch["batch_id"], "batch_code": batch["batch_code"],
         "draw_code": f"{batch['batch_code']}-01", **changes}
    )  # fmt: skip
    return Outgoing(payload, subject=batch["batch_id"], actor="system:sampling")


async def status_after(api, feed, event, batch):
    envelope = await feed.publish(event, "sampling")
    assert await feed.outcome(envelope) == "applied"
    return (await api.get(f"{BATCHES}/{batch['batch_id']}")).json()["status"]


async def test_a_batch_is_drawing_from_its_commitment_and_drawn_at_its_completion(
    api, consumer_feed, published_batch
):
    _, batch = published_batch
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    committed = draw_event(DrawCommitted, batch, kind="combined", batch_status="drawing")

    assert await status_after(api, feed, committed, batch) == "drawing"
    # The same event again under another message id: nothing moves.
    again = draw_event(DrawCommitted, batch, kind="combined", batch_status="drawing")
    assert await status_after(api, feed, again, batch) == "drawing"
    not_yet = draw_event(DrawCompleted, batch, kind="combined", completes_batch=False,
                         batch_status="drawing")  # fmt: skip
    assert await status_after(api, feed, not_yet, batch) == "drawing"
    done = draw_event(DrawCompleted, batch, kind="combined", completes_batch=True,
                      batch_status="drawn")  # fmt: skip
    assert await status_after(api, feed, done, batch) == "drawn"
    voided = draw_event(DrawVoided, batch, kind="combined", batch_status="published")
    assert await status_after(api, feed, voided, batch) == "published"


async def test_a_batch_drawn_per_county_follows_its_counties_draws(
    api, consumer_feed, published_batch
):
    """B.10: the batch is drawn with its last county; one county failing or voided while
    another's draw stands leaves it drawing, not drawable from scratch."""
    _, batch = published_batch
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    code = batch["batch_code"]

    def county(model, n, county_code, batch_status, **changes):
        return draw_event(model, batch, kind="combined", draw_code=f"{code}-0{n}",
                          county_code=county_code, batch_status=batch_status, **changes)  # fmt: skip

    assert await status_after(api, feed, county(DrawCommitted, 1, "330102", "drawing"),
                              batch) == "drawing"  # fmt: skip
    assert await status_after(api, feed, county(DrawCommitted, 2, "330106", "drawing"),
                              batch) == "drawing"  # fmt: skip
    first = county(DrawCompleted, 1, "330102", "drawing", completes_batch=False)
    assert await status_after(api, feed, first, batch) == "drawing"
    # The second county's draw fails: the first stands, so the batch stays drawing.
    failed = county(DrawFailed, 2, "330106", "drawing")
    assert await status_after(api, feed, failed, batch) == "drawing"
    assert await status_after(api, feed, county(DrawCommitted, 3, "330106", "drawing"),
                              batch) == "drawing"  # fmt: skip
    last = county(DrawCompleted, 3, "330106", "drawn", completes_batch=True)
    assert await status_after(api, feed, last, batch) == "drawn"
    # One county voided: it is drawn again alone, the batch drawing meanwhile.
    voided = county(DrawVoided, 1, "330102", "drawing")
    assert await status_after(api, feed, voided, batch) == "drawing"
    gone = county(DrawVoided, 3, "330106", "published")
    assert await status_after(api, feed, gone, batch) == "published"


async def test_a_failed_draw_makes_the_batch_drawable_again_and_a_team_draw_moves_nothing(
    api, consumer_feed, published_batch
):
    _, batch = published_batch
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    await status_after(api, feed, draw_event(DrawCommitted, batch, kind="subjects",
                                             batch_status="drawing"), batch)  # fmt: skip

    team_failed = draw_event(DrawFailed, batch, kind="teams", batch_status="drawing",
                             subjects_draw_code=f"{batch['batch_code']}-01")  # fmt: skip
    assert await status_after(api, feed, team_failed, batch) == "drawing"
    failed = draw_event(DrawFailed, batch, kind="subjects", batch_status="published")
    assert await status_after(api, feed, failed, batch) == "published"


async def test_an_event_about_a_batch_planning_does_not_hold_changes_nothing(api, consumer_feed):
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    stranger = {"batch_id": str(uuid.uuid4()), "batch_code": "330106209401010001"}

    event = draw_event(DrawCommitted, stranger, kind="combined", batch_status="drawing")
    envelope = await feed.publish(event, "sampling")

    assert await feed.outcome(envelope) == "applied"
    assert (await api.get(f"{BATCHES}/{stranger['batch_id']}")).status_code == 404


async def test_a_drawn_batch_is_cancelled_from_drawn_by_an_adjustment(
    api, consumer_feed, published_batch, batch_world, ledger
):
    plan, batch = published_batch
    feed = await consumer_feed("planning", SUBSCRIPTIONS)
    await status_after(api, feed, draw_event(DrawCommitted, batch, kind="combined",
                                             batch_status="drawing"), batch)  # fmt: skip
    await status_after(api, feed, draw_event(DrawCompleted, batch, kind="combined",
                                             completes_batch=True, batch_status="drawn"), batch)  # fmt: skip
    owner = batch_world["owner"]
    current = await api.get(f"{PLANS}/{plan['plan_id']}", params={"version": 1}, headers=owner)
    v2 = await api.post(f"{PLANS}/{plan['plan_id']}/versions/1:adjust",
                        json={"adjustment_reason": "撤销已抽取批次"},
                        headers={**owner, "If-Match": current.headers["ETag"]})  # fmt: skip
    assert v2.status_code == 201, v2.text
    read = await api.get(f"{BATCHES}/{batch['batch_id']}", headers=owner)
    cancelled = await api.post(f"{BATCHES}/{batch['batch_id']}:cancel", json={"reason": "并批"},
                               headers={**owner, "If-Match": read.headers["ETag"]})  # fmt: skip
    assert cancelled.status_code == 200, cancelled.text
    for action, who in (("submit", "owner"), ("file", "superior"), ("publish", "owner")):
        answer = await plan_step(api, batch_world, plan["plan_id"], 2, action, who)
        assert answer.status_code == 200, (action, answer.text)

    gone = (await api.get(f"{BATCHES}/{batch['batch_id']}")).json()
    assert (gone["status"], gone["cancelled_from"]) == ("cancelled", "drawn")
    events = await ledger("planning").announced("planning.batch.cancelled.v1")
    [event] = [e for e in events if e["subject"] == batch["batch_id"]]
    assert event["data"]["cancelled_from"] == "drawn"
