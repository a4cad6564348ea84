"""A drand-quicknet draw on real PostgreSQL and NATS, with TV6's real round (DRAW_SPEC §5.1,
§13): committed before the round's time (the service's `now=`), the round pushed by an operator
or fetched by the worker from a relay (a local HTTP server standing in for drand's), accepted
only when checks (a)–(d) pass under the pinned quicknet key, then completed exactly as a last
reveal completes a commit-reveal draw; past its deadline the draw fails as `beacon_unavailable`,
once."""

import asyncio
import hashlib
import json
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from shuangsui.drawspec import new_party_secret, verify_bytes
from shuangsui.drawspec.drand import QUICKNET_CHAIN_HASH, round_time
from shuangsui.kernel.auth import OPTIONAL_BEARER, Principal, Role
from shuangsui.sampling.service import draw_access, draw_ends, draw_rounds
from shuangsui.sampling.service import draws as draws_service
from shuangsui.sampling.worker import SUBSCRIPTIONS, fetch_rounds

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))  # for `draw_testkit`
from draw_api_testkit import COMMITTED, COMPLETED, DRAWS, events_of, problem
from draw_testkit import vector

FAILED = "sampling.draw.failed.v1"
TV6 = vector("TV6-drand-real-round")["bundle"]
ROUND = TV6["commitment"]["beacon"]["round"]
GENUINE = {"round": ROUND, **TV6["beacon_value"]}
# TV6's own commit instant: 30 minutes before its round.
COMMIT_AT = datetime.fromisoformat(TV6["commitment"]["committed_at"])
# A deadline years after TV6's round, so the round is still acceptable today.
LONG_GRACE = timedelta(days=3650)


def action(draw_id, name):
    return f"{DRAWS}/{draw_id}:{name}"


def with_etag(headers, revision):
    return {**headers, "If-Match": f'"{revision}"'}


def flipped(hex_text, at=10):
    """The hex text with one digit changed."""
    digit = "0" if hex_text[at] != "0" else "1"
    return hex_text[:at] + digit + hex_text[at + 1 :]


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau with two subjects and three officers of its station, publishing batches
    of one item on demand; the tokens of who may and may not push a round."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    tag = uuid.uuid4().hex[:6]
    org, item = uuid.uuid4(), uuid.uuid4()
    org_code, station = f"330106-D{tag}", f"330106-D{tag}-01"
    base = uuid.uuid4().int % 10**7 * 10
    events = [subject_events.upserted(uscc(base + n), item_ids=[item]) for n in range(2)]
    events += [directory_events.inspector(uuid.uuid4(), org_code=org_code, station_code=station)
               for _ in range(3)]  # fmt: skip
    for event in events:
        assert await feed.outcome(await feed.publish(event, "registry")) == "applied"
    sample = batch_events.published().payload
    example = sample.items[0].model_dump(mode="json")
    policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"), "item_id": str(item)}

    async def batch():
        made = batch_events.published(
            org_id=org, org_code=org_code, batch_code=batch_code(), joint_kind="none",
            participants=[], items=[{**example, "item_id": str(item)}],
            risk_ratio_policies=[policy], station_group=[station],
            window_start=date(2026, 12, 1), window_end=date(2027, 3, 31),
        )  # fmt: skip
        assert await feed.outcome(await feed.publish(made, "planning")) == "applied"
        return made.payload

    sub = f"department_admin-{org}-{tag}"
    return {
        "batch": batch, "org": org,
        "owner": bearer("department_admin", region="330106", org=str(org), sub=sub),
        "owner_principal": Principal(sub, frozenset({Role.department_admin}), "330106", str(org)),
        "other": bearer("department_admin", region="330106", org=str(uuid.uuid4())),
        "auditor": bearer("auditor", region="330000", sub=f"auditor-{tag}"),
        "provincial": bearer("provincial_admin", region="330000", sub=f"province-{tag}"),
    }  # fmt: skip


async def prepared(sampling, world):
    batch = await world["batch"]()
    answer = await sampling.post(f"/api/v1/sampling/batches/{batch.batch_id}/draws",
                                 headers=world["owner"])  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()


async def committed_drand(sampling, world, messaging_uow, grace=LONG_GRACE):
    """A draw committed at TV6's instant naming TV6's round (so its real value applies)."""
    draw = await prepared(sampling, world)
    choice = draws_service.BeaconChoice("drand-quicknet", round=ROUND, beacon_grace=grace)
    await draws_service.commit_draw(
        messaging_uow(), await key_of(messaging_uow, draw), choice, '"1"', world["owner_principal"],
        test_mode=False, now=COMMIT_AT,
    )  # fmt: skip
    return draw["draw_id"]


