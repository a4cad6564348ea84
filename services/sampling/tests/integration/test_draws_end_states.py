"""A draw's end states on real PostgreSQL and NATS: a completed draw voided in two steps (asked
by the lead department, approved by someone else), a commit-reveal draw failed when its reveal
deadline passes with a reveal missing (on the reveal, on a read and by the worker's periodic
check), and a draw failed with its batch's cancellation; each end recorded as one event."""

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import structlog.testing
from draw_api_testkit import DRAWS, FIXED, events_of, prepare_path, problem

from shuangsui.drawspec import new_party_secret
from shuangsui.sampling.service import batches as batches_service
from shuangsui.sampling.service import draw_ends
from shuangsui.sampling.worker import SUBSCRIPTIONS, check_reveals

FAILED = "sampling.draw.failed.v1"
VOIDED = "sampling.draw.voided.v1"


def action(draw_id, name):
    return f"{DRAWS}/{draw_id}:{name}"


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's published batch of one item over three subjects, three officers of
    its station; tokens of its admins, another bureau's, and auditors in and out of Zhejiang."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    tag = uuid.uuid4().hex[:6]
    org, other_org, item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    org_code, station = f"330106-E{tag}", f"330106-E{tag}-01"
    base = uuid.uuid4().int % 10**7 * 10
    events = [subject_events.upserted(uscc(base + n), item_ids=[item]) for n in range(3)]
    for _ in range(3):
        events.append(directory_events.inspector(
            uuid.uuid4(), org_code=org_code, station_code=station,
        ))  # fmt: skip
    sample = batch_events.published().payload
    example = sample.items[0].model_dump(mode="json")
    policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"), "item_id": str(item)}

    def batch():
        return batch_events.published(
            org_id=org, org_code=org_code,
            batch_code=batch_code(), joint_kind="none",
            participants=[], items=[{**example, "item_id": str(item)}],
            risk_ratio_policies=[policy], station_group=[station],
            window_start=date(2026, 12, 1), window_end=date(2027, 3, 31),
        )  # fmt: skip

    published = batch()
    events.append(published)
    for event in events:
        source = "planning" if event.actor == "system:planning" else "registry"
        assert await feed.outcome(await feed.publish(event, source)) == "applied"

    def admin(role, of, region="330106", name="a"):
        return bearer(role, region=region, org=str(of), sub=f"{role}-{name}-{of}-{tag}")

    async def another():
        made = batch()
        assert await feed.outcome(await feed.publish(made, "planning")) == "applied"
        return made.payload

    return {
        "feed": feed, "published": published, "batch": published.payload, "another": another,
        "owner": admin("department_admin", org),
        "colleague": admin("department_admin", org, name="b"),
        "other": admin("department_admin", other_org),
        "auditor": bearer("auditor", region="330000", sub=f"auditor-{tag}"),
        "guangdong_auditor": bearer("auditor", region="440000", sub=f"auditor-gd-{tag}"),
    }  # fmt: skip


def with_etag(headers, revision):
    return {**headers, "If-Match": f'"{revision}"'}


async def prepared(sampling, world):
    answer = await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def completed(sampling, world):
    draw = await prepared(sampling, world)
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    commit = await sampling.post(action(draw["draw_id"], "commit"), json=body,
                                 headers=with_etag(world["owner"], 1))  # fmt: skip
    assert commit.status_code == 200, commit.text
    answer = await sampling.post(action(draw["draw_id"], "reveal"),
                                 headers=with_etag(world["owner"], 2))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    return answer.json()


async def committed_with_parties(sampling, world, names=("市场监管局", "公证处")):
    draw = await prepared(sampling, world)
    parties = [new_party_secret(name) for name in names]
    body = {"beacon": {"source": "commit-reveal", "commitments": [
        {"party_id": s.party_id, "commitment": s.commitment} for s in parties]}}  # fmt: skip
    answer = await sampling.post(action(draw["draw_id"], "commit"), json=body,
                                 headers=with_etag(world["owner"], 1))  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json(), parties


async def deadline_passed(sampling_rows, draw_id):
    """The reveal deadline a minute ago, and any reveal so far two minutes ago (in time)."""
    [row] = await sampling_rows("SELECT parties FROM draws WHERE draw_code = $1", draw_id)
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    parties = [
        {**e, "revealed_at": earlier.isoformat()} if e.get("secret") else e
        for e in json.loads(row["parties"])
    ]
    await sampling_rows(
        "UPDATE draws SET reveal_deadline = now() - interval '1 minute', parties = $2::jsonb "
        "WHERE draw_code = $1 RETURNING draw_id",
        draw_id, json.dumps(parties),
    )  # fmt: skip


# ---- void ------------------------------------------------------------------------------------


