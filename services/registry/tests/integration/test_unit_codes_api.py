"""Officers' units checked against the org directory, and the operators' list of unit codes in use
that the directory lacks. Real PostgreSQL, through HTTP."""

from __future__ import annotations

import json
import uuid

import pytest

BASE = "/api/v1/registry"
CSV = {"Content-Type": "text/csv"}
ORGS = "code,name,level,region_code,parent_code,is_hq\n"
OFFICERS = "name,unit_code,region_code,station_code,cert_no,cert_valid_until\n"
UNKNOWN = "not in the organisation directory · 单位不在机构名录中"


@pytest.fixture
def tag() -> str:
    """A prefix no other test uses: the database lives for the whole session."""
    return f"u{uuid.uuid4().hex[:8]}"


def cert() -> str:
    return f"U{uuid.uuid4().hex[:12].upper()}"


def officer(unit: str, station: str = "", *, cert_no: str | None = None, region="330106") -> str:
    return f"王芳,{unit},{region},{station},{cert_no or cert()},2027-06-30\n"


async def load_orgs(registry, headers, rows: str) -> None:
    answer = await registry.post(
        f"{BASE}/orgs:import", content=(ORGS + rows).encode(), headers={**headers, **CSV}
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture
async def westlake(registry, admin, tag) -> str:
    """A county bureau of Hangzhou's West Lake district and one of its stations."""
    await load_orgs(
        registry, admin,
        f"{tag}-X,杭州市西湖区市场监督管理局,county,330106,,true\n"
        f"{tag}-S1,西湖区市场监督管理局第一市场监管所,station,330106,{tag}-X,false\n",
    )  # fmt: skip
    return tag


async def import_officers(registry, headers, rows: str, mode="atomic", **extra):
    return await registry.post(
        f"{BASE}/inspectors:import",
        params={"mode": mode},
        content=(OFFICERS + rows).encode(),
        headers={**headers, **CSV, **extra},
    )


async def sync(registry, bearer, records: list[dict], mode="atomic"):
    headers = bearer("integrator", scopes=["registry:inspectors:sync"])
    return await registry.post(
        f"{BASE}/inspectors:sync-justice",
        params={"mode": mode},
        json={"records": records},
        headers=headers,
    )


def justice_record(unit: str, station: str = "", cert_no: str | None = None) -> dict:
    cert_no = cert_no or cert()
    return {"justice_db_ref": f"SF-{cert_no}", "name": "赵磊", "cert_no": cert_no,
            "cert_valid_until": "2028-01-01", "unit_code": unit, "station_code": station,
            "region_code": "330106"}  # fmt: skip


async def officers_with(registry, headers, unit: str) -> list[dict]:
    found = await registry.get(
        f"{BASE}/inspectors", params={"unit_code": unit, "limit": 500}, headers=headers
    )
    assert found.status_code == 200, found.text
    return found.json()["items"]


# --- import and sync ----------------------------------------------------------------------------


async def test_per_row_import_reports_the_row_naming_an_unknown_unit(registry, admin, westlake):
    tag = westlake
    rows = officer(f"{tag}-X", f"{tag}-S1") + officer(f"{tag}-NOPE") + officer(f"{tag}-X", "9")
    answer = await import_officers(registry, admin, rows, mode="per_row")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 2)
    assert [(e["line"], e["field"], e["reason"]) for e in report["errors"]] == [
        (3, "unit_code", f"unknown unit {tag}-NOPE: {UNKNOWN}"),
        (4, "station_code", f"unknown unit 9: {UNKNOWN}"),
    ]


async def test_atomic_import_with_an_unknown_unit_applies_nothing(registry, admin, westlake):
    tag = westlake
    answer = await import_officers(registry, admin, officer(f"{tag}-X") + officer(f"{tag}-GONE"))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert (problem["type"], problem["applied"]) == ("/problems/batch-rejected", False)
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [(3, "unit_code")]
    assert await officers_with(registry, admin, f"{tag}-X") == []


