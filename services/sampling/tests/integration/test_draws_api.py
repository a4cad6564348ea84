"""A batch's draw over HTTP, on real PostgreSQL and NATS: prepared by the lead department from
sampling's read models (fed through JetStream as the registry and planning publish them),
committed once with `sampling.draw.committed.v1` in the outbox, read by anyone without a login."""

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from draw_api_testkit import (
    COMMITTED,
    COMPLETED,
    DRAWS,
    FIXED,
    SELECTION,
    TEAM_ASSIGNED,
    commit_path,
    prepare_path,
    problem,
    reveal_path,
)

from shuangsui.drawspec import new_party_secret, verify_bytes
from shuangsui.kernel.auth import OPTIONAL_BEARER
from shuangsui.sampling.worker import SUBSCRIPTIONS


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's published batch of one item: five subjects in its scope (two of class
    A, three unclassified, drawn as B), three beside it that the batch does not take (another
    item, deregistered, an individual outside the directed scope), three officers of the
    listed station, and a cancelled batch of the same bureau."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    tag = uuid.uuid4().hex[:6]
    org, other_org, item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    org_code, station = f"330106-T{tag}", f"330106-T{tag}-01"
    base = uuid.uuid4().int % 10**7 * 10
    codes = [uscc(base + n) for n in range(8)]
    events = []
    for n, code in enumerate(codes):
        changes = {}
        if n == 5:
            changes["status"] = "cancelled"
        if n == 6:
            changes["subject_type"] = "individual"
        items = [uuid.uuid4()] if n == 7 else [item]
        events.append(subject_events.upserted(code, item_ids=items, **changes))
    events += [subject_events.risk_class(codes[n], "A", datetime(2026, 1, 1, tzinfo=UTC))
               for n in (0, 1)]  # fmt: skip
    for _ in range(3):
        events.append(directory_events.inspector(
            uuid.uuid4(), org_code=org_code, station_code=station,
        ))  # fmt: skip
    sample = batch_events.published().payload
    example = sample.items[0].model_dump(mode="json")
    policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"), "item_id": str(item)}

    def batch(code, **changes):
        return batch_events.published(
            org_id=org, org_code=org_code, batch_code=code, joint_kind="none", participants=[],
            items=[{**example, "item_id": str(item)}], risk_ratio_policies=[policy],
            station_group=[station],
            window_start=date(2026, 12, 1), window_end=date(2027, 3, 31), **changes,
        )  # fmt: skip

    published = batch(batch_code())
    dropped = batch(batch_code())
    events += [published, dropped, batch_events.cancelled(dropped)]
    for event in events:
        source = "planning" if event.actor == "system:planning" else "registry"
        assert await feed.outcome(await feed.publish(event, source)) == "applied"

    def admin(role, of, region="330106"):
        return bearer(role, region=region, org=str(of), sub=f"{role}-{of}-{tag}")

    async def publish(**changes):
        made = batch(batch_code(), **changes)
        assert await feed.outcome(await feed.publish(made, "planning")) == "applied"
        return made.payload

    return {
        "batch": published.payload, "cancelled": dropped.payload, "codes": codes,
        "publish": publish,
        "owner": admin("department_admin", org),
        "other": admin("department_admin", other_org),
        "guangdong": bearer("department_admin", region="440106", org=str(org)),
    }  # fmt: skip


async def prepared(sampling, world):
    answer = await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"])
    assert answer.status_code == 201, answer.text
    return answer