async def key_of(messaging_uow, draw):
    """The internal id behind the draw's public code, for calling the service directly."""
    return await draw_access.draw_key(messaging_uow(), draw["draw_id"])


async def stored_row(sampling_rows, draw_id):
    [row] = await sampling_rows(
        "SELECT status, revision, beacon_value, bundle, revealed_at FROM draws "
        "WHERE draw_code = $1", draw_id,
    )  # fmt: skip
    return dict(row)


# ---- commit ------------------------------------------------------------------------------------


async def test_a_drand_commit_names_the_earliest_round_and_its_deadline(sampling, world, ledger):
    draw = await prepared(sampling, world)
    path = action(draw["draw_id"], "commit")

    answer = await sampling.post(path, json={"beacon": {"source": "drand-quicknet"}},
                                 headers=with_etag(world["owner"], 1))  # fmt: skip

    assert answer.status_code == 200, answer.text
    body = answer.json()
    beacon = body["beacon"]
    assert body["beacon_source"] == "drand-quicknet"
    assert beacon["chain_hash"] == QUICKNET_CHAIN_HASH
    committed = datetime.fromisoformat(body["committed_at"]).timestamp()
    # §5.1: at least ten minutes after the commit, and the earliest such round.
    assert round_time(beacon["round"]) >= committed + 600 > round_time(beacon["round"] - 1)
    deadline = datetime.fromisoformat(body["reveal_deadline"]).timestamp()
    assert deadline == round_time(beacon["round"]) + 3600  # BEACON_DEADLINE_SECONDS' default
    [event] = await events_of(ledger, COMMITTED, draw["draw_id"])
    assert event["beacon"] == beacon
    assert datetime.fromisoformat(event["reveal_deadline"]).timestamp() == deadline
    document = await sampling.get(f"{DRAWS}/{draw['draw_id']}/commitment")
    assert json.loads(document.content)["beacon"] == beacon


async def test_a_round_too_soon_or_too_far_is_refused_at_commit(sampling, world, sampling_rows):
    draw = await prepared(sampling, world)
    path = action(draw["draw_id"], "commit")
    soon = int(datetime.now(UTC).timestamp()) + 300  # five minutes from now
    soon_round = (soon - round_time(1)) // 3 + 1
    far_round = soon_round + 8 * 24 * 1200  # eight days of three-second rounds later

    for number, rule in ((soon_round, "draw-beacon-round-too-soon"),
                         (far_round, "draw-beacon-round-too-late")):  # fmt: skip
        body = {"beacon": {"source": "drand-quicknet", "round": number}}
        answer = await sampling.post(path, json=body, headers=with_etag(world["owner"], 1))
        assert problem(answer, 422, rule)["field"] == "beacon.round"

    row = await stored_row(sampling_rows, draw["draw_id"])
    assert (row["status"], row["revision"]) == ("prepared", 1)


# ---- the operator's push ------------------------------------------------------------------------


@pytest.mark.parametrize("pusher", ["owner", "provincial"])
async def test_a_pushed_round_completes_the_draw_as_the_verifier_computes_it(
    sampling, world, ledger, messaging_uow, pusher
):
    draw_id = await committed_drand(sampling, world, messaging_uow)

    answer = await sampling.post(action(draw_id, "round"), json=GENUINE,
                                 headers=with_etag(world[pusher], 2))  # fmt: skip

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    bundle = await sampling.get(f"{DRAWS}/{draw_id}/bundle")
    result = await sampling.get(f"{DRAWS}/{draw_id}/result")
    assert json.loads(bundle.content)["beacon_value"] == TV6["beacon_value"]
    assert json.loads(result.content) == verify_bytes(bundle.content)
    [event] = await events_of(ledger, COMPLETED, draw_id)
    assert event["beacon_value"] == TV6["beacon_value"]
    # Pushed again: the draw is no longer waiting for its round.
    again = await sampling.post(action(draw_id, "round"), json=GENUINE,
                                headers=with_etag(world[pusher], 3))  # fmt: skip
    problem(again, 409, "draw-completed-final")
    assert len(await events_of(ledger, COMPLETED, draw_id)) == 1


