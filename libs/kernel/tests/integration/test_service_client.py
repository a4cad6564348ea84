"""A service calls another over real HTTP: under its service principal (`system:<service>`,
role `service`, only its granted scopes, addressed to the callee alone), with the caller's trace
and request id, problems decoded, idempotent calls retried and others not."""

from __future__ import annotations

import base64
from collections import Counter
from urllib.parse import unquote_plus

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shuangsui.devstack.ports import free_port
from shuangsui.devstack.serving import serving
from shuangsui.kernel.app import create_service_app
from shuangsui.kernel.auth import Principal, internal_audience, require, require_scope
from shuangsui.kernel.observability import current_request_id, current_traceparent
from shuangsui.kernel.problems import SERVICE_UNAVAILABLE, Problem
from shuangsui.kernel.service_auth import (
    ClientCredentialsTokens,
    SignedServiceTokens,
    TokenEndpointRefused,
)
from shuangsui.kernel.service_client import ServiceCallError, ServiceClient, ServiceUnreachable

CALLER_TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

router = APIRouter(prefix="/api/v1/kerneltest")
arrivals: Counter[str] = Counter()


class Count(BaseModel):
    total: int
    counted_by: str


@router.get("/population:count")
async def count(
    request: Request,
    region_code: str = Query(pattern=r"^\d{6}$"),
    by: Principal = Depends(require_scope("registry:population:read", "provincial_admin")),
) -> dict[str, object]:
    return {
        "total": 42,
        "counted_by": by.sub,
        "roles": sorted(by.roles),
        "scopes": sorted(by.scopes),
        "traceparent": request.headers.get("traceparent"),
        "request_id": request.headers.get("x-request-id"),
    }


@router.get("/admins-only")
async def admins_only(_by: Principal = Depends(require("provincial_admin"))) -> dict[str, str]:
    return {"ok": "yes"}


@router.api_route("/flaky/{name}", methods=["GET", "POST"])
async def flaky(name: str, fail_times: int = 2) -> dict[str, int]:
    """Answers 503 the first `fail_times` calls for `name`, then 200 (a service restarting)."""
    arrivals[name] += 1
    if arrivals[name] <= fail_times:
        raise Problem(SERVICE_UNAVAILABLE, "warming up")
    return {"calls": arrivals[name]}


async def count_of(client: ServiceClient, region_code: str = "330106") -> httpx.Response:
    return await client.request(
        "GET", "/api/v1/kerneltest/population:count", operation="count",
        params={"region_code": region_code},
    )  # fmt: skip


@pytest.fixture
async def callee(build_app):
    """The service `kerneltest` on a real port."""
    async with serving(build_app(router)) as url:
        yield url


@pytest.fixture
def tokens(dev_issuer):
    def make(scopes: list[str], service: str = "planning") -> SignedServiceTokens:
        return SignedServiceTokens(
            service=service,
            province="33",
            issuer=dev_issuer.issuer,
            private_key_pem=dev_issuer.private_key_path.read_bytes(),
            key_id="dev-1",
            scopes=scopes,
        )

    return make