async def test_a_retried_import_replays_its_report_and_adds_no_officer(registry, admin, westlake):
    tag = westlake
    rows = officer(f"{tag}-X") + officer(f"{tag}-NOPE")
    key = {"Idempotency-Key": f"units-{uuid.uuid4()}"}
    first = await import_officers(registry, admin, rows, mode="per_row", **key)
    second = await import_officers(registry, admin, rows, mode="per_row", **key)
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert len(await officers_with(registry, admin, f"{tag}-X")) == 1


async def test_another_provinces_org_is_refused_as_a_unit(registry, admin, national, westlake):
    tag = westlake
    await load_orgs(
        registry, national, f"{tag}-JS,南京市玄武区市场监督管理局,county,320102,,true\n"
    )
    answer = await import_officers(registry, admin, officer(f"{tag}-JS"), mode="per_row")
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [
        ("unit_code", f"unknown unit {tag}-JS: {UNKNOWN}")
    ]


async def test_a_province_without_orgs_loaded_is_not_checked(registry, national, tag):
    # No test loads orgs in Tibet (54): its officers may come before its directory.
    rows = officer(f"{tag}-LS", f"{tag}-LS01", region="540102")
    answer = await import_officers(registry, national, rows)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1


async def test_the_sync_reports_an_unknown_unit_and_applies_the_rest(
    registry, bearer, admin, westlake
):
    tag = westlake
    records = [justice_record(f"{tag}-X", f"{tag}-S1"), justice_record(f"{tag}-X", f"{tag}-S7")]
    answer = await sync(registry, bearer, records, mode="per_row")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"] == [
        {
            "line": 2,
            "key": records[1]["cert_no"],
            "field": "station_code",
            "reason": f"unknown unit {tag}-S7: {UNKNOWN}",
        }
    ]
    stations = [o["station_code"] for o in await officers_with(registry, admin, f"{tag}-X")]
    assert stations == [f"{tag}-S1"]


async def test_the_sync_does_not_merge_a_known_officer_into_an_unknown_unit(
    registry, bearer, admin, westlake
):
    tag = westlake
    cert_no = cert()
    created = await sync(registry, bearer, [justice_record(f"{tag}-X", cert_no=cert_no)])
    assert created.status_code == 200, created.text
    moved = justice_record(f"{tag}-GONE", f"{tag}-S1", cert_no=cert_no)
    answer = await sync(registry, bearer, [moved])
    assert answer.status_code == 422
    assert [(e["line"], e["field"]) for e in answer.json()["errors"]] == [(1, "unit_code")]
    (kept,) = await officers_with(registry, admin, f"{tag}-X")
    assert (kept["station_code"], kept["version"]) == (None, 1)


# --- one officer --------------------------------------------------------------------------------