async def test_a_round_failing_any_check_is_refused_and_nothing_is_stored(
    sampling, world, ledger, messaging_uow, sampling_rows
):
    draw_id = await committed_drand(sampling, world, messaging_uow)
    before = await stored_row(sampling_rows, draw_id)
    forged = flipped(GENUINE["signature"])
    refused = [
        ({**GENUINE, "round": ROUND + 1}, "E_BEACON"),  # another round
        ({**GENUINE, "randomness": flipped(GENUINE["randomness"])}, "E_BEACON"),  # (c)
        # (d): the randomness matches the forged signature, only the BLS check catches it.
        ({**GENUINE, "signature": forged,
          "randomness": hashlib.sha256(bytes.fromhex(forged)).hexdigest()}, "E_BEACON"),
        ({**GENUINE, "signature": GENUINE["signature"].upper()}, "E_SCHEMA"),
    ]  # fmt: skip

    for body, rule in refused:
        answer = await sampling.post(action(draw_id, "round"), json=body,
                                     headers=with_etag(world["owner"], 2))  # fmt: skip
        assert problem(answer, 422, rule)["type"] == "/problems/draw-refused"

    assert await stored_row(sampling_rows, draw_id) == before
    assert before["status"] == "committed"
    assert json.loads(before["beacon_value"]) is None  # JSONB's null
    assert before["revealed_at"] is None
    assert await events_of(ledger, COMPLETED, draw_id) == []
    assert await events_of(ledger, FAILED, draw_id) == []


async def test_only_the_lead_or_the_province_pushes_a_round(
    sampling, world, messaging_uow, sampling_rows
):
    draw_id = await committed_drand(sampling, world, messaging_uow)
    path = action(draw_id, "round")

    problem(await sampling.post(path, json=GENUINE, headers=with_etag(world["other"], 2)), 403)
    problem(await sampling.post(path, json=GENUINE, headers=with_etag(world["auditor"], 2)), 403)
    problem(await sampling.post(path, json=GENUINE), 401)
    problem(await sampling.post(path, json=GENUINE, headers=world["owner"]), 428)
    problem(await sampling.post(path, json=GENUINE, headers=with_etag(world["owner"], 1)), 412)

    assert (await stored_row(sampling_rows, draw_id))["status"] == "committed"


async def test_a_round_is_only_for_a_drand_draw_and_a_reveal_not_for_one(
    sampling, world, messaging_uow
):
    fixed = await prepared(sampling, world)
    # The API runs as in production; a fixed beacon is committed in test mode (§5.3).
    choice = draws_service.BeaconChoice("fixed", value="ab" * 32)
    await draws_service.commit_draw(
        messaging_uow(), await key_of(messaging_uow, fixed), choice, '"1"', world["owner_principal"],
        test_mode=True,
    )  # fmt: skip
    shared = await prepared(sampling, world)
    parties = [new_party_secret(name) for name in ("市场监管局", "公证处")]
    commitments = [{"party_id": s.party_id, "commitment": s.commitment} for s in parties]
    await sampling.post(action(shared["draw_id"], "commit"),
                        json={"beacon": {"source": "commit-reveal", "commitments": commitments}},
                        headers=with_etag(world["owner"], 1))  # fmt: skip
    drand = await committed_drand(sampling, world, messaging_uow)

    for draw_id in (fixed["draw_id"], shared["draw_id"]):
        answer = await sampling.post(action(draw_id, "round"), json=GENUINE,
                                     headers=with_etag(world["owner"], 2))  # fmt: skip
        problem(answer, 422, "draw-beacon-source")
    reveal = {"party_id": parties[0].party_id, "secret": parties[0].secret}
    answer = await sampling.post(action(drand, "reveal"), json=reveal,
                                 headers=with_etag(world["owner"], 2))  # fmt: skip
    problem(answer, 422, "draw-beacon-source")


# ---- the deadline ---------------------------------------------------------------------------


async def test_a_round_not_accepted_by_its_deadline_fails_the_draw_once(
    sampling, world, ledger, messaging_uow
):
    # BEACON_DEADLINE_SECONDS' default after TV6's round: long past.
    draw_id = await committed_drand(sampling, world, messaging_uow, grace=timedelta(hours=1))
    waiting = await committed_drand(sampling, world, messaging_uow)

    runs = await asyncio.gather(
        draw_ends.fail_overdue_draws(messaging_uow), draw_ends.fail_overdue_draws(messaging_uow)
    )

    ours = [d for run in runs for d in run if d.draw.draw_code == draw_id]
    assert len(ours) == 1
    assert ours[0].draw.failure.reason == "beacon_unavailable"
    [event] = await events_of(ledger, FAILED, draw_id)
    assert event["reason"] == "beacon_unavailable"
    got = (await sampling.get(f"{DRAWS}/{draw_id}")).json()
    assert (got["status"], got["failure"]["reason"]) == ("failed", "beacon_unavailable")
    # The genuine round is too late now; the draw within its deadline still waits for it.
    late = await sampling.post(action(draw_id, "round"), json=GENUINE,
                               headers=with_etag(world["owner"], 3))  # fmt: skip
    problem(late, 409, "draw-transition")
    assert (await sampling.get(f"{DRAWS}/{waiting}")).json()["status"] == "committed"