async def test_a_completed_draw_is_voided_when_asked_and_approved_by_another(
    sampling, world, ledger
):
    draw = await completed(sampling, world)
    path = action(draw["draw_id"], "void")
    ask = {"reason": "对象名单快照遗漏一个所的对象，经批准重新抽取"}

    problem(await sampling.post(path, json=ask, headers=world["owner"]), 428)
    problem(await sampling.post(path, json={"approve": True},
                                headers=with_etag(world["colleague"], 3)),
            409, "draw-void-not-requested")  # fmt: skip
    problem(await sampling.post(path, json={"reason": "  "}, headers=with_etag(world["owner"], 3)),
            422, "draw-void-reason")  # fmt: skip
    problem(await sampling.post(path, json=ask, headers=with_etag(world["other"], 3)), 403)
    problem(await sampling.post(path, json=ask, headers=with_etag(world["auditor"], 3)), 403)
    asked = await sampling.post(path, json=ask, headers=with_etag(world["owner"], 3))

    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "completed"
    assert asked.json()["void_request"]["reason"] == ask["reason"]
    assert asked.headers["ETag"] == '"4"'
    approve = {"approve": True}
    problem(await sampling.post(path, json=approve, headers=with_etag(world["owner"], 4)),
            422, "draw-void-approver")  # fmt: skip
    problem(await sampling.post(path, json=approve, headers=with_etag(world["colleague"], 3)),
            412)  # fmt: skip
    problem(await sampling.post(path, json=approve,
                                headers=with_etag(world["guangdong_auditor"], 4)), 403)  # fmt: skip
    problem(await sampling.post(path, json=approve, headers=with_etag(world["other"], 4)), 403)
    assert await events_of(ledger, VOIDED, draw["draw_id"]) == []
    voided = await sampling.post(path, json=approve, headers=with_etag(world["auditor"], 4))

    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert body["status"] == "voided"
    assert body["void_request"] is None
    assert body["voiding"]["reason"] == ask["reason"]
    assert body["voiding"]["approved_by"] != body["voiding"]["requested_by"]
    [event] = await events_of(ledger, VOIDED, draw["draw_id"])
    assert event["reason"] == ask["reason"]
    assert event["requested_by"] == body["voiding"]["requested_by"]
    assert event["approved_by"] == body["voiding"]["approved_by"]
    problem(await sampling.post(path, json=approve, headers=with_etag(world["colleague"], 5)),
            409, "draw-transition")  # fmt: skip
    # It stays public, and the batch's next draw is a new one under the next code (B.6).
    listed = await sampling.get(DRAWS, params={"batch_id": str(world["batch"].batch_id)})
    assert [(d["draw_id"], d["status"]) for d in listed.json()["items"]] == [
        (draw["draw_id"], "voided")
    ]
    again = await prepared(sampling, world)
    assert again["draw_id"] == draw["draw_id"][:-2] + "02"


async def test_a_colleague_of_the_lead_department_approves_a_void(sampling, world, ledger):
    draw = await completed(sampling, world)
    path = action(draw["draw_id"], "void")
    ask = {"reason": "抽取名单有误"}
    await sampling.post(path, json=ask, headers=with_etag(world["owner"], 3))

    wrong = {"approve": True, "reason": "另一个原因"}
    problem(await sampling.post(path, json=wrong, headers=with_etag(world["colleague"], 4)),
            422, "draw-void-reason")  # fmt: skip
    voided = await sampling.post(path, json={"approve": True, **ask},
                                 headers=with_etag(world["colleague"], 4))  # fmt: skip

    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert len(await events_of(ledger, VOIDED, draw["draw_id"])) == 1


async def test_a_draw_not_completed_is_not_voided(sampling, world):
    draw, _ = await committed_with_parties(sampling, world)

    answer = await sampling.post(action(draw["draw_id"], "void"), json={"reason": "不需要"},
                                 headers=with_etag(world["owner"], 2))  # fmt: skip

    problem(answer, 409, "draw-transition")


# ---- missing reveal ---------------------------------------------------------------------------


