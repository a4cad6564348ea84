"""Crash recovery of a draw (issue 13): sampling's API and outbox relay as real processes on real
PostgreSQL and NATS, killed with SIGKILL at a crash point (`shuangsui.kernel.faults`) between
the commit and the publication of the commitment, and between the computation and the
completion, then restarted without it. Whatever the seam, the draw finishes exactly once: one
`sampling.draw.committed.v1` and one `sampling.draw.completed.v1` on the JetStream stream (read
there, not in the outbox), a result that verifies, and no second run."""

import contextlib
import json
import uuid

import httpx
import pytest
from draw_api_testkit import (
    COMMITTED,
    COMPLETED,
    DRAWS,
    FIXED,
    Bureau,
    SamplingProcesses,
    action,
    fed,
    killed_at_its_crash_point,
    prepared_for,
    problem,
    with_etag,
)

from shuangsui.devstack.pytest_plugin import environment
from shuangsui.drawspec import verify_bytes
from shuangsui.kernel import faults
from shuangsui.messaging.relay import RELAY_ACKED
from shuangsui.messaging.testing import on_stream, wait_until
from shuangsui.sampling.main import create_app
from shuangsui.sampling.service.draw_reveals import COMPLETED_POINT, COMPUTED_POINT
from shuangsui.sampling.service.draws import COMMITTED_POINT
from shuangsui.sampling.worker import SUBSCRIPTIONS

FIXED_BEACON = {"beacon": {"source": "fixed", "value": FIXED}}