async def test_patching_an_unknown_station_is_422_naming_the_field(registry, admin, westlake):
    tag = westlake
    assert (await import_officers(registry, admin, officer(f"{tag}-X"))).status_code == 200
    (found,) = await officers_with(registry, admin, f"{tag}-X")
    url = f"{BASE}/inspectors/{found['inspector_id']}"
    refused = await registry.patch(
        url, json={"station_code": f"{tag}-S9"}, headers={**admin, "If-Match": '"1"'}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [
        {"field": "station_code", "reason": f"unknown unit {tag}-S9: {UNKNOWN}"}
    ]
    moved = await registry.patch(
        url, json={"station_code": f"{tag}-S1"}, headers={**admin, "If-Match": '"1"'}
    )
    assert (moved.status_code, moved.json()["station_code"]) == (200, f"{tag}-S1")


# --- unknown units ------------------------------------------------------------------------------


async def push_subjects(registry, pusher, subject_row, units: list[str], region="330106"):
    rows = [subject_row(uuid.uuid4().int % 10**9, unit_code=u, region_code=region) for u in units]
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    answer = await registry.post(
        f"{BASE}/subjects:bulk",
        content=body,
        headers={**pusher, "content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text


async def unknown_units(registry, headers, **params) -> list[dict]:
    """The first page, large enough for what one test adds on top of the others' codes."""
    answer = await registry.get(
        f"{BASE}/orgs:unknown-units", params={"limit": 500, **params}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def mine(items: list[dict], tag: str) -> dict[str, dict]:
    return {i["code"]: i for i in items if i["code"].startswith(tag)}


async def test_unit_codes_missing_from_the_directory_are_listed_with_their_users(
    registry, admin, national, pusher, subject_row, westlake
):
    tag = westlake
    await load_orgs(
        registry, national, f"{tag}-JS,南京市玄武区市场监督管理局,county,320102,,true\n"
    )
    units = [f"{tag}-S1", f"{tag}-GONE", f"{tag}-GONE", f"{tag}-JS"]
    await push_subjects(registry, pusher, subject_row, units)
    found = mine(await unknown_units(registry, admin), tag)
    assert found == {
        f"{tag}-GONE": {"code": f"{tag}-GONE", "subjects": 2, "inspectors": 0},
        f"{tag}-JS": {"code": f"{tag}-JS", "subjects": 1, "inspectors": 0},
    }


async def test_officers_are_counted_once_per_code_they_name(registry, national, tag):
    rows = officer(f"{tag}-LS", f"{tag}-LS01", region="540102") + officer(
        f"{tag}-LS", f"{tag}-LS", region="540102"
    )
    assert (await import_officers(registry, national, rows)).status_code == 200
    found = mine(await unknown_units(registry, national), tag)
    assert {c: u["inspectors"] for c, u in found.items()} == {f"{tag}-LS": 2, f"{tag}-LS01": 1}


async def test_the_list_keeps_to_the_callers_region_and_pages(
    registry, admin, national, bearer, pusher, subject_row, tag
):
    await push_subjects(registry, pusher, subject_row, [f"{tag}-A", f"{tag}-B"])
    await push_subjects(registry, pusher, subject_row, [f"{tag}-NB"], region="330203")
    await import_officers(registry, national, officer(f"{tag}-LS", region="540102"))
    assert set(mine(await unknown_units(registry, admin), tag)) == {
        f"{tag}-A", f"{tag}-B", f"{tag}-NB",
    }  # fmt: skip
    hangzhou = bearer("department_admin", region="330100")
    assert set(mine(await unknown_units(registry, hangzhou), tag)) == {f"{tag}-A", f"{tag}-B"}
    assert f"{tag}-LS" in mine(await unknown_units(registry, national), tag)
    first = await registry.get(f"{BASE}/orgs:unknown-units", params={"limit": 1}, headers=hangzhou)
    assert first.json()["next_cursor"]
    codes = [i["code"] for i in first.json()["items"]]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = await registry.get(
            f"{BASE}/orgs:unknown-units", params={"limit": 1, "cursor": cursor}, headers=hangzhou
        )
        codes += [i["code"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert codes == sorted(set(codes))
    assert {f"{tag}-A", f"{tag}-B"} <= set(codes)


@pytest.mark.parametrize("role", ["station_staff", "inspector", "auditor", "partner_admin"])
async def test_a_role_without_the_right_cannot_list_unknown_units(registry, bearer, role):
    answer = await registry.get(f"{BASE}/orgs:unknown-units", headers=bearer(role))
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_another_province_cannot_list_unknown_units(registry, bearer):
    guangdong = bearer("provincial_admin", region="440000")
    answer = await registry.get(f"{BASE}/orgs:unknown-units", headers=guangdong)
    assert answer.status_code == 403


async def test_a_cursor_this_api_did_not_produce_is_refused(registry, admin):
    answer = await registry.get(
        f"{BASE}/orgs:unknown-units", params={"cursor": "not-a-cursor"}, headers=admin
    )
    assert answer.status_code == 400
    assert answer.json()["type"] == "/problems/invalid-cursor"


async def test_openapi_names_the_operation(registry):
    paths = (await registry.get("/openapi.json")).json()["paths"]
    operation = paths[f"{BASE}/orgs:unknown-units"]["get"]
    assert operation["operationId"] == "registry_unknown_units_list"
