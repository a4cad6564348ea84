"""A planner previews a draw's population: planning asks the registry over HTTP as its service
principal (system:planning, scope registry:population:read) and keeps the planner within their
own jurisdiction; the registry's refusals and absence become the planner's clear problems."""

import importlib
import uuid

import httpx
import pytest

from shuangsui.devstack.ports import free_port
from shuangsui.devstack.pytest_plugin import environment

PREVIEW = "/api/v1/planning/population:preview"


async def test_the_registry_is_asked_as_planning_and_its_refusal_names_the_item(planning, bearer):
    """An item the registry does not hold in force: the registry accepted planning's service
    token (a refused token would be a 502) and said why; the planner gets it as a 422."""
    item = uuid.uuid4()

    answer = await planning.get(
        PREVIEW, params={"item_id": str(item), "region_code": "330106"},
        headers=bearer("department_admin", region="330100"),
    )  # fmt: skip

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error"
    assert str(item) in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["item_id"]


async def test_a_region_outside_the_planners_jurisdiction_is_refused_before_asking(
    planning, bearer
):
    answer = await planning.get(
        PREVIEW, params={"item_id": str(uuid.uuid4()), "region_code": "330206"},
        headers=bearer("department_admin", region="330100"),
    )  # fmt: skip

    assert answer.status_code == 403
    assert answer.json()["errors"] == [
        {"field": "region_code", "reason": "outside your jurisdiction"}
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ratio_b": "150%"}, "ratio_b"),
        ({"ratio_a": "a lot"}, "ratio_a"),
        ({"region_code": "999999"}, "region_code"),
        ({"region_code": "33'--"}, "region_code"),
        ({"item_id": "not-a-uuid"}, "item_id"),
    ],
)
async def test_bad_input_is_a_validation_problem_naming_the_field(planning, bearer, params, field):
    query = {"item_id": str(uuid.uuid4()), **params}

    answer = await planning.get(PREVIEW, params=query, headers=bearer("provincial_admin"))

    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("roles", "region", "status"),
    [(None, None, 401), (["inspector"], "330000", 403), (["provincial_admin"], "440000", 403)],
)
async def test_only_planners_of_this_province_may_preview(planning, bearer, roles, region, status):
    headers = bearer(*roles, region=region) if roles else {}

    answer = await planning.get(PREVIEW, params={"item_id": str(uuid.uuid4())}, headers=headers)

    assert answer.status_code == status


async def test_a_registry_that_does_not_answer_is_a_503_naming_it(service_env, bearer):
    env = {**service_env("planning"), "REGISTRY_URL": f"http://127.0.0.1:{free_port()}"}
    with environment(env):
        app = importlib.import_module("shuangsui.planning.main").create_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client,
    ):
        answer = await client.get(
            PREVIEW, params={"item_id": str(uuid.uuid4())},
            headers=bearer("provincial_admin"),
        )  # fmt: skip

    assert answer.status_code == 503
    assert answer.json()["type"] == "/problems/service-unavailable"
    assert "registry" in answer.json()["detail"]


async def test_planning_without_service_credentials_does_not_start(service_env):
    env = {k: v for k, v in service_env("planning").items() if not k.startswith("SERVICE_")}
    with environment(env), pytest.raises(SystemExit, match="SERVICE_TOKEN_URL"):
        importlib.import_module("shuangsui.planning.main").create_app()