async def test_a_round_pushed_after_the_deadline_is_refused_and_the_draw_fails(
    sampling, world, ledger, messaging_uow
):
    draw_id = await committed_drand(sampling, world, messaging_uow, grace=timedelta(hours=1))

    late = await sampling.post(action(draw_id, "round"), json=GENUINE,
                               headers=with_etag(world["owner"], 2))  # fmt: skip

    problem(late, 409, "draw-beacon-late")
    [event] = await events_of(ledger, FAILED, draw_id)
    assert event["reason"] == "beacon_unavailable"
    assert await events_of(ledger, COMPLETED, draw_id) == []


# ---- the fetcher ------------------------------------------------------------------------------


class Relay:
    """A stand-in for a drand HTTP relay: `/{chain_hash}/public/{round}` answers `rounds`."""

    def __init__(self, rounds):
        self.rounds = rounds
        self.asked = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                relay.asked.append(self.path)
                found = relay.rounds.get(self.path)
                payload = json.dumps(found or {"error": "not found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relays():
    path = f"/{QUICKNET_CHAIN_HASH}/public/{ROUND}"
    forged = flipped(GENUINE["signature"])
    genuine = Relay({path: GENUINE})
    lying = Relay(
        {
            path: {
                **GENUINE,
                "signature": forged,
                "randomness": hashlib.sha256(bytes.fromhex(forged)).hexdigest(),
            }
        }
    )
    yield {"genuine": genuine, "lying": lying}  # fmt: skip
    genuine.close()
    lying.close()


async def test_the_worker_fetches_a_due_round_and_uses_only_a_verified_one(
    sampling, world, ledger, messaging_uow, relays
):
    draw_id = await committed_drand(sampling, world, messaging_uow)
    lying, genuine = relays["lying"], relays["genuine"]
    down = "http://127.0.0.1:9"  # nothing listens there

    async with httpx.AsyncClient() as client:
        # Before the round's time nothing is asked for.
        early = await draw_rounds.fetch_due_rounds(messaging_uow, [genuine.url], client, COMMIT_AT)
        # A relay whose round fails check (d) is not used.
        lied = await draw_rounds.fetch_due_rounds(messaging_uow, [down, lying.url], client)

    assert early == []
    assert genuine.asked == []
    assert [d for d in lied if d.draw.draw_code == draw_id] == []
    assert set(lying.asked) == {f"/{QUICKNET_CHAIN_HASH}/public/{ROUND}"}
    assert (await sampling.get(f"{DRAWS}/{draw_id}")).json()["status"] == "committed"
    stop = asyncio.Event()
    fetching = asyncio.create_task(
        fetch_rounds(messaging_uow, [down, lying.url, genuine.url], 0.1, stop)
    )
    try:
        for _ in range(100):
            got = (await sampling.get(f"{DRAWS}/{draw_id}")).json()
            if got["status"] != "committed":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # more rounds: nothing fetched again completes it again
    finally:
        stop.set()
        await fetching

    assert got["status"] == "completed"
    bundle = await sampling.get(f"{DRAWS}/{draw_id}/bundle")
    assert json.loads((await sampling.get(f"{DRAWS}/{draw_id}/result")).content) == verify_bytes(
        bundle.content
    )
    [event] = await events_of(ledger, COMPLETED, draw_id)
    assert event["beacon_value"] == TV6["beacon_value"]


async def test_the_round_push_is_documented_and_needs_a_token(sampling):
    document = (await sampling.get("/openapi.json")).json()
    [operation] = [op for path in document["paths"].values() for op in path.values()
                   if op["operationId"] == "sampling_draws_round"]  # fmt: skip

    assert operation["summary"]
    security = operation.get("security", document.get("security"))
    assert security
    assert not any(not r or OPTIONAL_BEARER in r for r in security)  # no anonymous push
    assert {"403", "409", "412", "422", "428"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["RoundIn"]
    assert set(schema["required"]) == {"round", "randomness", "signature"}
    assert schema["examples"] == [GENUINE]
