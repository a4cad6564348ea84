"""Who may call what, through a tiny app: Bearer tokens, role checks with `require`, integrator
scopes with `require_scope`, and one province's tokens refused by another province's platform."""

import time

import pytest
from fastapi import APIRouter, Depends

from shuangsui.devstack.issuer import authorization
from shuangsui.kernel.auth import Principal, current_principal, require, require_scope

router = APIRouter(prefix="/api/v1/kerneltest")


@router.get("/me")
async def me(principal: Principal = Depends(current_principal)) -> dict[str, str]:
    return {"sub": principal.sub}


@router.post("/plans")
async def approve_plan(
    principal: Principal = Depends(require("provincial_admin", "department_admin")),
) -> dict[str, str]:
    return {"approved_by": principal.sub}


@router.post("/subjects:bulk")
async def push_subjects(
    principal: Principal = Depends(require_scope("registry:subjects:push", "provincial_admin")),
) -> dict[str, str]:
    return {"pushed_by": principal.sub}


@pytest.fixture
async def provincial_platform(build_app, client_of):
    return await client_of(build_app(router, province="33"))


async def test_request_without_token_is_401_with_a_bearer_challenge(provincial_platform):
    answer = await provincial_platform.get("/api/v1/kerneltest/me")

    assert answer.status_code == 401
    assert answer.json()["type"] == "/problems/unauthenticated"
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_401_with_a_bearer_challenge(provincial_platform, token):
    expired = token(roles=["provincial_admin"], exp=int(time.time()) - 60)

    answer = await provincial_platform.get("/api/v1/kerneltest/me", headers=authorization(expired))

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_token_without_region_code_is_401(provincial_platform, dev_issuer):
    no_region = dev_issuer.mint({"sub": "someone", "roles": ["provincial_admin"]})

    answer = await provincial_platform.get(
        "/api/v1/kerneltest/me", headers=authorization(no_region)
    )

    assert answer.status_code == 401


async def test_holder_of_a_required_role_passes(provincial_platform, token):
    answer = await provincial_platform.post(
        "/api/v1/kerneltest/plans", headers=authorization(token(roles=["department_admin"]))
    )

    assert answer.status_code == 200


async def test_caller_without_a_required_role_is_403_naming_the_roles(provincial_platform, token):
    answer = await provincial_platform.post(
        "/api/v1/kerneltest/plans", headers=authorization(token(roles=["inspector", "auditor"]))
    )

    assert answer.status_code == 403
    assert answer.json()["type"] == "/problems/forbidden"
    assert "provincial_admin" in answer.json()["detail"]


async def test_national_admin_passes_every_role_check(provincial_platform, token):
    answer = await provincial_platform.post(
        "/api/v1/kerneltest/plans",
        headers=authorization(token(roles=["national_admin"], region="110000")),
    )

    assert answer.status_code == 200


async def test_integrator_granted_the_scope_may_push(provincial_platform, token):
    client = token(roles=["integrator"], scopes=["registry:subjects:push"])

    answer = await provincial_platform.post(
        "/api/v1/kerneltest/subjects:bulk", headers=authorization(client)
    )

    assert answer.status_code == 200


async def test_integrator_without_the_scope_is_403_naming_it(provincial_platform, token):
    client = token(roles=["integrator"], scopes=["registry:items:push"])

    answer = await provincial_platform.post(
        "/api/v1/kerneltest/subjects:bulk", headers=authorization(client)
    )

    assert answer.status_code == 403
    assert "registry:subjects:push" in answer.json()["detail"]


async def test_scope_without_the_integrator_role_grants_nothing(provincial_platform, token):
    user = token(roles=["inspector"], scopes=["registry:subjects:push"])

    answer = await provincial_platform.post(
        "/api/v1/kerneltest/subjects:bulk", headers=authorization(user)
    )

    assert answer.status_code == 403


async def test_user_holding_an_alternative_role_may_push_without_a_scope(
    provincial_platform, token
):
    answer = await provincial_platform.post(
        "/api/v1/kerneltest/subjects:bulk", headers=authorization(token(roles=["provincial_admin"]))
    )

    assert answer.status_code == 200


async def test_token_of_another_province_is_403(provincial_platform, token):
    guangdong = token(roles=["provincial_admin"], region="440000")

    answer = await provincial_platform.get(
        "/api/v1/kerneltest/me", headers=authorization(guangdong)
    )

    assert answer.status_code == 403
    assert answer.json()["type"] == "/problems/forbidden"
    assert "44" in answer.json()["detail"]


async def test_national_admin_may_cross_into_a_province(provincial_platform, token):
    national = token(roles=["national_admin"], region="110000")

    answer = await provincial_platform.get("/api/v1/kerneltest/me", headers=authorization(national))

    assert answer.status_code == 200


async def test_national_platform_accepts_tokens_of_every_province(build_app, client_of, token):
    national_platform = await client_of(build_app(router, province="national"))
    guangdong = token(roles=["provincial_admin"], region="440000")

    answer = await national_platform.get("/api/v1/kerneltest/me", headers=authorization(guangdong))

    assert answer.status_code == 200
