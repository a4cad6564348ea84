"""Bad input is a 422 naming the parameter, never a 500: what a new user tried, and what the API
fuzz run (tests/e2e/test_api_fuzz.py) found. Filters keep their region semantics: a region
outside the caller's matches nothing."""

from __future__ import annotations

import json

import pytest

from shuangsui.kernel.pagination import encode_cursor

BASE = "/api/v1/registry"
NDJSON = {"content-type": "application/x-ndjson"}


def refused(answer, field: str) -> str:
    """The reason given for `field`, after checking the answer is a 422 problem naming it."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    reasons = {e["field"]: e["reason"] for e in answer.json()["errors"]}
    assert field in reasons, reasons
    return reasons[field]


@pytest.fixture
def hangzhou(mint_token) -> dict[str, str]:
    """A Hangzhou (330100) department: sees its city only."""
    return {"Authorization": f"Bearer {mint_token(roles=['department_admin'], region='330100')}"}


@pytest.mark.parametrize("path", ["subjects", "population:count"])
@pytest.mark.parametrize(
    ("code", "reason"),
    [("33' OR 1=1--", "6 digits"), ("999999", "not a GB/T 2260 code"), ("12", "6 digits")],
)
async def test_a_region_filter_that_is_no_division_is_422(registry, admin, path, code, reason):
    answer = await registry.get(f"{BASE}/{path}", params={"region_code": code}, headers=admin)
    assert reason in refused(answer, "region_code")


@pytest.mark.parametrize("name", ["industry_code", "unit_code", "status", "subject_type"])
async def test_a_nul_in_a_subject_filter_is_422_naming_it(registry, admin, name):
    answer = await registry.get(f"{BASE}/subjects", params={name: "\x00"}, headers=admin)
    refused(answer, name)


async def test_an_industry_filter_follows_gb_t_4754(registry, admin, subject_row, pusher):
    row = subject_row(9_430_001, industry_code="C1311", region_code="330106")
    pushed = await registry.put(f"{BASE}/subjects/{row['uscc']}", json=row, headers=pusher)
    assert pushed.status_code == 200, pushed.text
    for prefix in ("C", "C13", "C131", "C1311"):
        listed = await registry.get(
            f"{BASE}/subjects", params={"industry_code": prefix, "limit": 500}, headers=admin
        )
        assert listed.status_code == 200, listed.text
    for wrong in ("C1", "c13", "Z99", "C13111", "%"):
        answer = await registry.get(
            f"{BASE}/subjects", params={"industry_code": wrong}, headers=admin
        )
        assert "GB/T 4754" in refused(answer, "industry_code")


async def test_a_region_outside_the_callers_matches_nothing(
    registry, hangzhou, admin, subject_row, pusher
):
    ningbo = subject_row(9_430_011, region_code="330206", unit_code="330206-01")
    pushed = await registry.put(f"{BASE}/subjects/{ningbo['uscc']}", json=ningbo, headers=pusher)
    assert pushed.status_code == 200, pushed.text
    # The province sees the Ningbo subject; Hangzhou, filtering for Ningbo, sees none.
    seen = await registry.get(
        f"{BASE}/subjects",
        params={"region_code": "330206", "unit_code": "330206-01"},
        headers=admin,
    )
    assert ningbo["uscc"] in {s["uscc"] for s in seen.json()["items"]}
    listed = await registry.get(
        f"{BASE}/subjects", params={"region_code": "330206"}, headers=hangzhou
    )
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    counted = await registry.get(
        f"{BASE}/population:count", params={"region_code": "330206"}, headers=hangzhou
    )
    assert counted.status_code == 200
    assert counted.json()["total"] == 0


@pytest.mark.parametrize("suffix", ["", "/history", "/risk-classes"])
@pytest.mark.parametrize("uscc", ["abc", "%00", "91330106MA2GXXXX0A"])
async def test_a_path_that_is_no_uscc_is_422(registry, admin, suffix, uscc):
    answer = await registry.get(f"{BASE}/subjects/{uscc}{suffix}", headers=admin)
    refused(answer, "uscc")


async def test_a_lower_case_uscc_in_the_path_names_the_same_subject(
    registry, admin, subject_row, pusher
):
    row = subject_row(9_430_021)
    pushed = await registry.put(f"{BASE}/subjects/{row['uscc']}", json=row, headers=pusher)
    assert pushed.status_code == 200, pushed.text
    found = await registry.get(f"{BASE}/subjects/{row['uscc'].lower()}", headers=admin)
    assert found.status_code == 200, found.text
    assert found.json()["uscc"] == row["uscc"]


@pytest.mark.parametrize(
    "path", ["classifications/{v}", "items/00000000-0000-4000-8000-000000000000/guides/{v}"]
)
async def test_a_version_beyond_the_databases_integers_is_422(registry, admin, path):
    answer = await registry.get(f"{BASE}/{path.format(v=2**31)}", headers=admin)
    refused(answer, "version")


async def test_a_tag_filter_names_the_bad_repetition(registry, admin):
    answer = await registry.get(
        f"{BASE}/subjects", params=[("tag", "format:餐饮服务"), ("tag", "colour:红")], headers=admin
    )
    assert "dimension:value" in refused(answer, "tag[1]")


async def test_a_nul_in_a_json_body_field_is_422_naming_it(registry, pusher, subject_row):
    row = subject_row(9_430_031, name="杭州\x00测试")
    answer = await registry.put(f"{BASE}/subjects/{row['uscc']}", json=row, headers=pusher)
    refused(answer, "name")


async def test_a_nul_in_a_pushed_row_is_that_rows_error(registry, pusher, subject_row):
    good, bad = subject_row(9_430_041), subject_row(9_430_042, name="杭州\x00测试")
    body = "".join(json.dumps(r) + "\n" for r in (good, bad)).encode()
    answer = await registry.post(
        f"{BASE}/subjects:bulk",
        params={"mode": "per_row"},
        content=body,
        headers={**pusher, **NDJSON},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "name")]


@pytest.mark.parametrize("field", ["unit_code", "station_code"])
async def test_an_inspector_unit_filter_is_a_unit_code(registry, admin, field):
    answer = await registry.get(f"{BASE}/inspectors", params={field: "西湖 一所"}, headers=admin)
    refused(answer, field)


@pytest.mark.parametrize(
    ("path", "position"),
    [
        ("classifications", {"version": "x"}),
        ("classifications", {"version": 2**70}),
        ("item-lists", {"family": 1, "version": 1}),
        ("item-lists", {"version": 1}),
        ("tag-corrections", {"seq": "x"}),
    ],
)
async def test_a_cursor_of_another_shape_is_400_invalid_cursor(registry, admin, path, position):
    answer = await registry.get(
        f"{BASE}/{path}", params={"cursor": encode_cursor(position)}, headers=admin
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "/problems/invalid-cursor"
