"""The gateway's forwarding pool keeps an answer sent before the body was, even when the server
then closes the connection — as servers without a lingering close do, and uvicorn does when
asked to — instead of reporting that the service did not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpcore
import httpx
import pytest
import uvicorn

from shuangsui.devstack.ports import free_port
from shuangsui.gateway.upstreams import Upstreams

BODY = b"x" * (8 * 1024 * 1024)
REFUSAL = b'{"type":"/problems/payload-too-large","status":413}'


async def answers_without_reading(scope, receive, send) -> None:
    """413 at once, the body unread; `/close` then closes the connection, `/keep` keeps it."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/problem+json")]
    if scope["path"] == "/close":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": REFUSAL})


@pytest.fixture
async def early_server() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(answers_without_reading, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def upstreams(early_server) -> AsyncIterator[Upstreams]:
    upstreams = Upstreams({"early": early_server}, timeout=10)
    yield upstreams
    await upstreams.stop()


async def streamed() -> AsyncIterator[bytes]:
    for start in range(0, len(BODY), 64 * 1024):
        yield BODY[start : start + 64 * 1024]


async def post(upstreams: Upstreams, path: str, streaming: bool) -> tuple[int, bytes]:
    url = httpx.URL(upstreams.urls["early"] + path)
    framing = (
        (b"transfer-encoding", b"chunked") if streaming else (b"content-length", b"%d" % len(BODY))
    )
    request = httpcore.Request(
        "POST", str(url), headers=[(b"host", url.netloc), framing],
        content=streamed() if streaming else BODY,
        extensions={"timeout": upstreams.timeouts},
    )  # fmt: skip
    answer = await upstreams.forwarding_pool(url).handle_async_request(request)
    try:
        return answer.status, await answer.aread()
    finally:
        await answer.aclose()


@pytest.mark.parametrize("streaming", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("path", ["/close", "/keep"])
async def test_an_answer_before_the_body_is_sent_is_read_as_sent(upstreams, path, streaming):
    for _ in range(20):  # the close races the body: a lost answer would show within a few
        assert await post(upstreams, path, streaming) == (413, REFUSAL)


async def test_the_rest_of_the_body_is_not_sent_once_the_service_has_answered(upstreams):
    await post(upstreams, "/keep", streaming=True)
    pool = upstreams.forwarding_pool(httpx.URL(upstreams.urls["early"]))
    # Sent in full, the request would leave its connection in the pool for the next one.
    assert pool.connections == [], "the request was cut short, so its connection was closed"


async def test_a_service_that_is_down_is_a_connect_error(upstreams):
    url = httpx.URL(f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(httpcore.ConnectError):
        await upstreams.forwarding_pool(url).handle_async_request(
            httpcore.Request("GET", str(url), headers=[(b"host", url.netloc)])
        )
