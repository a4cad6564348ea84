"""The inspector directory API against real PostgreSQL: import, read, change, conflicts, sync."""

from __future__ import annotations

import io
import json
import uuid

import asyncpg
import pytest

BASE = "/api/v1/registry"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = "name,unit_code,region_code,station_code,cert_no,cert_valid_until,qualifications,status\n"
USCC = "91350100M000100Y43"


@pytest.fixture(autouse=True)
async def units(registry, admin) -> None:
    """The bureau and station the rows below name: Zhejiang's org directory is checked (other
    tests load orgs of the province), so the units must be in it. Loading them again is a no-op."""
    orgs = (
        "code,name,level,region_code,parent_code,is_hq\n"
        "330106001,杭州市西湖区市场监督管理局,county,330106,,true\n"
        "330106-01,西湖区市场监督管理局第一市场监管所,station,330106,330106001,false\n"
    )
    answer = await registry.post(
        f"{BASE}/orgs:import", content=orgs.encode(), headers={**admin, "Content-Type": CSV}
    )
    assert answer.status_code == 200, answer.text


def cert() -> str:
    return f"T{uuid.uuid4().hex[:12].upper()}"


def row(cert_no: str, *, date: str = "2027-06-30", status: str = "active", region="330106") -> str:
    return f"王芳,330106001,{region},330106-01,{cert_no},{date},food_safety;pricing,{status}\n"


async def upload(registry, headers, body: str | bytes, mode="atomic", content_type=CSV, **extra):
    data = body.encode() if isinstance(body, str) else body
    return await registry.post(
        f"{BASE}/inspectors:import",
        params={"mode": mode},
        content=data,
        headers={**headers, "Content-Type": content_type, **extra},
    )


async def sync(registry, mint_token, records: list[dict], mode="atomic"):
    token = mint_token(roles=["integrator"], region="330000", scopes=["registry:inspectors:sync"])
    return await registry.post(
        f"{BASE}/inspectors:sync-justice",
        params={"mode": mode},
        json={"records": records},
        headers={"Authorization": f"Bearer {token}"},
    )


def justice_record(cert_no: str, **fields: str) -> dict:
    base = {"justice_db_ref": f"SF-{cert_no}", "name": "赵磊", "cert_no": cert_no,
            "cert_valid_until": "2028-01-01", "unit_code": "330106001", "region_code": "330106"}  # fmt: skip
    return {**base, **fields}


async def imported(registry, headers, cert_no: str) -> dict:
    answer = await upload(registry, headers, HEADER + row(cert_no))
    assert answer.status_code == 200, answer.text
    found = await registry.get(f"{BASE}/inspectors", params={"limit": 500}, headers=headers)
    return next(i for i in found.json()["items"] if i["cert_no"] == cert_no)


async def outbox(stack, sql: str, *args) -> list:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def test_csv_import_creates_officers_and_records_upserted_events(registry, admin, stack):
    first, second = cert(), cert()
    answer = await upload(registry, admin, HEADER + row(first) + row(second))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "mode": "atomic", "applied": True, "received": 2, "created": 2, "updated": 0,
        "unchanged": 0, "stale": 0, "rejected": 0, "errors": [], "errors_truncated": False,
        "stale_rows": [],
    }  # fmt: skip
    events = await outbox(
        stack,
        "SELECT envelope FROM outbox WHERE event_type = 'registry.inspector.upserted.v1' "
        "AND envelope->'data'->>'org_code' = '330106001' ORDER BY seq DESC LIMIT 2",
    )
    data = [json.loads(e["envelope"])["data"] for e in events]
    assert {d["qualifications"] == ["food_safety", "pricing"] for d in data} == {True}
    assert "cert_no" not in data[0]  # personal data stays in the registry


async def test_reimporting_the_same_sheet_leaves_officers_unchanged(registry, admin):
    body = HEADER + row(cert())
    await upload(registry, admin, body)
    again = await upload(registry, admin, body)
    assert (again.json()["unchanged"], again.json()["created"]) == (1, 0)


async def test_xlsx_import_reads_the_first_sheet_with_chinese_headings(registry, admin):
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "单位编码", "行政区划代码", "执法证号", "执法证有效期至", "执法资格"])
    cert_no = cert()
    sheet.append(["李雷", "330106001", 330106, cert_no, date(2028, 1, 31), "food_safety"])
    buffer = io.BytesIO()
    book.save(buffer)
    answer = await upload(registry, admin, buffer.getvalue(), content_type=XLSX)
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1