async def test_the_lead_prepares_the_draw_from_the_read_models(sampling, world):
    answer = await prepared(sampling, world)

    draw = answer.json()
    assert answer.headers["ETag"] == '"1"'
    assert draw["draw_id"] == f"{world['batch'].batch_code}-01"
    assert draw["kind"] == "combined"
    assert draw["status"] == "prepared"
    assert [(s["stratum"], s["rule"], s["population"]) for s in draw["population"]] == [
        ("A", "3/100", 2), ("B", "1/10", 3), ("C", "3/10", 0), ("D", "20", 0),
    ]  # fmt: skip
    assert draw["inspectors"] == 3
    assert draw["commitment_sha256"] is None
    # Nothing of a prepared draw is public.
    assert (await sampling.get(f"{DRAWS}/{draw['draw_id']}")).status_code == 404
    assert (await sampling.get(f"{DRAWS}/{draw['draw_id']}/commitment")).status_code == 404
    listed = await sampling.get(DRAWS, params={"batch_id": str(world["batch"].batch_id)})
    assert listed.json()["items"] == []
    own = await sampling.get(f"{DRAWS}/{draw['draw_id']}", headers=world["owner"])
    assert own.status_code == 200
    assert draw["prepared"] == [own.json()]
    assert {k: v for k, v in draw.items() if k not in ("prepared", "team_shortfalls")} == own.json()


async def test_only_the_lead_department_prepares(sampling, world):
    path = prepare_path(world["batch"].batch_id)

    problem(await sampling.post(path, headers=world["other"]), 403)
    problem(await sampling.post(path), 401)
    problem(await sampling.post(path, headers=world["guangdong"]), 403)
    problem(await sampling.post(prepare_path(uuid.uuid4()), headers=world["owner"]), 404)


async def test_a_cancelled_batch_is_not_drawn(sampling, world):
    answer = await sampling.post(prepare_path(world["cancelled"].batch_id), headers=world["owner"])

    body = problem(answer, 409, "draw-batch-not-drawable")
    assert "cancelled" in body["detail"]


async def test_a_lagging_subjects_read_model_is_refused_and_says_how_far(
    sampling, world, model_current_to, sampling_rows
):
    await model_current_to(datetime.now(UTC) - timedelta(hours=1))

    answer = await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"])

    body = problem(answer, 503)
    assert body["type"] == "/problems/draw-read-model-behind"
    assert body["model"] == "subjects"
    assert body["lag_seconds"] > 3500
    assert body["max_lag_seconds"] == 300
    assert "behind the registry" in body["detail"]
    rows = await sampling_rows("SELECT 1 FROM draws WHERE batch_id = $1", world["batch"].batch_id)
    assert rows == []


async def test_a_second_draw_waits_for_the_live_one(sampling, world):
    await prepared(sampling, world)

    answer = await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"])

    problem(answer, 409, "draw-in-progress")


async def test_a_directed_batch_narrows_by_industry_tags_and_risk_class(sampling, world):
    def scope(**conditions):
        return {"region_codes": ["330106"], "subject_types": ["enterprise"], "tag_filters": [],
                "industry_codes": [], "risk_classes": [], **conditions}  # fmt: skip

    narrowed = await world["publish"](
        scope=scope(industry_codes=["H62"], tag_filters=["format:餐饮服务", "scale:小型"],
                    risk_classes=["A"]),
        strata=[{"stratum": "A", "ratio": "1/2", "count": None}],
    )  # fmt: skip
    other_tag = await world["publish"](scope=scope(tag_filters=["format:零售"]))
    undirected = await world["publish"](draw_mode="undirected", scope=scope(industry_codes=["C13"]))

    def sizes(answer):
        assert answer.status_code == 201, answer.text
        return {s["stratum"]: s["population"] for s in answer.json()["population"]}

    post = sampling.post
    # No subject is tagged `scale`: a dimension named must match, so nobody is left.
    assert sizes(await post(prepare_path(narrowed.batch_id), headers=world["owner"])) == {"A": 0}
    assert sizes(await post(prepare_path(other_tag.batch_id), headers=world["owner"])) == {
        "A": 0, "B": 0, "C": 0, "D": 0,
    }  # fmt: skip
    # An undirected batch ignores the scope's conditions: the items' subjects in the regions.
    assert sizes(await post(prepare_path(undirected.batch_id), headers=world["owner"])) == {
        "A": 2, "B": 4, "C": 0, "D": 0,
    }  # fmt: skip
    only_format = await world["publish"](
        scope=scope(industry_codes=["H62"], tag_filters=["format:餐饮服务"], risk_classes=["A"]),
        strata=[{"stratum": "A", "ratio": "1/2", "count": None}],
    )  # fmt: skip
    assert sizes(await post(prepare_path(only_format.batch_id), headers=world["owner"])) == {"A": 2}


