"""The org directory API against real PostgreSQL: import, upsert, read, list, tree, events."""

from __future__ import annotations

import io
import json
import uuid

import asyncpg
import pytest

BASE = "/api/v1/registry"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = "code,name,level,region_code,parent_code,is_hq\n"


@pytest.fixture
def tag() -> str:
    """A prefix no other test uses: the database lives for the whole session."""
    return f"t{uuid.uuid4().hex[:8]}"


def hierarchy(tag: str) -> str:
    """A province bureau, a city bureau, a county bureau and two stations, stations first:
    parents may come later in the file."""
    return (
        f"{tag}-S1,西湖区市场监督管理局第一市场监管所,station,330106,{tag}-X,false\n"
        f"{tag}-S2,西湖区市场监督管理局第二市场监管所,station,330106,{tag}-X,false\n"
        f"{tag}-X,杭州市西湖区市场监督管理局,county,330106,{tag}-C,true\n"
        f"{tag}-C,杭州市市场监督管理局,city,330100,{tag}-P,true\n"
        f"{tag}-P,浙江省市场监督管理局,provincial,330000,,true\n"
    )


async def upload(registry, headers, body: str | bytes, mode="atomic", content_type=CSV, **extra):
    data = body.encode() if isinstance(body, str) else body
    return await registry.post(
        f"{BASE}/orgs:import",
        params={"mode": mode},
        content=data,
        headers={**headers, "Content-Type": content_type, **extra},
    )


async def imported(registry, headers, tag: str) -> None:
    answer = await upload(registry, headers, HEADER + hierarchy(tag))
    assert answer.status_code == 200, answer.text


async def query(stack, sql: str, *args) -> list:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def station_body(tag: str, **changes) -> dict:
    body = {"name": "西湖区市场监督管理局第三市场监管所", "level": "station",
            "region_code": "330106", "parent_code": f"{tag}-X"}  # fmt: skip
    return {**body, **changes}


# --- import -------------------------------------------------------------------------------------


async def test_csv_import_creates_the_hierarchy_and_records_upserted_events(registry, admin, tag,
                                                                             stack):  # fmt: skip
    answer = await upload(registry, admin, HEADER + hierarchy(tag))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["received"], report["created"], report["rejected"]) == (5, 5, 0)
    events = await query(
        stack,
        "SELECT envelope->'data' AS d FROM outbox WHERE event_type = 'registry.org.upserted.v1' "
        "AND envelope->'data'->>'code' LIKE $1",
        f"{tag}-%",
    )
    data = {d["code"]: d for d in (json.loads(e["d"]) for e in events)}
    assert set(data) == {f"{tag}-{s}" for s in ("S1", "S2", "X", "C", "P")}
    assert data[f"{tag}-S1"]["parent_org_id"] == data[f"{tag}-X"]["org_id"]
    assert (data[f"{tag}-X"]["is_hq"], data[f"{tag}-X"]["version"]) == (True, 1)


async def test_reimporting_the_same_sheet_leaves_orgs_unchanged_and_records_nothing(
    registry, admin, tag, stack
):
    await imported(registry, admin, tag)
    again = await upload(registry, admin, HEADER + hierarchy(tag))
    assert (again.json()["unchanged"], again.json()["created"]) == (5, 0)
    events = await query(
        stack,
        "SELECT 1 FROM outbox WHERE event_type = 'registry.org.upserted.v1' "
        "AND envelope->'data'->>'code' = $1",
        f"{tag}-X",
    )
    assert len(events) == 1