async def test_atomic_batch_with_one_bad_row_changes_nothing(registry, admin, stack):
    good, bad = cert(), cert()
    body = HEADER + row(good) + row(bad, date="2027-13-01")
    answer = await upload(registry, admin, body)
    assert answer.status_code == 422
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "/problems/batch-rejected"
    assert problem["applied"] is False
    assert problem["errors"] == [
        {"line": 3, "key": bad, "field": "cert_valid_until",
         "reason": problem["errors"][0]["reason"]}
    ]  # fmt: skip
    rows = await outbox(stack, "SELECT 1 FROM inspectors WHERE cert_no = $1", good)
    assert rows == []


async def test_atomic_refusal_counts_like_a_refused_subject_push(registry, admin):
    body = HEADER + row(cert()) + row(cert(), status="retired") + row(cert(), date="2027-13-01")
    problem = (await upload(registry, admin, body)).json()
    counts = {k: problem[k] for k in ("received", "created", "updated", "unchanged", "stale",
                                      "rejected", "applied", "errors_truncated")}  # fmt: skip
    assert counts == {
        "received": 3, "created": 0, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 2,
        "applied": False, "errors_truncated": False,
    }  # fmt: skip


async def test_a_row_with_several_bad_fields_is_one_rejected_row(registry, admin):
    body = HEADER + row(cert(), date="2027-13-01", status="retired")
    report = (await upload(registry, admin, body, mode="per_row")).json()
    assert report["rejected"] == 1
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "cert_valid_until"), (2, "status"),
    ]  # fmt: skip


async def test_at_most_1000_errors_are_listed_but_every_bad_row_is_counted(registry, admin):
    body = HEADER + "".join(row(cert(), status="retired") for _ in range(1001))
    report = (await upload(registry, admin, body, mode="per_row")).json()
    assert (report["rejected"], len(report["errors"])) == (1001, 1000)
    assert report["errors_truncated"] is True
    assert report["errors"][-1]["line"] == 1001, "the first rows' errors are the ones listed"


async def test_per_row_mode_applies_the_good_rows_and_reports_the_bad(registry, admin):
    good, bad, dup = cert(), cert(), cert()
    body = HEADER + row(good) + row(bad, status="retired") + row(dup) + row(dup)
    answer = await upload(registry, admin, body, mode="per_row")
    assert answer.status_code == 200
    report = answer.json()
    assert (report["created"], report["rejected"]) == (2, 2)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "status"), (5, "cert_no")]


async def test_row_outside_the_callers_city_is_rejected_naming_region(registry, mint_token):
    city = {"Authorization": f"Bearer {mint_token(roles=['department_admin'], region='330100')}"}
    answer = await upload(registry, city, HEADER + row(cert(), region="330200"), mode="per_row")
    assert answer.json()["errors"][0]["field"] == "region_code"


async def test_wrong_content_type_is_415(registry, admin):
    answer = await upload(registry, admin, "{}", content_type="application/json")
    assert answer.status_code == 415
    assert answer.json()["type"] == "/problems/unsupported-media-type"


async def test_binary_garbage_declared_as_csv_or_xlsx_is_415(registry, admin):
    garbage = bytes(range(256)) * 4
    assert (await upload(registry, admin, garbage)).status_code == 415
    assert (await upload(registry, admin, garbage, content_type=XLSX)).status_code == 415


async def test_text_without_the_required_columns_is_422_naming_them(registry, admin):
    answer = await upload(registry, admin, "hello world\nthis is not a sheet\n")
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"name", "cert_no", "cert_valid_until"} <= fields


async def test_oversized_body_is_413(registry, admin):
    answer = await upload(registry, admin, b"a" * (16 * 1024 * 1024 + 1))
    assert answer.status_code == 413
    assert answer.json()["type"] == "/problems/payload-too-large"


async def test_retry_with_the_same_idempotency_key_replays_the_report(registry, admin):
    body = HEADER + row(cert())
    key = {"Idempotency-Key": f"imp-{uuid.uuid4()}"}
    first = await upload(registry, admin, body, **key)
    second = await upload(registry, admin, body, **key)
    assert second.json() == first.json()
    assert first.json()["created"] == 1
    assert second.headers.get("idempotent-replayed") == "true"


async def test_integrator_needs_the_import_scope(registry, mint_token):
    bare = mint_token(roles=["integrator"], region="330000")
    granted = mint_token(
        roles=["integrator"], region="330000", scopes=["registry:inspectors:import"]
    )
    body = HEADER + row(cert())
    assert (await upload(registry, {"Authorization": f"Bearer {bare}"}, body)).status_code == 403
    ok = await upload(registry, {"Authorization": f"Bearer {granted}"}, body)
    assert ok.status_code == 200