async def test_two_prepares_at_once_make_one_draw(sampling, world):
    path = prepare_path(world["batch"].batch_id)

    answers = await asyncio.gather(*(sampling.post(path, headers=world["owner"])
                                     for _ in range(3)))  # fmt: skip

    assert sorted(a.status_code for a in answers) == [201, 409, 409]


async def test_the_database_holds_one_live_draw_per_batch(sampling, world, stack):
    draw = (await prepared(sampling, world)).json()
    conn = await asyncpg.connect(stack.database_url("sampling"))
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO draws SELECT $1, draw_code || 'x', batch_id, batch_code, 2, kind, "
                "status, org_id, department_type, subjects_draw_code, lead_org_id, region_code, "
                "inputs, population, commitment, commitment_sha256, beacon_source, beacon, "
                "parties, reveal_deadline, beacon_value, bundle, result, failure, voiding, "
                "revision, prepared_by, prepared_at, committed_by, committed_at, revealed_at, "
                "completed_at, ended_at FROM draws WHERE draw_code = $2",
                uuid.uuid4(), draw["draw_id"],
            )  # fmt: skip
    finally:
        await conn.close()


async def test_the_commitment_is_stored_and_announced_once_before_any_randomness(
    sampling, world, ledger
):
    draw = (await prepared(sampling, world)).json()
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    path = commit_path(draw["draw_id"])

    problem(await sampling.post(path, json=body, headers=world["owner"]), 428)
    stale = {**world["owner"], "If-Match": '"7"'}
    problem(await sampling.post(path, json=body, headers=stale), 412)
    answer = await sampling.post(path, json=body, headers={**world["owner"], "If-Match": '"1"'})

    assert answer.status_code == 200, answer.text
    committed = answer.json()
    assert answer.headers["ETag"] == '"2"'
    assert committed["status"] == "committed"
    assert committed["beacon_source"] == "fixed"
    assert committed["beacon"] == {"source": "fixed", "value": FIXED}
    document = await sampling.get(f"{DRAWS}/{draw['draw_id']}/commitment")
    assert document.status_code == 200
    assert hashlib.sha256(document.content).hexdigest() == committed["commitment_sha256"]
    assert json.loads(document.content)["draw_id"] == draw["draw_id"]

    again = {**world["owner"], "If-Match": '"2"'}
    problem(await sampling.post(path, json=body, headers=again), 409, "draw-transition")
    problem(await sampling.post(path, json=body, headers={**world["owner"], "If-Match": '"1"'}),
            412)  # fmt: skip

    events = [e for e in await ledger("sampling").announced(COMMITTED)
              if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip
    assert len(events) == 1
    [event] = events
    assert event["subject"] == str(world["batch"].batch_id)
    data = event["data"]
    assert data["commitment_sha256"] == committed["commitment_sha256"]
    assert data["commitment"] == json.loads(document.content)
    assert data["draw_code"] == draw["draw_id"]
    assert [(s["stratum"], s["population"]) for s in data["strata"]] == [
        ("A", 2), ("B", 3), ("C", 0), ("D", 0),
    ]  # fmt: skip
    assert data["reveal_deadline"] is None


async def test_a_committed_draw_is_public_without_a_login(sampling, world):
    draw = (await prepared(sampling, world)).json()
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    headers = {**world["owner"], "If-Match": '"1"'}
    committed = await sampling.post(commit_path(draw["draw_id"]), json=body, headers=headers)

    listed = await sampling.get(DRAWS, params={"batch_id": str(world["batch"].batch_id)})
    got = await sampling.get(f"{DRAWS}/{draw['draw_id']}")

    assert listed.status_code == 200
    assert [d["draw_id"] for d in listed.json()["items"]] == [draw["draw_id"]]
    assert got.status_code == 200
    assert got.json() == committed.json()
    assert "inspectors" not in json.dumps(got.json()["beacon"])
    problem(await sampling.get(f"{DRAWS}/{draw['draw_id']}", headers=world["guangdong"]), 403)
    problem(await sampling.get(DRAWS, headers=world["guangdong"]), 403)
    problem(await sampling.get(f"{DRAWS}/330106209901019999-01"), 404)  # a code never drawn
    problem(await sampling.get(f"{DRAWS}/{uuid.uuid4()}"), 422)  # paths name draws by code


async def test_the_parties_commitments_start_a_commit_reveal_draw(sampling, world, ledger):
    draw = (await prepared(sampling, world)).json()
    parties = [new_party_secret(name) for name in ("市场监管局", "公证处")]
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    body = {"beacon": {
        "source": "commit-reveal", "reveal_deadline": deadline.isoformat(),
        "commitments": [{"party_id": s.party_id, "commitment": s.commitment} for s in parties],
    }}  # fmt: skip

    answer = await sampling.post(commit_path(draw["draw_id"]), json=body,
                                 headers={**world["owner"], "If-Match": '"1"'})  # fmt: skip

    assert answer.status_code == 200, answer.text
    committed = answer.json()
    assert committed["beacon"] == {
        "source": "commit-reveal", "commitments": sorted(s.commitment for s in parties),
    }  # fmt: skip
    assert [p["party_id"] for p in committed["parties"]] == ["市场监管局", "公证处"]
    assert datetime.fromisoformat(committed["reveal_deadline"]) == deadline
    [event] = [e for e in await ledger("sampling").announced(COMMITTED)
               if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip
    assert datetime.fromisoformat(event["data"]["reveal_deadline"]) == deadline
    # No secret is ever sent or stored before the reveal.
    assert all(s.secret not in answer.text for s in parties)


async def test_only_the_lead_commits_and_a_fixed_beacon_needs_test_mode(
    sampling, world, service_client
):
    draw = (await prepared(sampling, world)).json()
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    path = commit_path(draw["draw_id"])

    problem(await sampling.post(path, json=body, headers={**world["other"], "If-Match": '"1"'}),
            404)  # fmt: skip
    production = await service_client("sampling")
    refused = await production.post(path, json=body,
                                    headers={**world["owner"], "If-Match": '"1"'})  # fmt: skip
    problem(refused, 422, "draw-beacon-fixed")
    still = await sampling.get(f"{DRAWS}/{draw['draw_id']}", headers=world["owner"])
    assert still.json()["status"] == "prepared"


async def committed_fixed(sampling, world):
    draw = (await prepared(sampling, world)).json()
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    answer = await sampling.post(commit_path(draw["draw_id"]), json=body,
                                 headers={**world["owner"], "If-Match": '"1"'})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_fixed_draw_is_revealed_computed_and_completed_as_the_verifier_computes_it(
    sampling, world, ledger
):
    draw = await committed_fixed(sampling, world)
    path = reveal_path(draw["draw_id"])

    answer = await sampling.post(path, headers={**world["owner"], "If-Match": '"2"'})

    assert answer.status_code == 200, answer.text
    completed = answer.json()
    assert completed["status"] == "completed"
    bundle = await sampling.get(f"{DRAWS}/{draw['draw_id']}/bundle")
    result = await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")
    assert bundle.status_code == result.status_code == 200
    assert json.loads(bundle.content)["beacon_value"] == FIXED
    assert json.loads(result.content) == verify_bytes(bundle.content)
    assert completed["result_sha256"] == json.loads(result.content)["result_sha256"]
    selected = [u for s in json.loads(result.content)["strata"] for u in s["selected"]]
    assert len(selected) == 2  # ceil(3/100 × 2) of A, ceil(1/10 × 3) of B
    assert set(selected) <= set(world["codes"][:5])

    [event] = [e["data"] for e in await ledger("sampling").announced(COMPLETED)
               if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip
    assert event["result_sha256"] == completed["result_sha256"]
    assert event["completes_batch"] is True
    assert event["selection_parts"] == 1
    [part] = [e["data"] for e in await ledger("sampling").announced(SELECTION)
              if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip
    assert [s["uscc"] for s in part["subjects"]] == selected
    teams = [e["data"] for e in await ledger("sampling").announced(TEAM_ASSIGNED)
             if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip
    assert sorted(t["uscc"] for t in teams) == sorted(selected)
    # A team of two: its lead (holding food_safety) and one member, by opaque id only.
    assert all(t["lead_inspector_id"] and len(t["member_ids"]) == 1 for t in teams)
    assert all(t["lead_inspector_id"] not in t["member_ids"] for t in teams)
    assert "张三" not in bundle.text

    problem(await sampling.post(path, headers={**world["owner"], "If-Match": '"3"'}), 409,
            "draw-completed-final")  # fmt: skip
    again = await sampling.post(prepare_path(world["batch"].batch_id), headers=world["owner"])
    problem(again, 409, "draw-already-completed")


async def test_the_parties_reveal_each_their_own_secret_then_the_draw_completes(
    sampling, world, ledger
):
    draw = (await prepared(sampling, world)).json()
    parties = [new_party_secret(name) for name in ("市场监管局", "公证处")]
    body = {"beacon": {"source": "commit-reveal", "commitments": [
        {"party_id": s.party_id, "commitment": s.commitment} for s in parties]}}  # fmt: skip
    path = reveal_path(draw["draw_id"])
    await sampling.post(commit_path(draw["draw_id"]), json=body,
                        headers={**world["owner"], "If-Match": '"1"'})  # fmt: skip
    first, second = parties

    wrong = {"party_id": first.party_id, "secret": second.secret}
    problem(await sampling.post(path, json=wrong, headers={**world["owner"], "If-Match": '"2"'}),
            422, "E_BEACON")  # fmt: skip
    one = await sampling.post(path, json={"party_id": first.party_id, "secret": first.secret},
                              headers={**world["owner"], "If-Match": '"2"'})  # fmt: skip
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "committed"
    assert first.secret not in one.text
    problem(await sampling.post(bundle_path := f"{DRAWS}/{draw['draw_id']}/bundle"), 405)
    assert (await sampling.get(bundle_path)).status_code == 404
    two = await sampling.post(path, json={"party_id": second.party_id, "secret": second.secret},
                              headers={**world["owner"], "If-Match": '"3"'})  # fmt: skip

    assert two.status_code == 200, two.text
    assert two.json()["status"] == "completed"
    bundle = await sampling.get(bundle_path)
    revealed = json.loads(bundle.content)["beacon_value"]
    assert revealed == sorted(({"party_id": s.party_id, "secret": s.secret} for s in parties),
                              key=lambda r: r["party_id"].encode())  # fmt: skip
    result = await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")
    assert json.loads(result.content) == verify_bytes(bundle.content)


async def test_the_draw_operations_are_documented_public_reads_without_a_token(sampling):
    document = (await sampling.get("/openapi.json")).json()
    operations = {
        op["operationId"]: op for path in document["paths"].values() for op in path.values()
    }

    def public(name):
        security = operations[name].get("security", document.get("security"))
        return not security or any(not r or OPTIONAL_BEARER in r for r in security)

    writes = (
        "sampling_draws_prepare",
        "sampling_draws_commit",
        "sampling_draws_reveal",
        "sampling_draws_void",
    )
    reads = ("sampling_draws_list", "sampling_draws_get", "sampling_draws_commitment",
             "sampling_draws_bundle", "sampling_draws_result")  # fmt: skip
    assert [name for name in writes if public(name)] == []
    assert [name for name in reads if not public(name)] == []
