"""Typed parameters refuse what breaks their contract type with a 422 naming the parameter, pass
what fits (canonical), and describe themselves in OpenAPI; the kernel documents the problems its
own helpers answer with."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Depends, Header

from shuangsui.kernel.pagination import PageRequest, page_request
from shuangsui.kernel.param_types import (
    IndustryFilter,
    RegionFilter,
    TagFilters,
    UnitCodeFilter,
    UsccPath,
    VersionPath,
)

BASE = "/api/v1/kerneltest"
USCC = "91350100M000100Y43"

router = APIRouter(prefix=BASE)


@router.get("/subjects/{uscc}")
async def subject(uscc: UsccPath) -> dict[str, str]:
    return {"uscc": uscc}


@router.get("/subjects")
async def subjects(
    region_code: RegionFilter = None,
    industry_code: IndustryFilter = None,
    unit_code: UnitCodeFilter = None,
    tag: TagFilters = (),
) -> dict[str, Any]:
    return {"region_code": region_code, "industry": industry_code, "unit": unit_code, "tag": tag}


@router.get("/versions/{version}")
async def version(version: VersionPath) -> dict[str, int]:
    return {"version": version}


@router.get("/pages")
async def pages(page: PageRequest = Depends(page_request)) -> dict[str, int]:
    return {}


@router.put("/things/{thing_id}")
async def thing(thing_id: str, if_match: str | None = Header(None, alias="If-Match")) -> None:
    return None


@pytest.fixture
def app(build_app):
    return build_app(router)


@pytest.fixture
async def client(app, client_of):
    return await client_of(app)


def reason_for(answer, field: str) -> str:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["reason"] for e in answer.json()["errors"]}[field]


@pytest.mark.parametrize(
    ("code", "reason"),
    [("33' OR 1=1--", "6 digits"), ("999999", "not a GB/T 2260 code"), ("3301", "6 digits")],
)
async def test_a_region_filter_must_be_a_division_that_exists(client, code, reason):
    answer = await client.get(f"{BASE}/subjects", params={"region_code": code})
    assert reason in reason_for(answer, "region_code")


async def test_filters_that_fit_their_types_pass(client):
    params = [
        ("region_code", "330106"), ("industry_code", "C13"), ("unit_code", "330106-01"),
        ("tag", "format:餐饮服务"), ("tag", "scale:小微"),
    ]  # fmt: skip
    answer = await client.get(f"{BASE}/subjects", params=params)
    assert answer.json() == {
        "region_code": "330106", "industry": "C13", "unit": "330106-01",
        "tag": ["format:餐饮服务", "scale:小微"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [("industry_code", "C1"), ("industry_code", "c13"), ("industry_code", "U10"),
     ("unit_code", "西湖一所"), ("unit_code", "x" * 41)],
)  # fmt: skip
async def test_codes_that_break_their_pattern_are_refused(client, name, value):
    reason_for(await client.get(f"{BASE}/subjects", params={name: value}), name)


@pytest.mark.parametrize("tag", ["colour:红", "format:", "format: 餐饮", "format:a:b", "餐饮服务"])
async def test_a_bad_tag_is_refused_naming_its_repetition(client, tag):
    answer = await client.get(f"{BASE}/subjects", params=[("tag", "scale:小微"), ("tag", tag)])
    assert "dimension:value" in reason_for(answer, "tag[1]")


async def test_a_uscc_path_is_checked_and_canonical(client):
    assert (await client.get(f"{BASE}/subjects/{USCC.lower()}")).json() == {"uscc": USCC}
    wrong_check = USCC[:-1] + "0"
    assert "check character" in reason_for(
        await client.get(f"{BASE}/subjects/{wrong_check}"), "uscc"
    )


@pytest.mark.parametrize(
    ("value", "ok"), [(1, True), (2**31 - 1, True), (0, False), (2**31, False)]
)
async def test_a_version_fits_a_database_integer(client, value, ok):
    answer = await client.get(f"{BASE}/versions/{value}")
    assert (answer.status_code == 200) is ok


def test_the_types_describe_themselves_in_openapi(app):
    operation = app.openapi()["paths"][f"{BASE}/subjects"]["get"]
    schemas = {p["name"]: p["schema"] for p in operation["parameters"]}
    region = schemas["region_code"]["anyOf"][0]
    assert (region["pattern"], region["examples"]) == ("^[0-9]{6}$", ["330106"])
    industry = schemas["industry_code"]["anyOf"][0]
    assert industry["examples"] == ["C1311"]
    assert "GB/T 4754" in industry["description"]
    assert schemas["tag"]["items"]["examples"] == ["format:餐饮服务"]


def test_the_kernel_documents_the_problems_its_helpers_answer_with(app):
    paths = app.openapi()["paths"]
    assert {"400"} <= set(paths[f"{BASE}/pages"]["get"]["responses"])  # a page cursor
    assert {"404"} <= set(paths[f"{BASE}/subjects/{{uscc}}"]["get"]["responses"])
    put = paths[f"{BASE}/things/{{thing_id}}"]["put"]["responses"]
    assert {"404", "412", "428"} <= set(put)
    assert "400" not in put, "no body, no cursor"
    assert "404" not in paths[f"{BASE}/subjects"]["get"]["responses"]
