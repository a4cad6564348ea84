"""Item lists through the registry API on real PostgreSQL: versions, adoption, imports, reads.

The national list and Zhejiang's list are each one sequence of versions for the whole session,
so tests share them: `open_draft` reuses or opens the family's draft, effective dates move on
by a day per version, and each test uses item codes of its own.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

BASE = "/api/v1/registry"
AGENCY_CODE = "11330000002482150A1"
FIRST_DATE = {"national": date(2020, 1, 1), "provincial": date(2021, 1, 1)}
HEADERS = ["事项编码", "抽查类别", "抽查事项", "事项类别", "检查对象", "检查方式", "检查主体",
           "检查依据", "监管事项目录编码", "检查实施清单编码"]  # fmt: skip


@pytest.fixture
def zhejiang(mint_token):
    return {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='330000')}"}


def code() -> str:
    return f"T-{uuid.uuid4().hex[:8]}"


def item(item_code: str, **changes: Any) -> dict[str, Any]:
    return {
        "code": item_code, "name": "食品生产者生产行为的检查", "business_line": "食品安全",
        "item_category": "key", "responsible_department": "市场监管部门",
        "legal_basis": ["《中华人民共和国食品安全法》第一百一十条"],
        "subject_types": ["enterprise"], "allowed_methods": ["on_site", "documentary"],
        "iplus_item_code": "11330000000001", "implementation_codes": [AGENCY_CODE], **changes,
    }  # fmt: skip


def sheet(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADERS, *rows])
    return out.getvalue().encode()


def row(item_code: str, **cells: str) -> list[str]:
    values = {
        "事项编码": item_code, "抽查类别": "特种设备", "抽查事项": "电梯使用单位检查",
        "事项类别": "一般", "检查对象": "企业", "检查方式": "现场检查", "检查主体": "市场监管部门",
        "检查依据": "《特种设备安全法》", "监管事项目录编码": "11330000000009",
        "检查实施清单编码": AGENCY_CODE, **cells,
    }  # fmt: skip
    return [values[h] for h in HEADERS]


async def versions(registry, auth, level: str) -> list[dict[str, Any]]:
    answer = await registry.get(
        f"{BASE}/item-lists", params={"level": level, "limit": 500}, headers=auth
    )
    return answer.json()["items"]


async def open_draft(registry, auth, level: str) -> dict[str, Any]:
    found = await versions(registry, auth, level)
    draft = next((v for v in found if v["status"] == "draft"), None)
    if draft is not None:
        return draft
    latest = max((date.fromisoformat(v["effective_from"]) for v in found), default=None)
    effective = latest + timedelta(days=1) if latest else FIRST_DATE[level]
    answer = await registry.post(
        f"{BASE}/item-lists", json={"level": level, "effective_from": str(effective)}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def publish(registry, auth, list_id: str) -> dict[str, Any]:
    etag = (await registry.get(f"{BASE}/item-lists/{list_id}", headers=auth)).headers["etag"]
    answer = await registry.post(
        f"{BASE}/item-lists/{list_id}:publish", headers={**auth, "If-Match": etag}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def published_national(registry, national) -> dict[str, Any]:
    draft = await open_draft(registry, national, "national")
    added = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items", json=item(code()), headers=national
    )
    assert added.status_code == 201, added.text
    return await publish(registry, national, draft["list_id"])


async def items_of(registry, list_id: str, auth=None) -> list[dict[str, Any]]:
    answer = await registry.get(
        f"{BASE}/item-lists/{list_id}/items", params={"limit": 500}, headers=auth or {}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def import_csv(registry, auth, list_id, body: bytes, mode="atomic", **headers: str):
    return await registry.post(
        f"{BASE}/item-lists/{list_id}/items:import", params={"mode": mode}, content=body,
        headers={**auth, "Content-Type": "text/csv", **headers},
    )  # fmt: skip


async def outbox(stack, subject: str, version: int | None = 1) -> list[dict[str, Any]]:
    """The aggregate's envelopes of one version (None: all), oldest first, each with the
    transaction that recorded it (`recorded_in`): v2 is recorded beside v1 (tests at the end)."""
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        rows = await conn.fetch(
            "SELECT envelope, xmin::text AS tx FROM outbox WHERE envelope->>'subject' = $1 "
            "AND envelope->>'type' LIKE '%.v' || $2 ORDER BY seq",
            subject,
            "%" if version is None else str(version),
        )
    finally:
        await conn.close()
    return [{**json.loads(r["envelope"]), "recorded_in": r["tx"]} for r in rows]


async def test_published_list_is_public_and_its_events_are_in_the_outbox(registry, national, stack):
    draft = await open_draft(registry, national, "national")
    mine = code()
    added = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items", json=item(mine), headers=national
    )
    assert (await registry.get(f"{BASE}/item-lists/{draft['list_id']}")).status_code == 404
    listed = await registry.get(f"{BASE}/item-lists", params={"level": "national", "limit": 500})
    assert draft["list_id"] not in {v["list_id"] for v in listed.json()["items"]}

    done = await publish(registry, national, draft["list_id"])

    assert done["status"] == "published"
    assert done["published_at"]
    public = await items_of(registry, draft["list_id"])
    assert mine in {i["code"] for i in public}
    [list_event] = await outbox(stack, draft["list_id"])
    assert list_event["type"] == "registry.item_list.published.v1"
    assert added.json()["item_id"] in list_event["data"]["item_ids"]
    [item_event] = await outbox(stack, added.json()["item_id"])
    assert item_event["type"] == "registry.item.upserted.v1"
    assert item_event["data"]["iplus_item_code"] == "11330000000001"
    assert item_event["data"]["list_id"] == draft["list_id"]


async def test_adjustment_publishes_a_new_version_and_the_old_stays_readable(registry, national):
    v1 = await published_national(registry, national)
    v2 = await open_draft(registry, national, "national")
    assert v2["version"] == v1["version"] + 1
    assert v2["based_on_list_id"] == v1["list_id"]
    target = (await items_of(registry, v2["list_id"], national))[0]
    changed = await registry.put(
        f"{BASE}/item-lists/{v2['list_id']}/items/{target['item_id']}",
        json=item(target["code"], name="调整后的事项"),
        headers={**national, "If-Match": f'"{target["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    await publish(registry, national, v2["list_id"])

    old = {i["item_id"]: i["name"] for i in await items_of(registry, v1["list_id"])}
    assert old[target["item_id"]] == target["name"] != "调整后的事项"
    in_force_then = await registry.get(
        f"{BASE}/items", params={"on": v1["effective_from"], "limit": 500}
    )
    in_force_now = await registry.get(
        f"{BASE}/items", params={"on": v2["effective_from"], "limit": 500}
    )
    assert {i["list_id"] for i in in_force_then.json()["items"]} == {v1["list_id"]}
    now = {i["item_id"]: i["name"] for i in in_force_now.json()["items"]}
    assert now[target["item_id"]] == "调整后的事项"


async def test_provincial_list_adopts_the_national_items_and_adds_its_own(
    registry, national, zhejiang
):
    await published_national(registry, national)
    draft = await open_draft(registry, zhejiang, "provincial")
    adopted = await items_of(registry, draft["list_id"], zhejiang)
    national_items = await items_of(registry, draft["adopted_list_id"])
    assert {(i["item_id"], i["code"]) for i in national_items} <= {
        (i["item_id"], i["code"]) for i in adopted if i["origin"] == "national"
    }

    one_of_them = next(i for i in adopted if i["origin"] == "national")
    refused = await registry.put(
        f"{BASE}/item-lists/{draft['list_id']}/items/{one_of_them['item_id']}",
        json=item(one_of_them["code"], name="省里改名"),
        headers={**zhejiang, "If-Match": f'"{one_of_them["version"]}"'},
    )
    assert refused.status_code == 409
    local = code()
    body = item(local, item_category="general", allowed_methods=["online"])
    assert (
        await registry.post(
            f"{BASE}/item-lists/{draft['list_id']}/items", json=body, headers=zhejiang
        )
    ).status_code == 201
    published = await publish(registry, zhejiang, draft["list_id"])

    on = {"region": "330106", "on": published["effective_from"], "limit": 500}
    everything = await registry.get(f"{BASE}/items", params=on)
    in_force = {i["code"] for i in everything.json()["items"]}
    assert {i["code"] for i in national_items} | {local} <= in_force
    online = await registry.get(
        f"{BASE}/items", params={**on, "method": "online", "category": "general"}
    )
    assert local in {i["code"] for i in online.json()["items"]}
    assert all("online" in i["allowed_methods"] for i in online.json()["items"])


async def test_a_published_version_cannot_change(registry, national):
    v = await published_national(registry, national)
    added = await registry.post(
        f"{BASE}/item-lists/{v['list_id']}/items", json=item(code()), headers=national
    )
    assert added.status_code == 409
    assert added.json()["type"] == "/problems/item-list-published"
    again = await registry.post(
        f"{BASE}/item-lists/{v['list_id']}:publish", headers={**national, "If-Match": "*"}
    )
    assert again.status_code == 409


async def test_item_update_needs_a_current_if_match(registry, zhejiang, national):
    await published_national(registry, national)
    draft = await open_draft(registry, zhejiang, "provincial")
    added = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items", json=item(code()), headers=zhejiang
    )
    url = f"{BASE}/item-lists/{draft['list_id']}/items/{added.json()['item_id']}"
    body = item(added.json()["code"], name="新名称")
    assert (await registry.put(url, json=body, headers=zhejiang)).status_code == 428
    stale = await registry.put(url, json=body, headers={**zhejiang, "If-Match": '"99"'})
    assert stale.status_code == 412
    fresh = await registry.put(
        url, json=body, headers={**zhejiang, "If-Match": added.headers["etag"]}
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'


async def test_other_provinces_and_other_roles_cannot_touch_the_draft(
    registry, national, zhejiang, mint_token
):
    await published_national(registry, national)
    draft = await open_draft(registry, zhejiang, "provincial")
    url = f"{BASE}/item-lists/{draft['list_id']}/items"
    for roles, region in ((["provincial_admin"], "440000"), (["inspector"], "330000")):
        other = {"Authorization": f"Bearer {mint_token(roles=roles, region=region)}"}
        assert (await registry.post(url, json=item(code()), headers=other)).status_code == 403
    assert (await registry.post(url, json=item(code()), headers=national)).status_code == 403
    assert (await registry.get(url)).status_code == 404


async def test_bad_item_fields_are_named(registry, national):
    draft = await open_draft(registry, national, "national")
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items",
        json=item(code(), iplus_item_code="123", allowed_methods=["flying"]),
        headers=national,
    )
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} >= {
        "iplus_item_code",
        "allowed_methods[0]",
    }


async def test_atomic_import_with_a_bad_row_applies_nothing(registry, national):
    draft = await open_draft(registry, national, "national")
    before = len(await items_of(registry, draft["list_id"], national))
    dup = code()
    body = sheet(
        row(code()),
        row(code(), 监管事项目录编码="1133000000000X"),
        row(code(), 检查方式="飞行检查", 事项类别="特别"),
        row(dup),
        row(dup),
    )
    answer = await import_csv(registry, national, draft["list_id"], body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "/problems/batch-rejected"
    # The refusal is the report of every bulk write: each row error has its line and key.
    assert {(e["line"], e["field"]) for e in answer.json()["errors"]} == {
        (3, "iplus_item_code"), (4, "allowed_methods"), (4, "item_category"), (6, "code"),
    }  # fmt: skip
    assert (answer.json()["received"], answer.json()["rejected"]) == (5, 3)
    assert len(await items_of(registry, draft["list_id"], national)) == before


async def test_per_row_import_applies_the_good_rows(registry, national):
    draft = await open_draft(registry, national, "national")
    good, bad = code(), code()
    body = sheet(row(good), row(bad, 检查对象="外星人"))
    answer = await import_csv(registry, national, draft["list_id"], body, mode="per_row")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    [error] = report["errors"]
    assert (error["line"], error["key"], error["field"]) == (3, bad, "subject_types")
    assert error["reason"].startswith("检查对象: ")
    assert good in {i["code"] for i in await items_of(registry, draft["list_id"], national)}


async def test_import_refuses_other_content_types(registry, national):
    draft = await open_draft(registry, national, "national")
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items:import",
        json=[item(code())],
        headers=national,
    )
    assert answer.status_code == 415
    assert answer.json()["type"] == "/problems/unsupported-media-type"


async def test_import_retry_with_the_same_key_is_answered_once(registry, national):
    draft = await open_draft(registry, national, "national")
    body = sheet(row(code()))
    key = {"Idempotency-Key": code()}
    first = await import_csv(registry, national, draft["list_id"], body, **key)
    again = await import_csv(registry, national, draft["list_id"], body, **key)
    assert first.json()["created"] == 1
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_export_imports_back_unchanged(registry, national, fmt):
    v = await published_national(registry, national)
    exported = await registry.get(
        f"{BASE}/item-lists/{v['list_id']}/export", params={"format": fmt}
    )
    assert exported.status_code == 200
    if fmt == "csv":
        assert exported.content.startswith(
            b"\xef\xbb\xbf\xe4\xba\x8b\xe9\xa1\xb9\xe7\xbc\x96\xe7\xa0\x81"
        )
    draft = await open_draft(registry, national, "national")
    kind = "text/csv" if fmt == "csv" else exported.headers["content-type"]
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items:import",
        content=exported.content,
        headers={**national, "Content-Type": kind},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["received"] == len(await items_of(registry, v["list_id"]))
    assert (report["created"], report["updated"], report["rejected"]) == (0, 0, 0)


async def test_items_in_force_are_paged_by_cursor(registry, national):
    v = await published_national(registry, national)
    seen: list[str] = []
    params: dict[str, Any] = {"on": v["effective_from"], "limit": 1}
    while True:
        page = (await registry.get(f"{BASE}/items", params=params)).json()
        seen += [i["code"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(await items_of(registry, v["list_id"]))


async def test_work_guide_versions_are_published_with_an_event(registry, national, stack):
    v = await published_national(registry, national)
    target = (await items_of(registry, v["list_id"]))[0]["item_id"]
    guide = {"steps": [{"title": "核查许可证件", "checkpoints": ["许可证在有效期内"]}]}
    drafted = await registry.post(f"{BASE}/items/{target}/guides", json=guide, headers=national)
    assert drafted.status_code == 201, drafted.text
    version = drafted.json()["version"]
    assert (await registry.get(f"{BASE}/items/{target}/guides/{version}")).status_code == 404
    done = await registry.post(f"{BASE}/items/{target}/guides/{version}:publish", headers=national)
    assert done.status_code == 200, done.text
    public = await registry.get(f"{BASE}/items/{target}/guides")
    assert version in {g["version"] for g in public.json()}
    [event] = await outbox(stack, drafted.json()["guide_id"])
    assert event["type"] == "registry.guide.published.v1"
    assert event["data"]["version"] == version


async def test_openapi_names_the_item_operations(registry):
    spec = (await registry.get("/openapi.json")).json()
    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    assert "registry_items_list" in operations
    assert operations["registry_item_lists_publish"]["summary"].startswith("发布抽查事项清单")
    import_body = operations["registry_item_list_items_import"]["requestBody"]["content"]
    assert set(import_body) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


# ---- required qualification (所需执法资格, R17) ----------------------------------------------

QUALIFIED_HEADERS = [*HEADERS, "所需执法资格"]


def sheet_with(headers: list[str], *rows: dict[str, str]) -> bytes:
    """A CSV with these columns: each row the standard one for its code, with `cells` on top."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for cells in rows:
        base = dict(zip(HEADERS, row(cells["事项编码"]), strict=True))
        writer.writerow([{**base, **cells}.get(h, "") for h in headers])
    return out.getvalue().encode()


