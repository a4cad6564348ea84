"""Station staff's tag corrections (标签纠正) through HTTP, on real PostgreSQL.

The database lives for the whole session and the tag rules are the province's, shared with other
tests: these tests use a county of their own (330824), tag values no other test writes, and
compare the kept population counts with a recount of the whole directory.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from shuangsui.registry.service.classification import (
    current_classifier,
    recount_population,
)

BASE = "/api/v1/registry"
COUNTY = "330824"
STATION = "330824-01"
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def pusher(mint_token):
    token = mint_token(
        roles=["integrator"], region="330000", sub="zj-aic", scopes=["registry:subjects:push"]
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def station(bearer) -> dict[str, str]:
    """Staff of the county's first station (所), which supervises the subjects pushed here."""
    return bearer("station_staff", region=COUNTY, station=STATION, sub="zhang-station-01")


@pytest.fixture
def reviewer(bearer) -> dict[str, str]:
    """The county bureau's department admin."""
    return bearer("department_admin", region=COUNTY, sub="li-county-admin")


def ndjson(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


async def count(registry, auth, item_id: str) -> int:
    answer = await registry.get(
        f"{BASE}/population:count", params={"item_id": item_id, "region_code": COUNTY}, headers=auth
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


@dataclass
class Shops:
    """Two food shops of the station; the rules call them 食品销售, the station knows that the
    first one serves meals (餐饮)."""

    sells: str  # format value the rules give
    serves: str  # format value the station corrects to
    restaurants: str  # an item for `format:<serves>`
    food_shops: str  # an item for `format:<sells>`
    rows: list[dict[str, Any]]

    @property
    def uscc(self) -> str:
        return str(self.rows[0]["uscc"])

    def proposal(self, **fields: Any) -> dict[str, Any]:
        return {
            "add": [f"format:{self.serves}"], "remove": [f"format:{self.sells}"],
            "reason": "现场核查：以堂食为主", **fields,
        }  # fmt: skip


@pytest.fixture
async def shops(catalogue, registry, admin, national, pusher, uscc, new_uow) -> Shops:
    marker = uuid.uuid4().hex[:6]
    sells, serves = f"食品销售{marker}", f"餐饮{marker}"
    await catalogue.replace_rules([
        {"dimension": "format", "value": sells, "when": {"industry_code_prefixes": ["F52"]}},
        {"dimension": "carrier", "value": "实体", "when": {"has_online_shop": False}},
    ])  # fmt: skip
    restaurants = await catalogue.publish_national_item(
        subject_types=["enterprise"], subject_tags=[f"format:{serves}"]
    )
    food_shops = await catalogue.publish_national_item(
        subject_types=["enterprise"], subject_tags=[f"format:{sells}"]
    )
    await catalogue.settle()
    base = 8_100_000 + uuid.uuid4().int % 90_000 * 10
    rows = [shop(uscc(base + n, COUNTY), n) for n in (1, 2)]
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert pushed.status_code == 200, pushed.text
    return Shops(sells, serves, restaurants, food_shops, rows)


def shop(code: str, n: int) -> dict[str, Any]:
    return {
        "uscc": code, "name": f"开化测试{n}食品店", "subject_type": "enterprise",
        "status": "active", "region_code": COUNTY, "industry_code": "F5221",
        "unit_code": STATION, "source": "zj-aic", "source_updated_at": "2025-03-01T08:00:00+08:00",
    }  # fmt: skip


async def propose(registry, auth, uscc: str, body: dict[str, Any], **headers: str) -> Any:
    return await registry.post(
        f"{BASE}/subjects/{uscc}/tag-corrections", json=body, headers={**auth, **headers}
    )


async def decide(registry, auth, correction_id: str, verb: str, note: str | None = None) -> Any:
    body = {"note": note} if note is not None else None
    return await registry.post(
        f"{BASE}/tag-corrections/{correction_id}:{verb}", json=body, headers=auth
    )


async def subject(registry, auth, uscc: str) -> dict[str, Any]:
    answer = await registry.get(f"{BASE}/subjects/{uscc}", headers=auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_an_approved_correction_retags_reindexes_and_recounts_at_once(
    announced, registry, admin, station, reviewer, shops, new_uow, stack
):
    assert await count(registry, admin, shops.food_shops) == 2
    assert await count(registry, admin, shops.restaurants) == 0

    proposed = await propose(registry, station, shops.uscc, shops.proposal())
    assert proposed.status_code == 201, proposed.text
    correction = proposed.json()
    assert (correction["status"], correction["in_force"]) == ("proposed", False)
    assert correction["unit_code"] == STATION
    before = await subject(registry, admin, shops.uscc)
    assert before["tags"]["format"] == [shops.sells], "nothing changes before review"
    assert before["tag_correction"] is None
    awaiting = await registry.get(
        f"{BASE}/tag-corrections",
        params={"status": "proposed", "uscc": shops.uscc},
        headers=reviewer,
    )
    assert [c["correction_id"] for c in awaiting.json()["items"]] == [correction["correction_id"]]

    approved = await decide(registry, reviewer, correction["correction_id"], "approve", "同意")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["in_force"] is True
    assert approved.json()["decided_by"] == "li-county-admin"

    after = await subject(registry, admin, shops.uscc)
    assert after["tags"]["format"] == [shops.serves]
    assert after["tags"]["carrier"] == ["实体"], "tags the correction does not name stay"
    assert shops.restaurants in after["applicable_item_ids"]
    assert shops.food_shops not in after["applicable_item_ids"]
    shown = after["tag_correction"]
    assert (shown["add"], shown["remove"]) == (
        [f"format:{shops.serves}"],
        [f"format:{shops.sells}"],
    )
    assert shown["approved_by"] == "li-county-admin"
    neighbour = await subject(registry, admin, shops.rows[1]["uscc"])
    assert neighbour["tags"]["format"] == [shops.sells], "only the corrected subject moves"

    assert await count(registry, admin, shops.restaurants) == 1
    assert await count(registry, admin, shops.food_shops) == 1
    assert await recount_population(new_uow(), replace=False) == 0, "counts equal a recount"

    [retagged] = [
        change
        for event in await announced("registry.subject.tags_changed.v1")
        for change in event["changes"]
        if change["uscc"] == shops.uscc
    ]
    assert retagged["tags"]["format"] == [shops.serves]
    assert shops.restaurants in retagged["applicable_item_ids"]

    again = await decide(registry, reviewer, correction["correction_id"], "approve")
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/tag-correction-decided"
    assert again.json()["correction_status"] == "approved"
    rejected = await decide(registry, reviewer, correction["correction_id"], "reject", "晚了")
    assert rejected.status_code == 409


async def test_the_correction_holds_under_later_pushes_and_rule_changes_until_replaced(
    announced, catalogue, registry, admin, station, reviewer, pusher, shops, new_uow, stack
):
    correction = (await propose(registry, station, shops.uscc, shops.proposal())).json()
    approved = await decide(registry, reviewer, correction["correction_id"], "approve")
    assert approved.status_code == 200, approved.text

    renamed = {
        **shops.rows[0],
        "name": "开化测试餐馆",
        "source_updated_at": "2025-06-01T08:00:00+08:00",
    }
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(renamed), headers={**pusher, **NDJSON}
    )
    assert pushed.json()["updated"] == 1, pushed.text
    after_push = await subject(registry, admin, shops.uscc)
    assert after_push["name"] == "开化测试餐馆"
    assert after_push["tags"]["format"] == [shops.serves], "a push keeps the correction"
    [upserted] = [
        e
        for e in await announced("registry.subject.upserted.v1")
        if e["uscc"] == shops.uscc and e["version"] == after_push["version"]
    ]
    assert upserted["tags"]["format"] == [shops.serves]

    started = await catalogue.replace_rules([
        {"dimension": "format", "value": shops.sells, "when": {"industry_code_prefixes": ["F52"]}},
        {"dimension": "carrier", "value": "线下", "when": {"has_online_shop": False}},
    ])  # fmt: skip
    await catalogue.settle()
    after_pass = await subject(registry, admin, shops.uscc)
    assert after_pass["classification"] >= started["version"]
    assert after_pass["tags"]["format"] == [shops.serves], "a re-classification keeps it"
    assert after_pass["tags"]["carrier"] == ["线下"], "while the rules' other tags follow them"
    assert shops.restaurants in after_pass["applicable_item_ids"]
    assert await recount_population(new_uow(), replace=False) == 0

    # A later approved correction with nothing to add or remove returns it to the rules.
    lifting = await propose(registry, station, shops.uscc, {"reason": "已改为零售"})
    assert lifting.status_code == 201, lifting.text
    provincial = await decide(registry, admin, lifting.json()["correction_id"], "approve")
    assert provincial.status_code == 200, provincial.text
    back = await subject(registry, admin, shops.uscc)
    assert back["tags"]["format"] == [shops.sells]
    assert back["tag_correction"] is None
    assert shops.food_shops in back["applicable_item_ids"]
    replaced = (
        await registry.get(f"{BASE}/tag-corrections/{correction['correction_id']}", headers=admin)
    ).json()
    assert (replaced["in_force"], replaced["replaced_by"]) == (
        False, lifting.json()["correction_id"],
    )  # fmt: skip
    await catalogue.settle()
    assert (await subject(registry, admin, shops.uscc))["tags"]["format"] == [shops.sells]
    assert await recount_population(new_uow(), replace=False) == 0


async def test_who_may_propose_see_and_decide(registry, admin, station, reviewer, shops, bearer):
    other_station = bearer("station_staff", region=COUNTY, station="330824-02", sub="wang-02")
    refused = await propose(registry, other_station, shops.uscc, shops.proposal())
    assert refused.status_code == 403, "another station's subject"
    no_station = bearer("station_staff", region=COUNTY, sub="zhao-nowhere")
    assert (await propose(registry, no_station, shops.uscc, shops.proposal())).status_code == 403
    assert (await propose(registry, reviewer, shops.uscc, shops.proposal())).status_code == 403
    elsewhere = bearer("station_staff", region="330825", station=STATION, sub="qian-long")
    assert (await propose(registry, elsewhere, shops.uscc, shops.proposal())).status_code == 404
    unknown = await propose(registry, station, "91330824MA00000009", shops.proposal())
    assert unknown.status_code == 404

    proposed = await propose(registry, station, shops.uscc, shops.proposal())
    correction_id = proposed.json()["correction_id"]
    pending = await propose(registry, station, shops.uscc, shops.proposal(reason="再提一次"))
    assert pending.status_code == 409
    assert pending.json()["type"] == "/problems/tag-correction-pending"

    assert (await decide(registry, station, correction_id, "approve")).status_code == 403
    national = bearer("national_admin", region="100000")
    assert (await decide(registry, national, correction_id, "approve")).status_code == 403
    both = bearer(
        "station_staff", "department_admin", region=COUNTY, station=STATION, sub="zhang-station-01"
    )
    own = await decide(registry, both, correction_id, "approve")
    assert own.status_code == 403, "the proposer never reviews their own correction"
    assert "proposer" in own.json()["detail"]
    next_county = bearer("department_admin", region="330825", sub="sun-longyou")
    assert (await decide(registry, next_county, correction_id, "approve")).status_code == 404
    path = f"{BASE}/tag-corrections/{correction_id}"
    assert (await registry.get(path, headers=next_county)).status_code == 404
    assert (await registry.get(path, headers=other_station)).status_code == 404
    assert (await decide(registry, other_station, correction_id, "withdraw")).status_code == 404
    jiangsu = bearer("provincial_admin", region="320000")
    assert (await registry.get(path, headers=jiangsu)).status_code == 403
    assert (await decide(registry, jiangsu, correction_id, "approve")).status_code == 403
    listed = await registry.get(f"{BASE}/tag-corrections", params={"uscc": shops.uscc}, headers=other_station)  # fmt: skip
    assert listed.json()["items"] == [], "another station sees none of this station's"
    inspector = bearer("inspector", region=COUNTY)
    assert (await registry.get(f"{BASE}/tag-corrections", headers=inspector)).status_code == 403
    assert (await registry.get(path, headers=station)).json()["status"] == "proposed"

    colleague = bearer("station_staff", region=COUNTY, station=STATION, sub="chen-01")
    assert (await decide(registry, colleague, correction_id, "withdraw")).status_code == 403
    withdrawn = await decide(registry, station, correction_id, "withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await decide(registry, station, correction_id, "withdraw")).status_code == 409
    assert (await decide(registry, reviewer, correction_id, "approve")).status_code == 409
    after = await subject(registry, admin, shops.uscc)
    assert after["tags"]["format"] == [shops.sells], "a withdrawn correction changes nothing"


async def test_bad_proposals_and_decisions_are_refused_naming_the_field(
    registry, station, reviewer, shops
):
    bad = await propose(
        registry, station, shops.uscc,
        {"add": ["colour:红", "format:餐饮"], "remove": ["format", "format:餐饮"], "reason": "x"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"add[0]", "remove[0]", "remove[1]"}
    no_reason = await propose(registry, station, shops.uscc, {"add": [f"format:{shops.serves}"]})
    assert [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
    blank = await propose(registry, station, shops.uscc, shops.proposal(reason="  "))
    assert [e["field"] for e in blank.json()["errors"]] == ["reason"]
    empty = await propose(registry, station, shops.uscc, {"reason": "无事"})
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "add")
    unknown_key = await propose(registry, station, shops.uscc, shops.proposal(tags=["x"]))
    assert unknown_key.status_code == 422

    proposed = (await propose(registry, station, shops.uscc, shops.proposal())).json()
    no_note = await decide(registry, reviewer, proposed["correction_id"], "reject")
    assert (no_note.status_code, no_note.json()["errors"][0]["field"]) == (422, "body")
    empty_note = await decide(registry, reviewer, proposed["correction_id"], "reject", "")
    assert (empty_note.status_code, empty_note.json()["errors"][0]["field"]) == (422, "note")
    rejected = await decide(registry, reviewer, proposed["correction_id"], "reject", "证照不符")
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == ("rejected", "证照不符")
    bad_status = await registry.get(
        f"{BASE}/tag-corrections", params={"status": "done"}, headers=reviewer
    )
    assert (bad_status.status_code, bad_status.json()["errors"][0]["field"]) == (422, "status")
    missing = await registry.get(f"{BASE}/tag-corrections/{uuid.uuid4()}", headers=reviewer)
    assert missing.status_code == 404


async def test_retries_record_one_proposal_and_one_approval(registry, station, reviewer, shops):
    key = {"Idempotency-Key": f"tc-{uuid.uuid4()}"}
    first = await propose(registry, station, shops.uscc, shops.proposal(), **key)
    retried = await propose(registry, station, shops.uscc, shops.proposal(), **key)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json()["correction_id"] == first.json()["correction_id"]
    assert retried.headers["idempotent-replayed"] == "true"

    correction_id = first.json()["correction_id"]
    answers = await asyncio.gather(
        decide(registry, reviewer, correction_id, "approve"),
        decide(registry, reviewer, correction_id, "approve"),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], "two clicks, one approval"


async def test_an_approval_does_not_wait_for_a_push_in_progress(
    registry, station, reviewer, shops, new_uow
):
    proposed = (await propose(registry, station, shops.uscc, shops.proposal())).json()
    async with new_uow() as pushing:
        await current_classifier(pushing)  # a push holding the current classification
        approved = await asyncio.wait_for(
            decide(registry, reviewer, proposed["correction_id"], "approve"), timeout=30
        )
    assert approved.status_code == 200, "share mode: pushes and approvals run side by side"


async def test_a_push_already_running_keeps_a_correction_approved_meanwhile(
    registry, admin, station, reviewer, pusher, shops, monkeypatch
):
    """The push takes its classifier (and the corrections in force) at its first chunk; an
    approval landing right after must still hold for the subjects the push then rewrites."""
    from shuangsui.registry.service import subjects as subject_service

    proposed = (await propose(registry, station, shops.uscc, shops.proposal())).json()
    taken = subject_service.current_classifier

    async def approve_once_the_push_holds_its_classifier(uow):
        classifier = await taken(uow)
        approved = await decide(registry, reviewer, proposed["correction_id"], "approve")
        assert approved.status_code == 200, approved.text
        return classifier

    monkeypatch.setattr(
        subject_service, "current_classifier", approve_once_the_push_holds_its_classifier
    )
    renamed = {
        **shops.rows[0],
        "name": "开化测试餐馆",
        "source_updated_at": "2025-07-01T08:00:00+08:00",
    }
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(renamed), headers={**pusher, **NDJSON}
    )
    assert pushed.json()["updated"] == 1, pushed.text
    after = await subject(registry, admin, shops.uscc)
    assert after["name"] == "开化测试餐馆"
    assert after["tags"]["format"] == [shops.serves], "the approval is not undone by the push"
    assert shops.restaurants in after["applicable_item_ids"]


async def test_openapi_names_the_correction_operations_with_their_chinese_labels(registry):
    spec = (await registry.get("/openapi.json")).json()
    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    verbs = ("propose", "list", "get", "approve", "reject", "withdraw")
    for verb in verbs:
        assert "标签纠正" in operations[f"registry_tag_corrections_{verb}"]["summary"], verb
    schemas = spec["components"]["schemas"]
    assert schemas["TagCorrectionIn"]["examples"][0]["add"] == ["format:餐饮服务"]
    assert "tag_correction" in schemas["SubjectOut"]["properties"]