async def test_other_province_and_readonly_roles_cannot_import(registry, mint_token):
    body = HEADER + row(cert())
    for roles, region in ((["provincial_admin"], "440000"), (["auditor"], "330000")):
        token = mint_token(roles=roles, region=region)
        answer = await upload(registry, {"Authorization": f"Bearer {token}"}, body)
        assert answer.status_code == 403, roles


async def test_other_province_cannot_read_the_directory(registry, mint_token):
    token = mint_token(roles=["provincial_admin"], region="440000")
    answer = await registry.get(f"{BASE}/inspectors", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403


async def test_inspector_and_auditor_see_no_certificate_or_conflicts(registry, admin, mint_token):
    officer = await imported(registry, admin, cert())
    for role in ("inspector", "auditor"):
        token = mint_token(roles=[role], region="330000")
        answer = await registry.get(
            f"{BASE}/inspectors/{officer['inspector_id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        seen = answer.json()
        assert (seen["cert_no"], seen["conflicts"], seen["personal_data_shown"]) == (
            None, None, False,
        )  # fmt: skip
        assert seen["qualifications"] == ["food_safety", "pricing"]


async def test_list_filters_by_qualification_status_and_pages(registry, admin):
    tag = f"q{uuid.uuid4().hex[:8]}"
    body = HEADER + "".join(row(cert()).replace("pricing", tag) for _ in range(3))
    await upload(registry, admin, body)
    params = {"qualification": tag, "status": "active", "limit": 2}
    first = (await registry.get(f"{BASE}/inspectors", params=params, headers=admin)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    params["cursor"] = first["next_cursor"]
    rest = (await registry.get(f"{BASE}/inspectors", params=params, headers=admin)).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


async def test_status_change_needs_a_current_if_match(registry, admin, stack):
    officer = await imported(registry, admin, cert())
    url = f"{BASE}/inspectors/{officer['inspector_id']}/status"
    missing = await registry.put(url, json={"status": "suspended"}, headers=admin)
    assert missing.status_code == 428
    stale = await registry.put(
        url, json={"status": "suspended"}, headers={**admin, "If-Match": '"99"'}
    )
    assert stale.status_code == 412
    done = await registry.put(
        url, json={"status": "suspended"}, headers={**admin, "If-Match": '"1"'}
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.headers["etag"]) == ("suspended", '"2"')


async def test_patch_rejects_an_unknown_status_naming_the_field(registry, admin):
    officer = await imported(registry, admin, cert())
    answer = await registry.patch(
        f"{BASE}/inspectors/{officer['inspector_id']}",
        json={"status": "retired"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["status"]


async def test_patch_cleans_qualification_codes_and_refuses_an_overlong_one(registry, admin):
    officer = await imported(registry, admin, cert())
    url = f"{BASE}/inspectors/{officer['inspector_id']}"
    overlong = await registry.patch(
        url, json={"qualifications": ["x" * 61]}, headers={**admin, "If-Match": '"1"'}
    )
    assert overlong.status_code == 422, overlong.text
    assert [e["field"] for e in overlong.json()["errors"]] == ["qualifications"]
    cleaned = await registry.patch(
        url,
        json={"qualifications": [" food_safety ", "food_safety", "drug_inspection"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert cleaned.status_code == 200, cleaned.text
    assert cleaned.json()["qualifications"] == ["drug_inspection", "food_safety"]


async def test_declared_conflict_is_recorded_shown_to_admins_and_withdrawn(registry, admin, stack):
    officer = await imported(registry, admin, cert())
    url = f"{BASE}/inspectors/{officer['inspector_id']}/conflicts"
    declared = await registry.post(
        url, json={"subject_uscc": USCC, "reason": "亲属"}, headers=admin
    )
    assert declared.status_code == 201, declared.text
    again = await registry.post(url, json={"subject_uscc": USCC}, headers=admin)
    assert again.status_code == 409
    conflict_id = declared.json()["conflict_id"]
    withdrawn = await registry.post(f"{url}/{conflict_id}:withdraw", headers=admin)
    assert withdrawn.json()["withdrawn"] is True
    events = await outbox(
        stack,
        "SELECT envelope->'data' AS d FROM outbox WHERE envelope->>'type' = "
        "'registry.inspector.conflict_declared.v1' AND envelope->>'subject' = $1 ORDER BY seq",
        officer["inspector_id"],
    )
    assert [json.loads(e["d"])["withdrawn"] for e in events] == [False, True]


async def test_bad_uscc_in_a_declaration_names_the_field(registry, admin):
    officer = await imported(registry, admin, cert())
    answer = await registry.post(
        f"{BASE}/inspectors/{officer['inspector_id']}/conflicts",
        json={"subject_uscc": "91350100M000100Y44"},
        headers=admin,
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "subject_uscc"


async def test_an_inspector_declares_only_for_themself(registry, admin, mint_token):
    officer = await imported(registry, admin, cert())
    other = mint_token(roles=["inspector"], region="330000", sub=str(uuid.uuid4()))
    own = mint_token(roles=["inspector"], region="330000", sub=officer["inspector_id"])
    url = f"{BASE}/inspectors/{officer['inspector_id']}/conflicts"
    body = {"subject_uscc": USCC}
    denied = await registry.post(url, json=body, headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 403
    mine = await registry.post(url, json=body, headers={"Authorization": f"Bearer {own}"})
    assert (mine.status_code, mine.json()["source"]) == (201, "inspector")


async def test_justice_sync_reports_conflicts_and_does_not_overwrite(registry, admin, mint_token):
    cert_no = cert()
    officer = await imported(registry, admin, cert_no)
    token = mint_token(roles=["integrator"], region="330000", scopes=["registry:inspectors:sync"])
    new_cert = cert()
    records = [
        {"justice_db_ref": f"SF-{cert_no}", "name": "王芳", "cert_no": cert_no,
         "cert_valid_until": "2030-01-01", "unit_code": "330106001", "region_code": "330106",
         "position": "科员", "qualifications": ["food_safety", "pricing", "metrology"]},
        {"justice_db_ref": f"SF-{new_cert}", "name": "赵磊", "cert_no": new_cert,
         "cert_valid_until": "2028-01-01", "unit_code": "330106001", "region_code": "330106"},
    ]  # fmt: skip
    answer = await registry.post(
        f"{BASE}/inspectors:sync-justice",
        json={"records": records},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["updated"]) == (1, 1)
    assert [(c["field"], c["stored"], c["incoming"]) for c in report["conflicts"]] == [
        ("cert_valid_until", "2027-06-30", "2030-01-01")
    ]
    after = await registry.get(f"{BASE}/inspectors/{officer['inspector_id']}", headers=admin)
    kept = after.json()
    assert kept["cert_valid_until"] == "2027-06-30"
    assert (kept["position"], kept["justice_db_ref"]) == ("科员", f"SF-{cert_no}")
    assert kept["qualifications"] == ["food_safety", "metrology", "pricing"]


async def test_justice_sync_refuses_a_batch_with_a_bad_record_whole(registry, mint_token, stack):
    good = cert()
    records = [justice_record(good), justice_record(cert(), cert_valid_until="2028-13-01")]
    answer = await sync(registry, mint_token, records)
    assert answer.status_code == 422
    problem = answer.json()
    assert (problem["type"], problem["applied"], problem["rejected"]) == (
        "/problems/batch-rejected", False, 1,
    )  # fmt: skip
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [(2, "cert_valid_until")]
    assert await outbox(stack, "SELECT 1 FROM inspectors WHERE cert_no = $1", good) == []


async def test_justice_sync_per_row_reports_like_an_import(registry, mint_token):
    cert_no = cert()
    records = [justice_record(cert_no), justice_record(cert_no, justice_db_ref=f"SF-2-{cert_no}")]
    answer = await sync(registry, mint_token, records, mode="per_row")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["mode"], report["created"], report["rejected"]) == ("per_row", 1, 1)
    assert report["errors"] == [
        {
            "line": 2,
            "key": cert_no,
            "field": "cert_no",
            "reason": "certificate number repeats line 1",
        }
    ]
    assert (report["errors_truncated"], report["conflicts"]) == (False, [])


async def test_justice_sync_without_scope_is_403(registry, mint_token):
    token = mint_token(roles=["integrator"], region="330000", scopes=["registry:subjects:push"])
    answer = await registry.post(
        f"{BASE}/inspectors:sync-justice",
        json={"records": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403


async def test_openapi_names_the_operations(registry):
    paths = (await registry.get("/openapi.json")).json()["paths"]
    ids = {op["operationId"] for item in paths.values() for op in item.values()}
    assert {"registry_inspectors_import", "registry_inspectors_list",
            "registry_inspectors_justice_sync", "registry_inspector_conflicts_declare"} <= ids  # fmt: skip