def qualified_sheet(*rows: dict[str, str]) -> bytes:
    return sheet_with(QUALIFIED_HEADERS, *rows)


async def add(registry, auth, list_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await registry.post(f"{BASE}/item-lists/{list_id}/items", json=body, headers=auth)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def fresh_provincial_draft(registry, zhejiang) -> dict[str, Any]:
    """A Zhejiang draft opened after the latest national publication, so it adopts it."""
    found = await versions(registry, zhejiang, "provincial")
    pending = next((v for v in found if v["status"] == "draft"), None)
    if pending is not None:
        await publish(registry, zhejiang, pending["list_id"])
    return await open_draft(registry, zhejiang, "provincial")


async def test_an_item_requires_one_qualification_or_none(registry, national):
    draft = await open_draft(registry, national, "national")
    food = await add(registry, national, draft["list_id"],
                     item(code(), required_qualification=" food_safety "))  # fmt: skip
    anyone = await add(registry, national, draft["list_id"], item(code()))

    assert food["required_qualification"] == "food_safety"
    assert anyone["required_qualification"] is None
    stored = {i["item_id"]: i for i in await items_of(registry, draft["list_id"], national)}
    assert stored[food["item_id"]]["required_qualification"] == "food_safety"
    assert stored[anyone["item_id"]]["required_qualification"] is None


async def test_a_changed_item_can_drop_its_qualification(registry, national):
    draft = await open_draft(registry, national, "national")
    mine = code()
    added = await add(registry, national, draft["list_id"],
                      item(mine, required_qualification="special_equipment"))  # fmt: skip
    changed = await registry.put(
        f"{BASE}/item-lists/{draft['list_id']}/items/{added['item_id']}",
        json=item(mine, required_qualification=None),
        headers={**national, "If-Match": f'"{added["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["required_qualification"] is None
    assert changed.json()["version"] == 2


@pytest.mark.parametrize(
    "qualification",
    ["food_safety;drug_inspection", "food_safety、pricing", "x" * 61],
    ids=["two codes", "two codes in office words", "too long"],
)
async def test_a_bad_qualification_is_refused_naming_the_field(registry, national, qualification):
    draft = await open_draft(registry, national, "national")
    before = len(await items_of(registry, draft["list_id"], national))
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items",
        json=item(code(), required_qualification=qualification),
        headers=national,
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["required_qualification"]
    assert len(await items_of(registry, draft["list_id"], national)) == before


async def test_imported_qualifications_export_and_import_back_unchanged(registry, national):
    draft = await open_draft(registry, national, "national")
    food, anyone = code(), code()
    body = qualified_sheet({"事项编码": food, "所需执法资格": "food_safety"}, {"事项编码": anyone})
    imported = await import_csv(registry, national, draft["list_id"], body)
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 2

    exported = await registry.get(
        f"{BASE}/item-lists/{draft['list_id']}/export", params={"format": "csv"}, headers=national
    )
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    by_code = {r["事项编码"]: r for r in rows}
    assert (by_code[food]["所需执法资格"], by_code[anyone]["所需执法资格"]) == ("food_safety", "")

    again = await import_csv(registry, national, draft["list_id"], exported.content)
    assert again.status_code == 200, again.text
    report = again.json()
    assert (report["created"], report["updated"], report["rejected"]) == (0, 0, 0)
    assert report["unchanged"] == len(rows)


async def test_an_import_changing_only_the_qualification_updates_the_item(registry, national):
    draft = await open_draft(registry, national, "national")
    mine = code()
    first = await import_csv(registry, national, draft["list_id"],
                             qualified_sheet({"事项编码": mine}))  # fmt: skip
    assert first.json()["created"] == 1
    body = qualified_sheet({"事项编码": mine, "所需执法资格": "industrial_product"})
    changed = await import_csv(registry, national, draft["list_id"], body)
    assert (changed.json()["updated"], changed.json()["unchanged"]) == (1, 0)
    retried = await import_csv(registry, national, draft["list_id"], body)
    assert (retried.json()["updated"], retried.json()["unchanged"]) == (0, 1)
    stored = {i["code"]: i for i in await items_of(registry, draft["list_id"], national)}
    assert stored[mine]["required_qualification"] == "industrial_product"
    assert stored[mine]["version"] == 2


async def test_an_imported_row_with_two_qualifications_is_rejected_naming_the_column(
    registry, national
):
    draft = await open_draft(registry, national, "national")
    body = qualified_sheet({"事项编码": code(), "所需执法资格": "food_safety、drug_inspection"})
    answer = await import_csv(registry, national, draft["list_id"], body, mode="per_row")
    assert answer.status_code == 200, answer.text
    [error] = answer.json()["errors"]
    assert (error["line"], error["field"]) == (2, "required_qualification")
    assert error["reason"].startswith("所需执法资格: ")
    assert answer.json()["created"] == 0


async def test_adopted_national_items_keep_their_qualification_and_the_province_cannot_change_it(
    registry, national, zhejiang, stack
):
    draft = await open_draft(registry, national, "national")
    mine = code()
    national_item = await add(registry, national, draft["list_id"],
                              item(mine, required_qualification="drug_inspection"))  # fmt: skip
    await publish(registry, national, draft["list_id"])

    provincial = await fresh_provincial_draft(registry, zhejiang)
    adopted = {i["code"]: i for i in await items_of(registry, provincial["list_id"], zhejiang)}
    assert adopted[mine]["origin"] == "national"
    assert adopted[mine]["required_qualification"] == "drug_inspection"

    # A province adopts national items unchanged (R1), their qualification included.
    body = qualified_sheet({"事项编码": mine, "所需执法资格": "pricing"})
    refused = await import_csv(registry, zhejiang, provincial["list_id"], body, mode="per_row")
    assert [(e["field"], e["line"], e["key"]) for e in refused.json()["errors"]] == [
        ("code", 2, mine)
    ]
    await publish(registry, zhejiang, provincial["list_id"])

    events = await outbox(stack, national_item["item_id"])
    in_province = [e for e in events if e["data"]["list_id"] == provincial["list_id"]]
    assert [e["data"]["required_qualification"] for e in in_province] == ["drug_inspection"]


async def test_the_published_item_event_carries_content_and_qualification(
    registry, national, stack
):
    from shuangsui.contracts.events.registry_items import ItemUpserted

    draft = await open_draft(registry, national, "national")
    food = await add(registry, national, draft["list_id"], item(
        code(), content="进货查验、生产过程控制", required_qualification="food_safety"
    ))  # fmt: skip
    anyone = await add(registry, national, draft["list_id"], item(code()))
    await publish(registry, national, draft["list_id"])

    [food_event] = await outbox(stack, food["item_id"])
    [anyone_event] = await outbox(stack, anyone["item_id"])
    carried = ItemUpserted.model_validate(food_event["data"])
    assert (carried.content, carried.required_qualification) == (
        "进货查验、生产过程控制", "food_safety"
    )  # fmt: skip
    plain = ItemUpserted.model_validate(anyone_event["data"])
    assert (plain.content, plain.required_qualification) == ("", None)


async def test_an_older_template_without_a_column_keeps_what_the_item_holds(registry, national):
    """A file without the 适用标签 / 所需执法资格 / 检查内容 columns says nothing about them; a blank
    cell in a column that is there clears it."""
    draft = await open_draft(registry, national, "national")
    mine = code()
    await add(registry, national, draft["list_id"], item(
        mine, required_qualification="food_safety", subject_tags=["format:餐饮服务"],
        content="原有检查内容"))  # fmt: skip
    renamed = await import_csv(
        registry, national, draft["list_id"], sheet(row(mine, 抽查事项="餐饮服务单位检查"))
    )
    assert renamed.json()["updated"] == 1, renamed.text
    [kept] = [i for i in await items_of(registry, draft["list_id"], national) if i["code"] == mine]
    assert kept["name"] == "餐饮服务单位检查"
    assert (kept["required_qualification"], kept["subject_tags"], kept["content"]) == (
        "food_safety",
        ["format:餐饮服务"],
        "原有检查内容",
    )
    cleared = await import_csv(
        registry, national, draft["list_id"], qualified_sheet({"事项编码": mine})
    )
    assert cleared.json()["updated"] == 1, cleared.text
    [now] = [i for i in await items_of(registry, draft["list_id"], national) if i["code"] == mine]
    assert now["required_qualification"] is None, "the column is there and blank: cleared"
    assert now["subject_tags"] == ["format:餐饮服务"], "still absent from this file: kept"


# ---- joint cross-department items (发起部门, 配合部门, 抽查层级; R20) ------------------------------

JOINT_HEADERS = [*HEADERS, "发起部门", "配合部门", "抽查层级"]


def joint_sheet(*rows: dict[str, str]) -> bytes:
    return sheet_with(JOINT_HEADERS, *rows)


def lead() -> str:
    """A lead department of this test only, so filters by it see this test's items alone."""
    return f"住房城乡建设部门{uuid.uuid4().hex[:8]}"


def joint_columns(item_: dict[str, Any]) -> tuple[Any, Any, Any]:
    return item_["lead_department"], item_["partner_departments"], item_["inspection_level"]


async def test_a_joint_item_keeps_its_departments_and_level_through_create_update_and_read(
    registry, national
):
    draft = await open_draft(registry, national, "national")
    leader, mine, plain = lead(), code(), code()
    created = await add(registry, national, draft["list_id"], item(
        mine, lead_department=f" {leader} ", inspection_level="city",
        partner_departments=["市场监管部门", " 应急管理部门 ", "市场监管部门"],
    ))  # fmt: skip
    single = await add(registry, national, draft["list_id"], item(plain))

    assert joint_columns(created) == (leader, ["市场监管部门", "应急管理部门"], "city")
    assert created["joint"] is True
    assert (joint_columns(single), single["joint"]) == ((None, [], None), False)
    stored = {i["code"]: i for i in await items_of(registry, draft["list_id"], national)}
    assert joint_columns(stored[mine]) == joint_columns(created)

    changed = await registry.put(
        f"{BASE}/item-lists/{draft['list_id']}/items/{created['item_id']}",
        json=item(mine, lead_department=leader, inspection_level="county"),
        headers={**national, "If-Match": f'"{created["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert joint_columns(changed.json()) == (leader, [], "county")
    assert changed.json()["joint"] is False


async def test_items_of_a_version_filter_by_joint_and_lead_department(registry, national):
    draft = await open_draft(registry, national, "national")
    leader, joint_code, led_alone, plain = lead(), code(), code(), code()
    await add(
        registry,
        national,
        draft["list_id"],
        item(joint_code, lead_department=leader, partner_departments=["市场监管部门"]),
    )
    await add(registry, national, draft["list_id"], item(led_alone, lead_department=leader))
    await add(registry, national, draft["list_id"], item(plain))
    url = f"{BASE}/item-lists/{draft['list_id']}/items"

    async def codes(**params: Any) -> set[str]:
        answer = await registry.get(url, params={"limit": 500, **params}, headers=national)
        assert answer.status_code == 200, answer.text
        assert all(i["joint"] == (i["partner_departments"] != []) for i in answer.json()["items"])
        return {i["code"] for i in answer.json()["items"]}

    joint_items, single_items = await codes(joint="true"), await codes(joint="false")
    assert joint_code in joint_items
    assert not {led_alone, plain} & joint_items, "led alone or not at all: not joint"
    assert {led_alone, plain} <= single_items
    assert joint_code not in single_items
    assert await codes(lead_department=leader) == {joint_code, led_alone}
    assert await codes(lead_department=f" {leader} ", joint="true") == {joint_code}
    refused = await registry.get(url, params={"joint": "maybe"}, headers=national)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["joint"]


async def test_a_joint_item_without_a_lead_department_is_refused_naming_it(registry, national):
    draft = await open_draft(registry, national, "national")
    before = len(await items_of(registry, draft["list_id"], national))
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items",
        json=item(code(), partner_departments=["市场监管部门"]),
        headers=national,
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["lead_department"]
    assert len(await items_of(registry, draft["list_id"], national)) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"inspection_level": "township"}, "inspection_level"),
        ({"inspection_level": "市级"}, "inspection_level"),
        ({"lead_department": "部" * 51}, "lead_department"),
        ({"partner_departments": ["部" * 51]}, "partner_departments[0]"),
        ({"partner_departments": [f"部门{n}" for n in range(21)]}, "partner_departments"),
        ({"partner_departments": ["市场监管、应急管理部门"]}, "partner_departments"),
    ],
    ids=[
        "unknown level",
        "level in office words",
        "long lead",
        "long partner",
        "21 partners",
        "two partners in one name",
    ],
)
async def test_bad_joint_fields_are_refused_naming_the_field(registry, national, changes, field):
    draft = await open_draft(registry, national, "national")
    answer = await registry.post(
        f"{BASE}/item-lists/{draft['list_id']}/items",
        json=item(code(), **{"lead_department": "住房城乡建设部门", **changes}),
        headers=national,
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_joint_columns_import_export_and_import_back_unchanged(registry, national):
    draft = await open_draft(registry, national, "national")
    leader, city, county, plain = lead(), code(), code(), code()
    body = joint_sheet(
        {"事项编码": city, "发起部门": leader, "配合部门": "市场监管部门、应急管理部门",
         "抽查层级": "市级"},
        {"事项编码": county, "发起部门": leader, "配合部门": "市场监管部门；生态环境部门",
         "抽查层级": "县"},
        {"事项编码": plain},
    )  # fmt: skip
    key = {"Idempotency-Key": code()}
    imported = await import_csv(registry, national, draft["list_id"], body, **key)
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 3
    retried = await import_csv(registry, national, draft["list_id"], body, **key)
    assert retried.json() == imported.json()
    assert retried.headers["idempotent-replayed"] == "true"

    stored = {i["code"]: i for i in await items_of(registry, draft["list_id"], national)}
    assert joint_columns(stored[city]) == (leader, ["市场监管部门", "应急管理部门"], "city")
    assert joint_columns(stored[county]) == (leader, ["市场监管部门", "生态环境部门"], "county")
    assert joint_columns(stored[plain]) == (None, [], None)

    exported = await registry.get(
        f"{BASE}/item-lists/{draft['list_id']}/export", params={"format": "csv"}, headers=national
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    by_code = {r["事项编码"]: r for r in rows}
    assert [by_code[city][h] for h in ("发起部门", "配合部门", "抽查层级")] == [
        leader, "市场监管部门、应急管理部门", "市级"
    ]  # fmt: skip
    assert [by_code[plain][h] for h in ("发起部门", "配合部门", "抽查层级")] == ["", "", ""]

    again = await import_csv(registry, national, draft["list_id"], exported.content)
    assert again.status_code == 200, again.text
    report = again.json()
    assert (report["created"], report["updated"], report["rejected"]) == (0, 0, 0)
    assert report["unchanged"] == len(rows)


async def test_imported_joint_rows_without_a_lead_or_with_an_unknown_level_are_rejected(
    registry, national
):
    draft = await open_draft(registry, national, "national")
    body = joint_sheet(
        {"事项编码": code(), "配合部门": "市场监管部门"},
        {"事项编码": code(), "发起部门": "市场监管部门", "抽查层级": "乡镇级"},
    )
    before = len(await items_of(registry, draft["list_id"], national))
    atomic = await import_csv(registry, national, draft["list_id"], body)
    assert atomic.status_code == 422, atomic.text
    assert {(e["line"], e["field"]) for e in atomic.json()["errors"]} == {
        (2, "lead_department"), (3, "inspection_level")
    }  # fmt: skip
    per_row = await import_csv(registry, national, draft["list_id"], body, mode="per_row")
    assert [
        (e["line"], e["field"], e["reason"].split(": ", 1)[0]) for e in per_row.json()["errors"]
    ] == [(2, "lead_department", "发起部门"), (3, "inspection_level", "抽查层级")]
    assert len(await items_of(registry, draft["list_id"], national)) == before


async def test_a_file_without_the_joint_columns_keeps_them_and_a_blank_cell_clears_them(
    registry, national
):
    draft = await open_draft(registry, national, "national")
    leader, mine = lead(), code()
    await add(registry, national, draft["list_id"], item(
        mine, lead_department=leader, partner_departments=["市场监管部门"],
        inspection_level="provincial",
    ))  # fmt: skip
    renamed = await import_csv(
        registry, national, draft["list_id"], sheet(row(mine, 抽查事项="联合检查改名"))
    )
    assert renamed.json()["updated"] == 1, renamed.text
    [kept] = [i for i in await items_of(registry, draft["list_id"], national) if i["code"] == mine]
    assert kept["name"] == "联合检查改名"
    assert joint_columns(kept) == (leader, ["市场监管部门"], "provincial")

    cleared = await import_csv(
        registry,
        national,
        draft["list_id"],
        joint_sheet({"事项编码": mine, "抽查事项": "联合检查改名"}),
    )
    assert cleared.json()["updated"] == 1, cleared.text
    [now] = [i for i in await items_of(registry, draft["list_id"], national) if i["code"] == mine]
    assert joint_columns(now) == (None, [], None)


async def test_other_provinces_and_other_roles_cannot_import_joint_items_into_zhejiang(
    registry, national, zhejiang, mint_token
):
    await published_national(registry, national)
    draft = await open_draft(registry, zhejiang, "provincial")
    mine = code()
    body = joint_sheet({"事项编码": mine, "发起部门": lead(), "配合部门": "市场监管部门"})
    # Zhejiang's platform refuses another province's token outright; a Zhejiang inspector may
    # not write the list, and does not see its draft.
    for roles, region, reading in (
        (["provincial_admin"], "440000", 403),
        (["inspector"], "330000", 404),
    ):
        other = {"Authorization": f"Bearer {mint_token(roles=roles, region=region)}"}
        answer = await import_csv(registry, other, draft["list_id"], body)
        assert answer.status_code == 403, (roles, region, answer.text)
        listed = await registry.get(
            f"{BASE}/item-lists/{draft['list_id']}/items", params={"joint": "true"}, headers=other
        )
        assert listed.status_code == reading, (roles, region, listed.text)
    assert mine not in {i["code"] for i in await items_of(registry, draft["list_id"], zhejiang)}


async def test_adopted_national_joint_items_keep_their_departments_and_level(
    registry, national, zhejiang
):
    draft = await open_draft(registry, national, "national")
    leader, mine = lead(), code()
    await add(registry, national, draft["list_id"], item(
        mine, lead_department=leader, partner_departments=["市场监管部门", "应急管理部门"],
        inspection_level="national",
    ))  # fmt: skip
    await publish(registry, national, draft["list_id"])

    provincial = await fresh_provincial_draft(registry, zhejiang)
    adopted = {i["code"]: i for i in await items_of(registry, provincial["list_id"], zhejiang)}
    assert adopted[mine]["origin"] == "national"
    assert joint_columns(adopted[mine]) == (leader, ["市场监管部门", "应急管理部门"], "national")

    # Adopted unchanged (R1): the province cannot drop a partner from a national item.
    body = joint_sheet({"事项编码": mine, "发起部门": leader, "配合部门": "市场监管部门"})
    refused = await import_csv(registry, zhejiang, provincial["list_id"], body, mode="per_row")
    assert [(e["field"], e["line"], e["key"]) for e in refused.json()["errors"]] == [
        ("code", 2, mine)
    ]
    published = await publish(registry, zhejiang, provincial["list_id"])

    in_force = await registry.get(
        f"{BASE}/items",
        params={"region": "330106", "on": published["effective_from"], "joint": "true",
                "lead_department": leader, "limit": 500},
    )  # fmt: skip
    assert [i["code"] for i in in_force.json()["items"]] == [mine]
    assert in_force.json()["items"][0]["list_id"] == provincial["list_id"]


# ---- v2 events beside v1 (docs/events.md) ------------------------------------------------


async def test_publishing_records_each_item_as_v1_and_v2_with_the_joint_fields(
    registry, national, zhejiang, stack
):
    from shuangsui.contracts.events.registry_items import ItemUpserted, ItemUpsertedV2

    draft = await open_draft(registry, national, "national")
    leader = lead()
    joint = await add(registry, national, draft["list_id"], item(
        code(), lead_department=leader, partner_departments=["应急管理部门", "市场监管部门"],
        inspection_level="provincial", required_qualification="special_equipment",
        min_ratio="0.05", subject_tags=["format:餐饮服务"], content="电梯维护保养",
    ))  # fmt: skip
    alone = await add(registry, national, draft["list_id"], item(code()))
    await publish(registry, national, draft["list_id"])

    recorded = await outbox(stack, joint["item_id"], version=None)
    assert [e["type"] for e in recorded] == [
        "registry.item.upserted.v1",
        "registry.item.upserted.v2",
    ]
    assert len({e["recorded_in"] for e in recorded}) == 1, "in the publishing transaction"
    [v1] = await outbox(stack, joint["item_id"])
    [v2] = await outbox(stack, joint["item_id"], version=2)
    carried = ItemUpsertedV2.model_validate(v2["data"])
    assert (carried.lead_department, carried.partner_departments, carried.joint) == (
        leader, ["应急管理部门", "市场监管部门"], True
    )  # fmt: skip
    assert (carried.inspection_level, carried.required_qualification) == (
        "provincial", "special_equipment"
    )  # fmt: skip
    assert (carried.list_id, carried.list_level, carried.province) == (
        uuid.UUID(draft["list_id"]), "national", None
    )  # fmt: skip
    assert (carried.code, carried.item_category, carried.allowed_methods) == (
        joint["code"], "key", ["on_site", "documentary"]
    )  # fmt: skip
    assert (carried.min_ratio, carried.content, carried.status) == (0.05, "电梯维护保养", "active")
    assert carried.subject_criteria.subject_tags == ["format:餐饮服务"]
    assert v2["data"]["version"] == joint["version"]
    # v2 is v1 with the joint fields added, under the same names.
    ItemUpserted.model_validate(v1["data"])
    added = {"lead_department", "partner_departments", "joint", "inspection_level"}
    assert {k: v for k, v in v2["data"].items() if k not in added} == v1["data"]

    [single] = await outbox(stack, alone["item_id"], version=2)
    assert {k: single["data"][k] for k in added} == {
        "lead_department": None, "partner_departments": [], "joint": False,
        "inspection_level": None,
    }  # fmt: skip

    # A province adopting the item announces it again, in its own list, joint fields and all.
    provincial = await fresh_provincial_draft(registry, zhejiang)
    await publish(registry, zhejiang, provincial["list_id"])
    in_province = [
        e["data"] for e in await outbox(stack, joint["item_id"], version=2)
        if e["data"]["list_id"] == provincial["list_id"]
    ]  # fmt: skip
    assert [(e["province"], e["origin"], e["lead_department"]) for e in in_province] == [
        ("330000", "national", leader)
    ]


async def test_a_published_guide_is_announced_whole_in_v2_beside_v1(registry, national, stack):
    from shuangsui.contracts.events.registry_items import GuidePublishedV2

    v = await published_national(registry, national)
    target = (await items_of(registry, v["list_id"]))[0]["item_id"]
    form = {
        "type": "object",
        "required": ["licence_valid"],
        "properties": {"licence_valid": {"type": "boolean", "title": "许可证在有效期内"}},
    }
    guide = {
        "steps": [
            {"title": "核查许可证件", "checkpoints": ["许可证在有效期内", "许可范围与经营一致"]},
            {"title": "现场检查", "checkpoints": ["生产环境整洁"]},
        ],
        "evidence_requirements": ["现场照片", "许可证复印件"],
        "record_form_schema": form,
    }
    drafted = await registry.post(f"{BASE}/items/{target}/guides", json=guide, headers=national)
    assert drafted.status_code == 201, drafted.text
    guide_id, version = drafted.json()["guide_id"], drafted.json()["version"]
    assert await outbox(stack, guide_id, version=None) == [], "a draft is not announced"
    done = await registry.post(f"{BASE}/items/{target}/guides/{version}:publish", headers=national)
    assert done.status_code == 200, done.text

    recorded = await outbox(stack, guide_id, version=None)
    assert [e["type"] for e in recorded] == [
        "registry.guide.published.v1",
        "registry.guide.published.v2",
    ]
    assert len({e["recorded_in"] for e in recorded}) == 1, "in the publishing transaction"
    [v1] = await outbox(stack, guide_id)
    [v2] = await outbox(stack, guide_id, version=2)
    carried = GuidePublishedV2.model_validate(v2["data"])
    assert [(s.title, s.checkpoints) for s in carried.steps] == [
        ("核查许可证件", ["许可证在有效期内", "许可范围与经营一致"]), ("现场检查", ["生产环境整洁"])
    ]  # fmt: skip
    assert carried.evidence_requirements == ["现场照片", "许可证复印件"]
    assert carried.record_form_schema == form
    public = (await registry.get(f"{BASE}/items/{target}/guides/{version}")).json()
    assert {k: v2["data"][k] for k in ("steps", "evidence_requirements", "record_form_schema")} == {
        k: public[k] for k in ("steps", "evidence_requirements", "record_form_schema")
    }
    assert {k: v2["data"][k] for k in v1["data"]} == v1["data"]


async def test_a_guide_too_large_for_its_event_is_refused_when_drafted(registry, national):
    v = await published_national(registry, national)
    target = (await items_of(registry, v["list_id"]))[0]["item_id"]
    before = (await registry.get(f"{BASE}/items/{target}/guides", headers=national)).json()
    huge = {"type": "object", "description": "检" * 100_000}  # 300 kB of UTF-8
    answer = await registry.post(
        f"{BASE}/items/{target}/guides",
        json={"steps": [{"title": "核查", "checkpoints": ["要点"]}], "record_form_schema": huge},
        headers=national,
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["record_form_schema"]
    after = (await registry.get(f"{BASE}/items/{target}/guides", headers=national)).json()
    assert after == before