@pytest.fixture
async def client_to(callee, tokens, dev_issuer):
    opened: list[ServiceClient] = []

    def make(scopes: list[str], *, url: str | None = None, audience_of: str = "kerneltest"):
        client = ServiceClient(
            "kerneltest",
            url or callee,
            tokens(scopes),
            audience=internal_audience(dev_issuer.audience, audience_of),
            attempts=3,
            backoff_base=0.01,
            timeout=2.0,
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.stop()


async def test_a_call_is_made_as_the_callers_service_principal_with_its_trace(client_to):
    client = client_to(["registry:population:read"])
    trace = current_traceparent.set(CALLER_TRACE)
    request_id = current_request_id.set("req-abc")
    try:
        answer = await count_of(client, "330106")
    finally:
        current_traceparent.reset(trace)
        current_request_id.reset(request_id)

    seen = answer.json()
    assert seen["counted_by"] == "system:planning"
    assert seen["roles"] == ["service"]
    assert seen["scopes"] == ["registry:population:read"]
    assert seen["request_id"] == "req-abc"
    # The same trace, a new span of it.
    assert seen["traceparent"].split("-")[1] == CALLER_TRACE.split("-")[1]
    assert seen["traceparent"] != CALLER_TRACE


async def test_an_answer_is_read_as_the_model_asked_for(client_to):
    client = client_to(["registry:population:read"])

    found = await client.get_model(
        "/api/v1/kerneltest/population:count", Count, operation="count",
        params={"region_code": "330106"},
    )  # fmt: skip

    assert found == Count(total=42, counted_by="system:planning")


async def test_a_scope_not_granted_is_a_forbidden_problem_and_is_not_retried(client_to):
    client = client_to(["registry:subjects:export"])

    with pytest.raises(ServiceCallError) as refused:
        await count_of(client, "330106")

    assert not isinstance(refused.value, ServiceUnreachable)
    assert refused.value.status == 403
    assert refused.value.problem.type == "/problems/forbidden"
    assert "registry:population:read" in (refused.value.problem.detail or "")


async def test_a_service_principal_holds_no_users_role(client_to):
    client = client_to(["registry:population:read"])

    with pytest.raises(ServiceCallError) as refused:
        await client.request("GET", "/api/v1/kerneltest/admins-only", operation="admins")

    assert refused.value.status == 403


async def test_a_validation_problem_is_decoded_field_by_field(client_to):
    client = client_to(["registry:population:read"])

    with pytest.raises(ServiceCallError) as refused:
        await count_of(client, "33'; drop")

    problem = refused.value.problem
    assert problem.status == 422
    assert problem.type == "/problems/validation-error"
    assert [field for field, _ in problem.errors] == ["region_code"]


async def test_an_idempotent_call_is_retried_until_the_callee_answers(client_to):
    client = client_to([])

    answer = await client.request("GET", "/api/v1/kerneltest/flaky/get", operation="flaky")

    assert answer.json() == {"calls": 3}


async def test_a_post_is_tried_once_unless_it_carries_an_idempotency_key(client_to):
    client = client_to([])

    with pytest.raises(ServiceUnreachable) as gave_up:
        await client.request("POST", "/api/v1/kerneltest/flaky/post", operation="flaky")
    assert gave_up.value.status == 503
    assert arrivals["post"] == 1

    answer = await client.request(
        "POST", "/api/v1/kerneltest/flaky/keyed", operation="flaky",
        headers={"Idempotency-Key": "k-1"},
    )  # fmt: skip
    assert answer.json() == {"calls": 3}


async def test_retries_are_bounded_then_the_callee_is_reported_unreachable(client_to):
    client = client_to([])

    with pytest.raises(ServiceUnreachable) as gave_up:
        await client.request(
            "GET", "/api/v1/kerneltest/flaky/stubborn", operation="flaky",
            params={"fail_times": 10},
        )  # fmt: skip

    assert arrivals["stubborn"] == 3
    assert gave_up.value.problem.type == "/problems/service-unavailable"


async def test_a_callee_that_is_not_listening_is_unreachable_after_the_attempts(client_to):
    client = client_to([], url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ServiceUnreachable) as gave_up:
        await client.request("GET", "/api/v1/kerneltest/flaky/none", operation="flaky")

    assert "did not answer (ConnectError)" in (gave_up.value.problem.detail or "")


async def test_a_token_addressed_to_another_service_is_refused(client_to):
    client = client_to(["registry:population:read"], audience_of="sampling")

    with pytest.raises(ServiceCallError) as refused:
        await count_of(client, "330106")

    assert refused.value.status == 401


async def test_a_service_token_is_useless_at_the_platforms_edge(dev_issuer, settings_for):
    """The gateway accepts no service audience, so a leaked service token opens nothing."""
    edge = create_service_app(
        service="edge", title="edge", description="the gateway's stand-in",
        settings=settings_for(), routers=[router], accepts_service_calls=False,
    )  # fmt: skip
    for audience in ("shuangsui:edge", "shuangsui"):
        token = dev_issuer.service_token(
            "planning", "edge", ["registry:population:read"], aud=audience
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=edge), base_url="http://edge"
        ) as http:
            answer = await http.get(
                "/api/v1/kerneltest/population:count",
                params={"region_code": "330106"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 401, audience


async def test_a_users_token_for_the_service_audience_is_refused(callee, dev_issuer):
    token = dev_issuer.token_for(roles=["provincial_admin"], aud="shuangsui:kerneltest")

    async with httpx.AsyncClient(base_url=callee) as http:
        answer = await http.get(
            "/api/v1/kerneltest/population:count",
            params={"region_code": "330106"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert answer.status_code == 401
    assert "service calls only" in answer.json()["detail"]


def token_endpoint(dev_issuer, granted: dict[str, list[str]]) -> FastAPI:
    """A client-credentials endpoint like a province's identity provider: Basic client auth,
    tokens carrying at most the scopes granted to the client."""
    app = FastAPI()

    @app.post("/oauth/token")
    async def issue(request: Request, authorization: str = Header("")) -> JSONResponse:
        form = await request.form()
        basic = base64.b64decode(authorization.split()[-1]).decode()
        client_id, secret = (unquote_plus(part) for part in basic.split(":", 1))
        if secret != "s3cret" or client_id not in granted:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        asked = str(form.get("scope", "")).split()
        service = client_id.removeprefix("system:")
        token = dev_issuer.service_token(
            service, str(form["audience"]).rpartition(":")[2],
            [s for s in asked if s in granted[client_id]],
        )  # fmt: skip
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 600})

    return app


async def test_production_credentials_come_from_the_token_endpoint(callee, dev_issuer):
    granted = {"system:planning": ["registry:population:read"]}
    async with serving(token_endpoint(dev_issuer, granted)) as idp:
        tokens = ClientCredentialsTokens(
            token_url=f"{idp}/oauth/token",
            client_id="system:planning",
            client_secret="s3cret",
            scopes=["registry:population:read", "registry:subjects:export"],
        )
        client = ServiceClient(
            "kerneltest", callee, tokens, audience=internal_audience("shuangsui", "kerneltest")
        )
        try:
            answer = await count_of(client, "330106")
        finally:
            await client.stop()

        # Asked for two scopes, granted one: the identity provider decides.
        assert answer.json()["scopes"] == ["registry:population:read"]

        wrong = ClientCredentialsTokens(
            token_url=f"{idp}/oauth/token", client_id="system:planning",
            client_secret="guess", scopes=[],
        )  # fmt: skip
        with pytest.raises(TokenEndpointRefused, match="refused client 'system:planning'"):
            await wrong.token_for("shuangsui:kerneltest")


async def test_a_token_is_reused_until_the_callee_refuses_it(tokens):
    held = tokens(["registry:population:read"])

    first = await held.token_for("shuangsui:registry")
    assert await held.token_for("shuangsui:registry") == first
    assert await held.token_for("shuangsui:sampling") != first

    held.forget("shuangsui:registry")
    assert await held.token_for("shuangsui:registry") != first
