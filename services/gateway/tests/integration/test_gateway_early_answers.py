"""Answers given before a large body is read: refused tokens at the gateway, the service's own
early answers passed through unchanged — over real sockets, with multi-megabyte bodies."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from shuangsui.contracts.uscc import check_character
from shuangsui.kernel.auth import MISSING_CREDENTIALS

PUSH = "/api/v1/registry/subjects:bulk"
NDJSON = "application/x-ndjson"
ZHEJIANG, GUANGDONG = "330000", "440000"


async def chunked(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The body without Content-Length, as a client streaming a file sends it."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def pusher_token(mint_token, region: str = ZHEJIANG) -> str:
    return mint_token(roles=["integrator"], region=region, scopes=["registry:subjects:push"])


@pytest.fixture
async def gateway(live_gateway):
    async with httpx.AsyncClient(base_url=live_gateway, timeout=60) as client:
        yield client


@pytest.fixture
async def registry(stack, live_gateway):
    async with httpx.AsyncClient(base_url=stack.settings.url_of("registry"), timeout=60) as client:
        yield client


async def bulk_requests_seen(registry: httpx.AsyncClient) -> float:
    """How many bulk pushes the registry has answered (its own Prometheus counter)."""
    metrics = (await registry.get("/metrics")).text
    route = re.escape(f'route="{PUSH}"')
    found = re.findall(rf"^http_requests_total{{[^}}]*{route}[^}}]*}} (\S+)$", metrics, re.M)
    return sum(float(n) for n in found)


async def raw_request(
    url: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
) -> tuple[int, dict[str, str], dict]:
    """Send exactly the header lines given (httpx refuses to send `Authorization: Bearer `, as
    curl sends it for an unset `$TOKEN`) and the whole body, then read the answer."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        writer.write(body)
        await writer.drain()
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        answer = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
        }
        content = await reader.readexactly(int(answer["content-length"]))
        return int(status_line.split()[1]), answer, json.loads(content)
    finally:
        writer.close()


def same_problem(left: dict, right: dict) -> bool:
    """Equal but for the request id, which each call has its own of."""
    return {k: v for k, v in left.items() if k != "request_id"} == {
        k: v for k, v in right.items() if k != "request_id"
    }


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_tokenless_bulk_push_with_a_large_body_is_401_at_the_gateway(
    gateway, registry, large_body, framing
):
    body = large_body
    before = await bulk_requests_seen(registry)
    answer = await gateway.post(
        PUSH, content=body if framing == "content-length" else chunked(body),
        headers={"content-type": NDJSON},
    )  # fmt: skip
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == MISSING_CREDENTIALS
    assert await bulk_requests_seen(registry) == before, "refused at the edge, not forwarded"

    # The same problem the registry answers itself (asked directly, with a small body).
    direct = await registry.post(PUSH, content=b"{}\n", headers={"content-type": NDJSON})
    assert direct.status_code == 401
    assert direct.headers["www-authenticate"] == answer.headers["www-authenticate"]
    assert same_problem(answer.json(), direct.json())


@pytest.mark.parametrize(
    "authorization", ["Bearer ", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt"]
)
async def test_an_empty_malformed_or_bad_token_is_401_at_the_gateway(
    live_gateway, registry, large_body, authorization
):
    before = await bulk_requests_seen(registry)
    status, headers, problem = await raw_request(
        live_gateway, "POST", PUSH,
        [("Authorization", authorization), ("Content-Type", NDJSON)], large_body,
    )  # fmt: skip
    assert status == 401, problem
    assert headers["www-authenticate"] == "Bearer"
    assert headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/problems/unauthenticated"
    assert problem["instance"] == PUSH
    assert await bulk_requests_seen(registry) == before


async def test_an_empty_bearer_on_a_public_read_is_401_too(live_gateway):
    status, headers, problem = await raw_request(
        live_gateway, "GET", "/api/v1/registry/item-lists", [("Authorization", "Bearer ")]
    )
    assert status == 401, problem
    assert headers["www-authenticate"] == "Bearer"


EARLY_ANSWERS = {
    # name: (token region, content type, framing, expected status)
    "a token of another province": (GUANGDONG, NDJSON, "content-length", 403),
    "a body that is not NDJSON or CSV": (ZHEJIANG, "text/plain", "content-length", 415),
    "a declared size over the limit": (ZHEJIANG, NDJSON, "content-length", 413),
    "a streamed body over the limit": (ZHEJIANG, NDJSON, "chunked", 413),
}


@pytest.mark.parametrize("case", EARLY_ANSWERS)
async def test_an_early_answer_of_the_service_passes_through_unchanged(
    gateway, registry, mint_token, large_body, case
):
    region, content_type, framing, expected = EARLY_ANSWERS[case]
    headers = {"Authorization": f"Bearer {pusher_token(mint_token, region)}"}
    headers["content-type"] = content_type
    body = large_body

    def content() -> bytes | AsyncIterator[bytes]:
        return body if framing == "content-length" else chunked(body)

    direct = await registry.post(PUSH, content=content(), headers=headers)
    through = await gateway.post(PUSH, content=content(), headers=headers)
    assert direct.status_code == expected, direct.text
    assert through.status_code == expected, through.text
    assert through.headers["content-type"] == direct.headers["content-type"]
    assert same_problem(through.json(), direct.json())


async def test_a_public_read_needs_no_token_through_the_gateway(gateway):
    answer = await gateway.get("/api/v1/registry/item-lists")
    assert answer.status_code == 200, answer.text
    assert "items" in answer.json()


async def test_a_private_read_without_a_token_is_401_at_the_gateway(gateway):
    answer = await gateway.get("/api/v1/registry/subjects")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["detail"] == MISSING_CREDENTIALS


async def test_an_undocumented_route_is_left_to_the_service(gateway):
    answer = await gateway.get("/api/v1/registry/no-such-thing")
    assert answer.status_code == 404, "forwarded: the registry answers, not the gateway's 401"
    assert answer.json()["instance"] == "/api/v1/registry/no-such-thing"


async def test_a_valid_push_through_the_gateway_still_works(gateway, registry, mint_token):
    first = uuid.uuid4().int % 10**8
    bodies = [f"91330106{first + n:09d}" for n in range(200)]
    rows = [
        {
            "uscc": body + check_character(body), "name": f"杭州网关测试{n}有限公司",
            "region_code": "330106", "source": "zj-aic",
            "source_updated_at": "2025-03-01T08:00:00+08:00",
        }
        for n, body in enumerate(bodies)
    ]  # fmt: skip
    ndjson = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    headers = {"Authorization": f"Bearer {pusher_token(mint_token)}", "content-type": NDJSON}
    for content in (ndjson, chunked(ndjson, 1024)):
        answer = await gateway.post(PUSH, content=content, headers=headers)
        assert answer.status_code == 200, answer.text
    admin = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region=ZHEJIANG)}"}
    stored = await gateway.get(f"/api/v1/registry/subjects/{rows[-1]['uscc']}", headers=admin)
    assert stored.status_code == 200, stored.text
    assert stored.json()["name"] == rows[-1]["name"]
