"""Forward `/api/v1/<service>/…` unchanged to the service, with the caller's token and trace."""

from __future__ import annotations

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from shuangsui.kernel.observability import current_request_id, current_traceparent
from shuangsui.kernel.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem

# RFC 9110 §7.6.1: connection-specific headers are not forwarded by intermediaries.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def _forwarded_headers(request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    traceparent = current_traceparent.get()
    if traceparent:
        headers["traceparent"] = traceparent
    request_id = current_request_id.get()
    if request_id:
        headers["x-request-id"] = request_id
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{prior}, {client}" if prior else client
    return headers


async def forward(
    request: Request, client: httpx.AsyncClient, upstreams: dict[str, str], service: str
) -> StreamingResponse:
    base = upstreams.get(service)
    if base is None:
        raise Problem(NOT_FOUND, f"no service named {service!r}")
    url = httpx.URL(f"{base}{request.url.path}", query=request.url.query.encode())
    upstream_request = client.build_request(
        request.method, url, headers=_forwarded_headers(request), content=request.stream()
    )
    try:
        answer = await client.send(upstream_request, stream=True)
    except httpx.HTTPError as exc:
        raise Problem(
            SERVICE_UNAVAILABLE, f"the {service} service did not answer ({type(exc).__name__})"
        ) from None
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
    return StreamingResponse(
        answer.aiter_raw(),
        status_code=answer.status_code,
        headers=headers,
        background=BackgroundTask(answer.aclose),
    )
