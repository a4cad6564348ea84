"""Batches of several draws over HTTP, on real PostgreSQL and NATS: a city bureau's
`bureau_wide` batch drawn as one draw per county pool (B.10), a cross-department batch's subject
draw followed by each department's team draw (B.11, R20), and the batch row following its draws
(`published` → `drawing` → `drawn`, and back after a void)."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from draw_api_testkit import (
    BATCHES,
    COMPLETED,
    DRAWS,
    TEAM_ASSIGNED,
    commit_path,
    completed_fixed,
    prepare_path,
    problem,
    reveal_path,
)

from shuangsui.devstack.issuer import authorization, token_claims
from shuangsui.drawspec import new_party_secret, verify_bytes
from shuangsui.sampling.service import draw_access, draw_ends
from shuangsui.sampling.worker import SUBSCRIPTIONS

COUNTIES = ("330102", "330106")
ALL_B = [{"stratum": "B", "ratio": "1/1", "count": None}]  # every (unclassified) subject drawn


@pytest.fixture
async def feed(consumer_feed):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)

    async def apply(*events):
        for event in events:
            source = "planning" if event.actor == "system:planning" else "registry"
            assert await feed.outcome(await feed.publish(event, source)) == "applied"

    return apply


def _batch(batch_events, code, item, **changes):
    sample = batch_events.published().payload
    example = sample.items[0].model_dump(mode="json")
    policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"), "item_id": str(item)}
    return batch_events.published(
        batch_code=code, items=[{**example, "item_id": str(item)}],
        risk_ratio_policies=[policy], strata=ALL_B, station_group=[],
        window_start=date(2026, 12, 1), window_end=date(2027, 3, 31), **changes,
    )  # fmt: skip


@pytest.fixture
async def city(feed, batch_events, subject_events, directory_events, bearer, uscc,
               current_model, batch_code):  # fmt: skip
    """A city bureau's `bureau_wide` batch over two counties: three subjects and three
    officers of the department in each (the department's name is the test's own, so no other
    test's officers join the pools), and a batch of the same bureau that also takes a subject
    of a district with no officers."""
    tag = uuid.uuid4().hex[:6]
    org, item, stray_item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    department = f"ms_{tag}"
    base = uuid.uuid4().int % 10**7 * 10
    subjects: dict[str, list[str]] = {}
    officers: dict[str, set[str]] = {}
    events = []
    for n, county in enumerate(COUNTIES):
        subjects[county] = [uscc(base + 3 * n + k, county) for k in range(3)]
        events += [subject_events.upserted(code, item_ids=[item], region_code=county)
                   for code in subjects[county]]  # fmt: skip
        ids = [uuid.uuid4() for _ in range(3)]
        officers[county] = {str(i) for i in ids}
        events += [directory_events.inspector(
            i, org_code=f"{county}-C{tag}", region_code=county, station_code=None,
            department_type=department,
        ) for i in ids]  # fmt: skip
    stray = uscc(base + 9, "330105")
    events.append(subject_events.upserted(stray, item_ids=[stray_item], region_code="330105"))
    events.append(subject_events.upserted(subjects["330102"][0], version=2,
                                          item_ids=[item, stray_item], region_code="330102"))  # fmt: skip

    def batch(taken):
        return _batch(
            batch_events, batch_code("330100"), taken, org_id=org, org_code=f"330100-C{tag}",
            org_level="city", org_region_code="330100", department_type=department,
            joint_kind="none", participants=[], selection_mode="bureau_wide",
            scope={"region_codes": ["330100"], "subject_types": [], "tag_filters": [],
                   "industry_codes": [], "risk_classes": []},
        )  # fmt: skip

    published, strayed, empty = batch(item), batch(stray_item), batch(uuid.uuid4())
    await feed(*events, published, strayed, empty)

    def admin(name):
        return bearer("department_admin", region="330100", org=str(org),
                      sub=f"admin-{name}-{tag}")  # fmt: skip

    return {
        "batch": published.payload, "strayed": strayed.payload, "empty": empty.payload,
        "stray": stray,
        "subjects": subjects, "officers": officers, "owner": admin("a"),
        "colleague": admin("b"),
    }  # fmt: skip


async def batch_row(sampling, batch, headers, status):
    """The batch as `GET /batches?status=…` lists it, or None when it is not in that status."""
    answer = await sampling.get(BATCHES, params={"status": status, "limit": 200},
                                headers=headers)  # fmt: skip
    assert answer.status_code == 200, answer.text
    found = [b for b in answer.json()["items"] if b["batch_id"] == str(batch.batch_id)]
    return found[0] if found else None


async def announced(ledger, event_type, draw):
    return [e["data"] for e in await ledger("sampling").announced(event_type)
            if e["data"]["draw_code"] == draw["draw_id"]]  # fmt: skip


async def verified(sampling, draw):
    """The served result, checked to be exactly what the verifier computes from the bundle."""
    bundle = await sampling.get(f"{DRAWS}/{draw['draw_id']}/bundle")
    result = await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")
    assert bundle.status_code == result.status_code == 200
    assert json.loads(result.content) == verify_bytes(bundle.content)
    return json.loads(bundle.content), json.loads(result.content)


async def void(sampling, draw, asked_by, approved_by):
    path = f"{DRAWS}/{draw['draw_id']}:void"
    asked = await sampling.post(path, json={"reason": "录入错误"},
                                headers={**asked_by, "If-Match": '"3"'})  # fmt: skip
    assert asked.status_code == 200, asked.text
    approved = await sampling.post(path, json={"approve": True},
                                   headers={**approved_by, "If-Match": '"4"'})  # fmt: skip
    assert approved.status_code == 200, approved.text
    return approved.json()


# ---- B.10: one draw per county pool -----------------------------------------------------------


async def test_a_multi_county_batch_is_one_draw_per_county_drawn_after_the_last(
    sampling, city, ledger
):
    batch, owner = city["batch"], city["owner"]

    answer = await sampling.post(prepare_path(batch.batch_id), headers=owner)

    assert answer.status_code == 201, answer.text
    draws = answer.json()["prepared"]
    assert [d["draw_id"] for d in draws] == [f"{batch.batch_code}-01", f"{batch.batch_code}-02"]
    assert [d["county_code"] for d in draws] == list(COUNTIES)
    assert [d["kind"] for d in draws] == ["combined", "combined"]
    assert [(d["population"][0]["population"], d["inspectors"]) for d in draws] == [(3, 3)] * 2
    assert answer.json()["draw_id"] == draws[0]["draw_id"]
    assert await batch_row(sampling, batch, owner, "published") is not None

    first = await completed_fixed(sampling, draws[0], owner)
    assert (await batch_row(sampling, batch, owner, "drawing"))["drawn_at"] is None
    [event] = await announced(ledger, COMPLETED, first)
    assert event["completes_batch"] is False
    last = await completed_fixed(sampling, draws[1], owner)
    [event] = await announced(ledger, COMPLETED, last)
    assert event["completes_batch"] is True
    row = await batch_row(sampling, batch, owner, "drawn")
    assert row is not None
    assert row["drawn_at"] is not None
    assert await batch_row(sampling, batch, owner, "drawing") is None
    assert await batch_row(sampling, batch, owner, ["published", "drawn"]) == row

    for draw, county in zip((first, last), COUNTIES, strict=True):
        bundle, _ = await verified(sampling, draw)
        assert bundle["commitment"]["draw_id"] == draw["draw_id"]
        assert {s["subject_id"] for s in bundle["manifest"]} == set(city["subjects"][county])
        assert {i["inspector_id"] for i in bundle["inspectors"]} == city["officers"][county]
        teams = await announced(ledger, TEAM_ASSIGNED, draw)
        assert sorted(t["uscc"] for t in teams) == sorted(city["subjects"][county])
        drawn = {m for t in teams for m in [t["lead_inspector_id"], *t["member_ids"]]}
        assert drawn <= city["officers"][county]
    again = await sampling.post(prepare_path(batch.batch_id), headers=owner)
    problem(again, 409, "draw-already-completed")


async def test_a_subject_of_no_county_pool_refuses_the_whole_prepare(sampling, city, sampling_rows):
    batch = city["strayed"]

    answer = await sampling.post(prepare_path(batch.batch_id), headers=city["owner"])

    body = problem(answer, 422, "draw-county-no-pool")
    assert body["subjects"] == [city["stray"]]
    assert city["stray"] in body["detail"]
    assert await sampling_rows("SELECT 1 FROM draws WHERE batch_id = $1", batch.batch_id) == []


async def test_a_multi_county_batch_without_any_subject_has_no_county_to_draw(sampling, city):
    answer = await sampling.post(prepare_path(city["empty"].batch_id), headers=city["owner"])

    problem(answer, 422, "draw-county-no-subjects")


async def test_a_voided_county_is_drawn_again_alone_and_all_voided_publish_the_batch_again(
    sampling, city
):
    batch, owner = city["batch"], city["owner"]
    prepared = (await sampling.post(prepare_path(batch.batch_id), headers=owner)).json()
    first, second = [await completed_fixed(sampling, d, owner) for d in prepared["prepared"]]

    await void(sampling, first, owner, city["colleague"])

    assert await batch_row(sampling, batch, owner, "drawing") is not None
    rerun = await sampling.post(prepare_path(batch.batch_id), headers=owner)
    assert rerun.status_code == 201, rerun.text
    [again] = rerun.json()["prepared"]
    assert (again["draw_id"], again["county_code"]) == (f"{batch.batch_code}-03", COUNTIES[0])
    problem(await sampling.post(prepare_path(batch.batch_id), headers=owner), 409,
            "draw-in-progress")  # fmt: skip

    await void(sampling, second, owner, city["colleague"])
    # The re-run is only prepared: nothing of the batch is committed and live any more.
    row = await batch_row(sampling, batch, owner, "published")
    assert row is not None
    assert row["drawn_at"] is None
    await completed_fixed(sampling, again, owner)
    assert await batch_row(sampling, batch, owner, "drawing") is not None


# ---- B.11: a cross-department batch's team draws ---------------------------------------------


@pytest.fixture
async def joint(feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's cross-department batch with a partner department: four subjects, three
    officers of each department."""
    tag = uuid.uuid4().hex[:6]
    lead, partner, item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    lead_type, partner_type = f"ms_{tag}", f"health_{tag}"
    lead_code, partner_code = f"330106-L{tag}", f"330106-P{tag}"
    base = uuid.uuid4().int % 10**7 * 10
    codes = [uscc(base + n) for n in range(4)]
    events = [subject_events.upserted(code, item_ids=[item]) for code in codes]
    officers: dict[str, set[str]] = {}
    for org_code, department in ((lead_code, lead_type), (partner_code, partner_type)):
        ids = [uuid.uuid4() for _ in range(3)]
        officers[department] = {str(i) for i in ids}
        events += [directory_events.inspector(i, org_code=org_code, department_type=department)
                   for i in ids]  # fmt: skip
    published = _batch(
        batch_events, batch_code(), item, org_id=lead, org_code=lead_code,
        department_type=lead_type, joint_kind="cross_department", selection_mode="hq_and_stations",
        participants=[{"org_id": str(partner), "org_code": partner_code,
                       "department_type": partner_type, "lead_expertise": None}],
    )  # fmt: skip
    single = _batch(batch_events, batch_code(), item, org_id=lead, org_code=lead_code,
                    department_type=lead_type, joint_kind="none", participants=[],
                    selection_mode="hq_and_stations")  # fmt: skip
    crowded = _batch(batch_events, batch_code(), item, org_id=lead, org_code=lead_code,
                     department_type=lead_type, joint_kind="none", participants=[],
                     selection_mode="hq_and_stations", team_size=4)  # fmt: skip
    await feed(*events, published, single, crowded)

    def admin(role, org, name):
        return bearer(role, region="330106", org=str(org), sub=f"{role}-{name}-{tag}")

    return {
        "batch": published.payload, "single": single.payload, "crowded": crowded.payload,
        "codes": codes, "lead_code": lead_code, "partner_code": partner_code,
        "lead": lead, "partner": partner, "lead_type": lead_type, "partner_type": partner_type,
        "officers": officers, "owner": admin("department_admin", lead, "a"),
        "partner_admin": admin("department_admin", partner, "p"),
        "partner_role": admin("partner_admin", partner, "q"),
    }  # fmt: skip


def teams_of(org):
    return {"kind": "teams", "org_id": str(org)}


async def test_a_joint_batch_draws_subjects_once_then_each_department_its_own_teams(
    sampling, joint, ledger
):
    batch, owner = joint["batch"], joint["owner"]
    path = prepare_path(batch.batch_id)
    problem(await sampling.post(path, json=teams_of(joint["lead"]), headers=owner), 409,
            "draw-subjects-not-completed")  # fmt: skip

    [subjects] = (await sampling.post(path, headers=owner)).json()["prepared"]
    assert (subjects["kind"], subjects["inspectors"], subjects["org_id"]) == ("subjects", 0, None)
    problem(await sampling.post(path, json=teams_of(joint["lead"]), headers=owner), 409,
            "draw-subjects-not-completed")  # fmt: skip
    subjects = await completed_fixed(sampling, subjects, owner)
    [event] = await announced(ledger, COMPLETED, subjects)
    assert event["completes_batch"] is False
    assert await announced(ledger, TEAM_ASSIGNED, subjects) == []
    _, chosen = await verified(sampling, subjects)
    selected = sorted(u for s in chosen["strata"] for u in s["selected"])
    assert selected == sorted(joint["codes"])

    made = []
    for org, department in ((joint["lead"], joint["lead_type"]),
                            (joint["partner"], joint["partner_type"])):  # fmt: skip
        answer = await sampling.post(path, json=teams_of(org), headers=owner)
        assert answer.status_code == 201, answer.text
        [draw] = answer.json()["prepared"]
        assert (draw["kind"], draw["org_id"], draw["department_type"]) == (
            "teams", str(org), department,
        )  # fmt: skip
        assert draw["subjects_draw_id"] == subjects["draw_id"]
        problem(await sampling.post(path, json=teams_of(org), headers=owner), 409,
                "draw-in-progress")  # fmt: skip
        draw = await completed_fixed(sampling, draw, owner)
        made.append(draw)
        bundle, _ = await verified(sampling, draw)
        assert sorted(s["subject_id"] for s in bundle["manifest"]) == selected
        assert [s["ratio"] for s in bundle["commitment"]["strata"]] == ["1/1"]
        assert bundle["exclusions"] == []
        teams = await announced(ledger, TEAM_ASSIGNED, draw)
        assert sorted(t["uscc"] for t in teams) == selected
        assert {t["department_type"] for t in teams} == {department}
        drawn = {m for t in teams for m in [t["lead_inspector_id"], *t["member_ids"]]}
        assert drawn <= joint["officers"][department]

    assert [d["draw_id"] for d in made] == [f"{batch.batch_code}-02", f"{batch.batch_code}-03"]
    [lead_done] = await announced(ledger, COMPLETED, made[0])
    [last] = await announced(ledger, COMPLETED, made[1])
    assert (lead_done["completes_batch"], last["completes_batch"]) == (False, True)
    assert await batch_row(sampling, batch, owner, "drawn") is not None


async def test_only_the_lead_prepares_a_joint_batchs_team_draws(sampling, joint):
    batch, owner = joint["batch"], joint["owner"]
    path = prepare_path(batch.batch_id)
    [subjects] = (await sampling.post(path, headers=owner)).json()["prepared"]
    await completed_fixed(sampling, subjects, owner)

    for token in (joint["partner_admin"], joint["partner_role"]):
        problem(await sampling.post(path, json=teams_of(joint["partner"]), headers=token), 403)
    problem(await sampling.post(path, json=teams_of(uuid.uuid4()), headers=owner), 422,
            "draw-not-a-department")  # fmt: skip
    problem(await sampling.post(path, json={"kind": "teams"}, headers=owner), 422,
            "draw-not-a-department")  # fmt: skip
    single = prepare_path(joint["single"].batch_id)
    problem(await sampling.post(single, json=teams_of(joint["lead"]), headers=owner), 422,
            "draw-not-joint")  # fmt: skip
    problem(await sampling.post(path, json={"kind": "everything"}, headers=owner), 422)


async def test_a_pool_smaller_than_a_team_refuses_the_prepare(sampling, joint, sampling_rows):
    batch = joint["crowded"]

    answer = await sampling.post(prepare_path(batch.batch_id), headers=joint["owner"])

    body = problem(answer, 422, "insufficient_candidates")
    assert body["field"] == "inspectors"
    assert await sampling_rows("SELECT 1 FROM draws WHERE batch_id = $1", batch.batch_id) == []


async def test_a_joint_batch_whose_subject_draw_failed_is_published_again(
    sampling, joint, messaging_uow
):
    batch, owner = joint["batch"], joint["owner"]
    [draw] = (await sampling.post(prepare_path(batch.batch_id), headers=owner)).json()["prepared"]
    parties = [new_party_secret(name) for name in ("牵头部门", "参与部门")]
    body = {"beacon": {"source": "commit-reveal", "commitments": [
        {"party_id": s.party_id, "commitment": s.commitment} for s in parties]}}  # fmt: skip
    committed = await sampling.post(commit_path(draw["draw_id"]), json=body,
                                    headers={**owner, "If-Match": '"1"'})  # fmt: skip
    assert committed.status_code == 200, committed.text
    assert await batch_row(sampling, batch, owner, "drawing") is not None

    later = datetime.now(UTC) + timedelta(days=2)  # past the default 24 h reveal deadline
    key = await draw_access.draw_key(messaging_uow(), draw["draw_id"])
    failed = await draw_ends.fail_if_overdue(messaging_uow(), key, later)

    assert failed is not None
    assert failed.draw.status == "failed"
    assert await batch_row(sampling, batch, owner, "published") is not None
    again = await sampling.post(prepare_path(batch.batch_id), headers=owner)
    assert again.status_code == 201, again.text
    assert again.json()["draw_id"] == f"{batch.batch_code}-02"


async def test_each_department_reveals_only_its_own_secret(
    sampling, joint, issuer, feed, directory_events
):
    batch, owner = joint["batch"], joint["owner"]
    superior = f"330100-S{uuid.uuid4().hex[:6]}"  # a department outside the batch
    await feed(directory_events.org(uuid.uuid4(), superior, level="city", region_code="330100"))
    [draw] = (await sampling.post(prepare_path(batch.batch_id), headers=owner)).json()["prepared"]
    lead, partner, above, notary = (new_party_secret(name) for name in
                                    (joint["lead_code"], joint["partner_code"], superior, "公证处"))  # fmt: skip
    parties = (lead, partner, above, notary)
    body = {"beacon": {"source": "commit-reveal", "commitments": [
        {"party_id": s.party_id, "commitment": s.commitment} for s in parties]}}  # fmt: skip
    committed = await sampling.post(commit_path(draw["draw_id"]), json=body,
                                    headers={**owner, "If-Match": '"1"'})  # fmt: skip
    assert committed.status_code == 200, committed.text

    def acting(role, region, org_code):
        claims = token_claims(roles=[role], region=region, org=str(joint["partner"]),
                              org_code=org_code, sub=f"{role}-{region}-{org_code}")  # fmt: skip
        return authorization(issuer.mint(claims))

    partner_admin = acting("partner_admin", "330106", joint["partner_code"])
    foreign = acting("partner_admin", "440106", joint["partner_code"])

    async def reveal(secret, headers):
        path = f"{DRAWS}/{draw['draw_id']}"
        etag = (await sampling.get(path)).headers["etag"]
        return await sampling.post(reveal_path(draw["draw_id"]), headers={**headers, "If-Match": etag},
                                   json={"party_id": secret.party_id, "secret": secret.secret})  # fmt: skip

    # The lead holds every commitment but hands in no department's secret but its own, a
    # partner's or one of the directory's outside the batch.
    problem(await reveal(partner, owner), 403)
    problem(await reveal(above, owner), 403)
    # The partner reveals neither the lead's secret nor a witness's, and another province's
    # admin of a department with the same code nothing.
    problem(await reveal(lead, partner_admin), 403)
    problem(await reveal(notary, partner_admin), 403)
    problem(await reveal(partner, foreign), 403)
    untouched = (await sampling.get(f"{DRAWS}/{draw['draw_id']}")).json()
    assert untouched["status"] == "committed"
    assert [p.get("revealed_at") for p in untouched["parties"]] == [None] * 4

    assert (await reveal(partner, partner_admin)).status_code == 200
    assert (await reveal(above, acting("department_admin", "330100", superior))).status_code == 200
    assert (await reveal(lead, owner)).status_code == 200
    done = await reveal(notary, owner)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    await verified(sampling, done.json())
