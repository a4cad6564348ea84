"""Forward `/api/v1/<service>/…` unchanged to the service, with the caller's token and trace."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

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


# Characters of a URL's path and query that pass as they are; everything else is %-encoded.
_URL_SAFE = "!$&'()*+,;=:@/?%-._~"


def _target(request: Request) -> bytes:
    """The path and query as the caller sent them (still %-encoded), so a control character a
    client escaped is forwarded escaped, never decoded into an invalid URL; raw bytes that are
    not URL characters are escaped."""
    # Some servers (and httpx's ASGI transport) leave the query on `raw_path`; a path holds no
    # unescaped "?", so what follows one is the query.
    path = (request.scope.get("raw_path") or request.url.path.encode()).split(b"?", 1)[0]
    query = request.scope.get("query_string", b"")
    target = quote_from_bytes(path, safe=_URL_SAFE)
    return (target + "?" + quote_from_bytes(query, safe=_URL_SAFE) if query else target).encode()


async def forward(
    request: Request, client: httpx.AsyncClient, upstreams: dict[str, str], service: str
) -> StreamingResponse:
    base = upstreams.get(service)
    if base is None:
        raise Problem(NOT_FOUND, f"no service named {service!r}")
    url = httpx.URL(base).copy_with(raw_path=_target(request))
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