async def test_a_reveal_after_the_deadline_is_refused_and_the_draw_fails(
    sampling, world, ledger, sampling_rows
):
    draw, (first, second) = await committed_with_parties(sampling, world)
    path = action(draw["draw_id"], "reveal")
    one = await sampling.post(path, json={"party_id": first.party_id, "secret": first.secret},
                              headers=with_etag(world["owner"], 2))  # fmt: skip
    assert one.status_code == 200, one.text
    await deadline_passed(sampling_rows, draw["draw_id"])

    late = await sampling.post(path, json={"party_id": second.party_id, "secret": second.secret},
                               headers=with_etag(world["owner"], 3))  # fmt: skip

    problem(late, 409, "draw-reveal-late")
    got = (await sampling.get(f"{DRAWS}/{draw['draw_id']}")).json()
    assert got["status"] == "failed"
    assert got["failure"]["reason"] == "missing_reveal"
    assert got["failure"]["missing_parties"] == [second.party_id]
    [event] = await events_of(ledger, FAILED, draw["draw_id"])
    assert event["reason"] == "missing_reveal"
    assert event["missing_parties"] == [second.party_id]
    assert (await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")).status_code == 404
    # A re-run is a new draw with a new commitment and the next code (§5.2, B.6).
    again = await prepared(sampling, world)
    assert again["draw_id"] == draw["draw_id"][:-2] + "02"


async def test_a_read_that_finds_the_deadline_passed_fails_the_draw_once(
    sampling, world, ledger, sampling_rows
):
    draw, parties = await committed_with_parties(sampling, world)
    await deadline_passed(sampling_rows, draw["draw_id"])

    reads = await asyncio.gather(
        sampling.get(f"{DRAWS}/{draw['draw_id']}"),
        sampling.get(f"{DRAWS}/{draw['draw_id']}"),
        sampling.get(DRAWS, params={"batch_id": str(world["batch"].batch_id)}),
    )

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert reads[0].json()["status"] == reads[1].json()["status"] == "failed"
    assert [d["status"] for d in reads[2].json()["items"]] == ["failed"]
    [event] = await events_of(ledger, FAILED, draw["draw_id"])
    assert event["missing_parties"] == [s.party_id for s in parties]


async def test_two_workers_checking_at_once_fail_an_overdue_draw_once(
    sampling, world, ledger, sampling_rows, messaging_uow
):
    draw, _ = await committed_with_parties(sampling, world)
    # The same bureau's second batch, its draw's deadline 24 h ahead.
    waiting, _ = await committed_with_parties(
        sampling, {**world, "batch": await world["another"]()}
    )
    await deadline_passed(sampling_rows, draw["draw_id"])

    runs = await asyncio.gather(
        draw_ends.fail_overdue_draws(messaging_uow),
        draw_ends.fail_overdue_draws(messaging_uow),
    )

    ours = [d for run in runs for d in run if d.draw.draw_code == draw["draw_id"]]
    assert len(ours) == 1
    assert ours[0].draw.failure.reason == "missing_reveal"
    assert len(await events_of(ledger, FAILED, draw["draw_id"])) == 1
    # A draw whose deadline is still ahead is left waiting.
    assert (await sampling.get(f"{DRAWS}/{waiting['draw_id']}")).json()["status"] == "committed"


async def test_the_worker_checks_reveal_deadlines_periodically(
    sampling, world, ledger, sampling_rows, messaging_uow
):
    draw, _ = await committed_with_parties(sampling, world)
    await deadline_passed(sampling_rows, draw["draw_id"])
    stop = asyncio.Event()
    with structlog.testing.capture_logs() as logged:
        checking = asyncio.create_task(check_reveals(messaging_uow, 0.1, stop))
        try:
            for _ in range(100):
                [row] = await sampling_rows(
                    "SELECT status FROM draws WHERE draw_code = $1", draw["draw_id"]
                )
                if row["status"] == "failed":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # more rounds: none fails it again
        finally:
            stop.set()
            await checking

    assert row["status"] == "failed"
    assert len(await events_of(ledger, FAILED, draw["draw_id"])) == 1
    # Each round reports what it failed, once, and a round failing nothing is no error.
    reported = [e.get("draw_code") for e in logged if e["event"] == "draw failed"]
    assert reported.count(draw["draw_id"]) == 1
    assert [e for e in logged if e["event"] == "reveal check failed"] == []


# ---- batch cancelled ---------------------------------------------------------------------------


async def test_a_cancelled_batch_fails_its_live_draw_once(
    sampling, world, ledger, batch_events, messaging_uow
):
    draw, _ = await committed_with_parties(sampling, world)
    feed = world["feed"]
    cancelled = await feed.publish(batch_events.cancelled(world["published"]), "planning")
    assert await feed.outcome(cancelled) == "applied"

    got = (await sampling.get(f"{DRAWS}/{draw['draw_id']}")).json()
    assert got["status"] == "failed"
    assert got["failure"]["reason"] == "batch_cancelled"
    # The same cancellation applied again (a redelivery past the inbox) records nothing more.
    await batches_service.apply_batch_cancelled(cancelled, messaging_uow())
    [event] = await events_of(ledger, FAILED, draw["draw_id"])
    assert event["reason"] == "batch_cancelled"
    problem(await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"]),
            409, "draw-batch-not-drawable")  # fmt: skip


async def test_a_cancellation_leaves_a_completed_draw_completed(
    sampling, world, ledger, batch_events
):
    draw = await completed(sampling, world)
    feed = world["feed"]
    cancelled = await feed.publish(batch_events.cancelled(world["published"]), "planning")
    assert await feed.outcome(cancelled) == "applied"

    got = (await sampling.get(f"{DRAWS}/{draw['draw_id']}")).json()
    assert got["status"] == "completed"
    assert await events_of(ledger, FAILED, draw["draw_id"]) == []