async def test_xlsx_import_reads_chinese_headings_and_level_labels(registry, admin, tag):
    from openpyxl import Workbook

    await imported(registry, admin, tag)
    book = Workbook()
    sheet = book.active
    sheet.append(["机构编码", "机构名称", "层级", "行政区划代码", "上级机构编码", "局机关"])
    sheet.append(
        [f"{tag}-S3", "西湖区市场监督管理局第三市场监管所", "所", 330106, f"{tag}-X", "否"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    answer = await upload(registry, admin, buffer.getvalue(), content_type=XLSX)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1


async def test_atomic_import_with_one_bad_row_applies_nothing(registry, admin, tag, stack):
    body = HEADER + hierarchy(tag) + f"{tag}-S9,第九所,station,330106,{tag}-NOPE,false\n"
    answer = await upload(registry, admin, body)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "/problems/batch-rejected"
    assert problem["applied"] is False
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [(7, "parent_code")]
    assert await query(stack, "SELECT 1 FROM orgs WHERE code LIKE $1", f"{tag}-%") == []


async def test_per_row_import_applies_the_good_rows_and_reports_each_bad_one(registry, admin, tag):
    body = HEADER + hierarchy(tag) + (
        f"{tag} bad,坏编码,station,330106,{tag}-X,false\n"
        f"{tag}-S7,外省的所,station,440106,{tag}-X,false\n"
        f"{tag}-S8,挂在市局下的所,station,330106,{tag}-C,false\n"
        f"{tag}-S9,局机关的所,station,330106,{tag}-X,true\n"
        f"{tag}-Y1,甲,county,330102,{tag}-Y2,true\n"
        f"{tag}-Y2,乙,county,330102,{tag}-Y1,true\n"
    )  # fmt: skip
    answer = await upload(registry, admin, body, mode="per_row")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"], report["applied"]) == (5, 6, True)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (7, "code"), (8, "region_code"), (9, "parent_code"), (10, "is_hq"),
        (11, "parent_code"), (12, "parent_code"),
    ]  # fmt: skip
    assert "its own ancestor" in report["errors"][4]["reason"]


async def test_a_sheet_without_the_required_columns_is_422_naming_them(registry, admin):
    answer = await upload(registry, admin, "hello,world\n1,2\n")
    assert answer.status_code == 422
    assert {"code", "name", "level", "region_code"} <= {e["field"] for e in answer.json()["errors"]}


async def test_wrong_content_type_is_415(registry, admin):
    answer = await upload(registry, admin, "{}", content_type="application/json")
    assert answer.status_code == 415


async def test_a_retried_import_with_the_same_idempotency_key_replays_the_report(
    registry, admin, tag
):
    key = {"Idempotency-Key": f"orgs-{uuid.uuid4()}"}
    first = await upload(registry, admin, HEADER + hierarchy(tag), **key)
    second = await upload(registry, admin, HEADER + hierarchy(tag), **key)
    assert first.json()["created"] == 5
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    reused = await upload(registry, admin, HEADER + hierarchy(f"{tag}b"), **key)
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"


# --- one org ------------------------------------------------------------------------------------


async def test_put_creates_then_replaces_only_with_a_current_if_match(registry, admin, tag, stack):
    await imported(registry, admin, tag)
    url = f"{BASE}/orgs/{tag}-S3"
    created = await registry.put(url, json=station_body(tag), headers=admin)
    assert (created.status_code, created.headers["etag"]) == (201, '"1"'), created.text
    renamed = station_body(tag, name="西湖区市场监督管理局北山市场监管所")
    assert (await registry.put(url, json=renamed, headers=admin)).status_code == 428
    stale = await registry.put(url, json=renamed, headers={**admin, "If-Match": '"7"'})
    assert stale.status_code == 412
    done = await registry.put(url, json=renamed, headers={**admin, "If-Match": '"1"'})
    assert (done.status_code, done.headers["etag"], done.json()["name"]) == (
        200, '"2"', "西湖区市场监督管理局北山市场监管所",
    )  # fmt: skip
    # The same state again changes nothing, so a retry needs no If-Match.
    again = await registry.put(url, json=renamed, headers=admin)
    assert (again.status_code, again.headers["etag"]) == (200, '"2"')
    history = await query(
        stack, "SELECT version, content->>'name' AS name FROM org_history WHERE code = $1 "
        "ORDER BY version", f"{tag}-S3",
    )  # fmt: skip
    assert [(h["version"], h["name"]) for h in history] == [
        (1, "西湖区市场监督管理局第三市场监管所"), (2, "西湖区市场监督管理局北山市场监管所"),
    ]  # fmt: skip


async def test_put_with_if_match_on_a_missing_org_is_412(registry, admin, tag):
    await imported(registry, admin, tag)
    answer = await registry.put(
        f"{BASE}/orgs/{tag}-S4", json=station_body(tag), headers={**admin, "If-Match": '"1"'}
    )
    assert answer.status_code == 412


@pytest.mark.parametrize(
    ("code", "changes", "field"),
    [
        ("bad code!", {}, "code"),
        ("{tag}-S5", {"region_code": "339999"}, "region_code"),
        ("{tag}-S5", {"region_code": "440106"}, "region_code"),
        ("{tag}-S5", {"parent_code": "{tag}-NOPE"}, "parent_code"),
        ("{tag}-S5", {"parent_code": "{tag}-C"}, "parent_code"),
        ("{tag}-S5", {"is_hq": True}, "is_hq"),
        ("{tag}-S5", {"level": "bureau"}, "level"),
    ],
)
async def test_put_refuses_a_bad_org_naming_the_field(registry, admin, tag, code, changes, field):
    await imported(registry, admin, tag)
    changes = {k: v.format(tag=tag) if isinstance(v, str) else v for k, v in changes.items()}
    answer = await registry.put(
        f"{BASE}/orgs/{code.format(tag=tag)}", json=station_body(tag, **changes), headers=admin
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_put_refuses_a_parent_that_would_make_a_cycle(registry, admin, tag):
    await imported(registry, admin, tag)
    city = await registry.get(f"{BASE}/orgs/{tag}-C", headers=admin)
    body = {k: city.json()[k] for k in ("name", "level", "region_code", "is_hq")}
    answer = await registry.put(
        f"{BASE}/orgs/{tag}-C",
        json={**body, "parent_code": f"{tag}-C"},
        headers={**admin, "If-Match": city.headers["etag"]},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["reason"] == f"{tag}-C would become its own ancestor"


# --- reads --------------------------------------------------------------------------------------


async def test_get_answers_with_an_etag_and_the_tree_nests_the_stations(registry, admin, tag):
    await imported(registry, admin, tag)
    one = await registry.get(f"{BASE}/orgs/{tag}-X", headers=admin)
    assert (one.status_code, one.headers["etag"], one.json()["level"]) == (200, '"1"', "county")
    tree = (await registry.get(f"{BASE}/orgs/{tag}-C/tree", headers=admin)).json()
    county = tree["children"][0]
    assert (tree["code"], county["code"], county["is_hq"]) == (f"{tag}-C", f"{tag}-X", True)
    assert [s["code"] for s in county["children"]] == [f"{tag}-S1", f"{tag}-S2"]


async def test_the_tree_leaves_closed_stations_out_unless_asked(registry, admin, tag):
    await imported(registry, admin, tag)
    closed = station_body(tag, name="西湖区市场监督管理局第二市场监管所", status="closed")
    answer = await registry.put(
        f"{BASE}/orgs/{tag}-S2", json=closed, headers={**admin, "If-Match": '"1"'}
    )
    assert answer.status_code == 200, answer.text
    url = f"{BASE}/orgs/{tag}-X/tree"
    active = (await registry.get(url, headers=admin)).json()
    everything = (await registry.get(url, params={"include_closed": "true"}, headers=admin)).json()
    assert [s["code"] for s in active["children"]] == [f"{tag}-S1"]
    assert len(everything["children"]) == 2


async def test_list_filters_by_parent_and_level_and_pages(registry, admin, tag):
    await imported(registry, admin, tag)
    params = {"parent_code": f"{tag}-X", "level": "station", "limit": 1}
    first = (await registry.get(f"{BASE}/orgs", params=params, headers=admin)).json()
    assert [o["code"] for o in first["items"]] == [f"{tag}-S1"]
    params["cursor"] = first["next_cursor"]
    rest = (await registry.get(f"{BASE}/orgs", params=params, headers=admin)).json()
    assert ([o["code"] for o in rest["items"]], rest["next_cursor"]) == ([f"{tag}-S2"], None)


async def test_list_by_region_keeps_orgs_within_it(registry, admin, tag):
    await imported(registry, admin, tag)
    params = {"region_code": "330106", "limit": 500}
    found = (await registry.get(f"{BASE}/orgs", params=params, headers=admin)).json()["items"]
    mine = {o["code"] for o in found if o["code"].startswith(tag)}
    assert mine == {f"{tag}-X", f"{tag}-S1", f"{tag}-S2"}
    bad = await registry.get(f"{BASE}/orgs", params={"region_code": "339999"}, headers=admin)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "region_code")


async def test_a_county_user_sees_its_own_orgs_only(registry, admin, bearer, tag):
    await imported(registry, admin, tag)
    neighbour = bearer("station_staff", region="330102")
    assert (await registry.get(f"{BASE}/orgs/{tag}-X", headers=neighbour)).status_code == 404
    assert (await registry.get(f"{BASE}/orgs/{tag}-X/tree", headers=neighbour)).status_code == 404
    own = bearer("inspector", region="330106")
    assert (await registry.get(f"{BASE}/orgs/{tag}-X", headers=own)).status_code == 200


async def test_an_unknown_org_is_404(registry, admin):
    assert (await registry.get(f"{BASE}/orgs/none-such", headers=admin)).status_code == 404
    assert (await registry.get(f"{BASE}/orgs/none-such/tree", headers=admin)).status_code == 404


# --- who may ------------------------------------------------------------------------------------


async def test_another_province_can_neither_read_nor_write(registry, bearer, tag):
    guangdong = bearer("provincial_admin", region="440000")
    assert (await registry.get(f"{BASE}/orgs", headers=guangdong)).status_code == 403
    assert (await upload(registry, guangdong, HEADER + hierarchy(tag))).status_code == 403
    put = await registry.put(f"{BASE}/orgs/{tag}-S3", json=station_body(tag), headers=guangdong)
    assert put.status_code == 403


@pytest.mark.parametrize("role", ["auditor", "department_admin", "inspector", "station_staff"])
async def test_a_role_without_the_right_cannot_write(registry, bearer, tag, role):
    token = bearer(role)
    assert (await upload(registry, token, HEADER + hierarchy(tag))).status_code == 403
    put = await registry.put(f"{BASE}/orgs/{tag}-P", json=station_body(tag), headers=token)
    assert put.status_code == 403


async def test_an_integrator_needs_the_orgs_push_scope(registry, bearer, tag):
    bare = bearer("integrator", scopes=["registry:subjects:push"])
    granted = bearer("integrator", scopes=["registry:orgs:push"])
    assert (await upload(registry, bare, HEADER + hierarchy(tag))).status_code == 403
    assert (await upload(registry, granted, HEADER + hierarchy(tag))).status_code == 200


async def test_openapi_names_the_operations(registry):
    paths = (await registry.get("/openapi.json")).json()["paths"]
    ids = {op["operationId"] for item in paths.values() for op in item.values()}
    assert {"registry_orgs_upsert", "registry_orgs_get", "registry_orgs_list",
            "registry_org_tree_get", "registry_orgs_import"} <= ids  # fmt: skip