# A draw's events in sampling's outbox, each with whether the relay has marked it sent.
OUTBOX = (
    "SELECT event_type, published_at IS NOT NULL AS sent FROM outbox "
    "WHERE event_type = ANY($1::text[]) AND envelope::jsonb -> 'data' ->> 'draw_code' = $2 "
    "ORDER BY seq"
)


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's published batch of one item over three subjects, four officers of its
    station (fed through JetStream to sampling's consumers), and its admin's token."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    bureau = Bureau.fresh("K")
    base = uuid.uuid4().int % 10**7 * 10
    published = bureau.batch(batch_events, batch_code())
    await fed(feed, [
        *(subject_events.upserted(uscc(base + n), item_ids=[bureau.item]) for n in range(3)),
        *bureau.officers(directory_events, 4), published,
    ])  # fmt: skip
    owner = bearer("department_admin", region="330106", org=str(bureau.org),
                   sub=f"admin-{bureau.tag}")  # fmt: skip
    return {"batch": published.payload, "owner": owner}


@pytest.fixture
def processes(stack, nats_server):
    return SamplingProcesses(stack, nats_server.url)


async def commit(http, world, draw):
    return await http.post(action(draw["draw_id"], "commit"), json=FIXED_BEACON,
                           headers=with_etag(world["owner"], 1))  # fmt: skip


async def reveal(http, world, draw, revision=2):
    return await http.post(action(draw["draw_id"], "reveal"),
                           headers=with_etag(world["owner"], revision))  # fmt: skip


async def outbox_of(sampling_rows, draw):
    return await sampling_rows(OUTBOX, [COMMITTED, COMPLETED], draw["draw_id"])


async def all_sent(sampling_rows, draw, *event_types):
    """Wait until the outbox holds the draw's events of these types, each marked sent."""

    async def sent():
        rows = await outbox_of(sampling_rows, draw)
        return sorted(r["event_type"] for r in rows if r["sent"]) == sorted(event_types)

    await wait_until(sent, timeout=30, what=f"{event_types} of {draw['draw_id']} relayed")


async def on_the_stream(processes, event_type, draw):
    return [e for e in await on_stream(processes.nats_url, event_type)
            if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip


async def assert_finished_exactly_once(http, processes, world, draw):
    """One commitment and one completion on the stream, a result the verifier recomputes from
    the bundle, and neither a second reveal nor a new draw of the batch."""
    commitments = await on_the_stream(processes, COMMITTED, draw)
    completions = await on_the_stream(processes, COMPLETED, draw)
    assert (len(commitments), len(completions)) == (1, 1), "each event once on the stream"
    [committed], [completed] = commitments, completions
    bundle = await http.get(f"{DRAWS}/{draw['draw_id']}/bundle")
    result = await http.get(f"{DRAWS}/{draw['draw_id']}/result")
    assert bundle.status_code == result.status_code == 200
    assert json.loads(result.content) == verify_bytes(bundle.content)
    assert completed["data"]["result_sha256"] == json.loads(result.content)["result_sha256"]
    assert committed["data"]["commitment_sha256"] == completed["data"]["commitment_sha256"]
    problem(await reveal(http, world, draw, revision=3), 409, "draw-completed-final")
    again = await http.post(f"/api/v1/sampling/batches/{world['batch'].batch_id}/draws",
                            headers=world["owner"])  # fmt: skip
    problem(again, 409, "draw-already-completed")


async def test_a_relay_killed_after_jetstream_acked_the_commitment_publishes_it_once(
    processes, world, sampling_rows
):
    with processes.api():
        async with processes.client() as http:
            draw = await prepared_for(http, world)
            assert (await commit(http, world, draw)).status_code == 200

            # One batch for the whole outbox (earlier tests' events too), so it holds ours.
            with processes.relay(RELAY_ACKED, batch_size=1_000_000) as relay:
                assert await killed_at_its_crash_point(relay)
            # On the stream already, but the outbox does not know: a restart publishes it again.
            assert len(await on_the_stream(processes, COMMITTED, draw)) == 1
            assert await outbox_of(sampling_rows, draw) == [
                {"event_type": COMMITTED, "sent": False}
            ]
            with processes.relay():
                await all_sent(sampling_rows, draw, COMMITTED)
                assert (await reveal(http, world, draw)).json()["status"] == "completed"
                await all_sent(sampling_rows, draw, COMMITTED, COMPLETED)
            await assert_finished_exactly_once(http, processes, world, draw)


@contextlib.asynccontextmanager
async def armed_at(processes, point):
    """A client of an API armed at `point`; the block's last request kills it there."""
    with processes.api(point) as api:
        async with processes.client() as http:
            yield http
        assert await killed_at_its_crash_point(api), f"the API did not die at {point}"


async def unanswered(request):
    with pytest.raises(httpx.TransportError):
        await request


async def test_an_api_killed_at_each_seam_in_turn_still_finishes_the_draw_exactly_once(
    processes, world, sampling_rows
):
    """Each restarted API is armed at the next seam, as if the machine kept failing."""
    with processes.relay():
        # Killed right after the commitment and its event are committed, before it answers.
        async with armed_at(processes, COMMITTED_POINT) as http:
            draw = await prepared_for(http, world)
            await unanswered(commit(http, world, draw))

        # Killed when the draw is computed and written but its transaction not yet committed.
        async with armed_at(processes, COMPUTED_POINT) as http:
            seen = await http.get(f"{DRAWS}/{draw['draw_id']}")
            assert seen.json()["status"] == "committed"
            # The client's retry finds it committed: nobody changes a committed draw.
            problem(await commit(http, world, draw), 412)
            again = await http.post(action(draw["draw_id"], "commit"), json=FIXED_BEACON,
                                    headers=with_etag(world["owner"], 2))  # fmt: skip
            problem(again, 409, "draw-transition")
            await all_sent(sampling_rows, draw, COMMITTED)
            await unanswered(reveal(http, world, draw))

        # Killed right after the completion is committed, before it answers.
        async with armed_at(processes, COMPLETED_POINT) as http:
            seen = await http.get(f"{DRAWS}/{draw['draw_id']}")
            # Nothing of the computation was stored: the draw is as committed, revealable.
            assert (seen.json()["status"], seen.headers["ETag"]) == ("committed", '"2"')
            events = [r["event_type"] for r in await outbox_of(sampling_rows, draw)]
            assert events == [COMMITTED]
            await unanswered(reveal(http, world, draw))

        with processes.api():
            async with processes.client() as http:
                seen = await http.get(f"{DRAWS}/{draw['draw_id']}")
                assert seen.json()["status"] == "completed"
                await all_sent(sampling_rows, draw, COMMITTED, COMPLETED)
                await assert_finished_exactly_once(http, processes, world, draw)


def test_outside_test_mode_sampling_arms_no_crash_point(service_env):
    points = [COMMITTED_POINT, COMPUTED_POINT, COMPLETED_POINT, RELAY_ACKED]
    production = {**service_env("sampling"), "DRAW_TEST_MODE": "false",
                  faults.FAULTS_VARIABLE: ",".join(points)}  # fmt: skip
    try:
        with environment(production):
            create_app()
        assert faults.armed() == frozenset()
    finally:
        faults.arm(test_mode=False, environ={})
