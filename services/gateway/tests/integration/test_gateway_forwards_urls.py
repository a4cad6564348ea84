"""The gateway forwards a request's path and query as the caller sent them, %-escapes and all.

The upstream here is a real HTTP server on the registry's port that answers with the request
target it received, so the test sees exactly what a service would be sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest


@pytest.fixture
async def echo_registry(stack) -> AsyncIterator[None]:
    """Answers every request with `{"target": "<the request target it read>"}`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii")
        body = json.dumps({"target": target}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", stack.settings.port_of("registry"))
    async with server:
        yield


async def test_an_escaped_control_character_in_the_path_is_forwarded_escaped(
    service_client, mint_token, echo_registry
):
    gateway = await service_client("gateway")
    token = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'])}"}
    # Once a 500: the decoded path (with U+0015) made no valid upstream URL.
    answer = await gateway.get(
        "/api/v1/registry/subjects/%15%C3%8A%2F?x=%03&y=%E4%B8%AD", headers=token
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["target"] == "/api/v1/registry/subjects/%15%C3%8A%2F?x=%03&y=%E4%B8%AD"


async def test_a_nul_in_the_path_is_refused_at_the_gateway_naming_the_parameter(
    service_client, mint_token, echo_registry
):
    gateway = await service_client("gateway")
    token = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'])}"}
    answer = await gateway.get("/api/v1/registry/subjects/%00", headers=token)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["path"]
