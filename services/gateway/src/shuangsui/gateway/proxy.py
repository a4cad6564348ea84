"""Forward `/api/v1/<service>/…` unchanged to the service, with the caller's token and trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote_from_bytes

import httpcore
import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from shuangsui.gateway.upstreams import Upstreams
from shuangsui.kernel.observability import current_request_id, current_traceparent
from shuangsui.kernel.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem

# RFC 9110 §7.6.1: connection-specific headers are not forwarded by intermediaries. `Expect`
# too: the gateway's own server answers a client's 100-continue (as the body is read), and a
# service must not send one to the gateway, where it would read as an early answer.
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"expect",
}
OWS = b" \t"


def _forwarded_headers(request: Request, host: bytes) -> list[tuple[bytes, bytes]]:
    own = {b"host": host}
    if "content-length" not in request.headers and _has_body(request):
        own[b"transfer-encoding"] = b"chunked"
    traceparent = current_traceparent.get()
    if traceparent:
        own[b"traceparent"] = traceparent.encode()
    request_id = current_request_id.get()
    if request_id:
        own[b"x-request-id"] = request_id.encode()
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    own[b"x-forwarded-for"] = (f"{prior}, {client}" if prior else client).encode("latin-1")
    # RFC 9110 §5.5: a field value has no leading or trailing whitespace. The server hands it
    # over as sent (`Authorization: Bearer ` from an unset `$TOKEN`), and the HTTP/1.1 client
    # refuses to send such a value (h11's LocalProtocolError, once answered as 503), so it is
    # trimmed.
    kept = [
        (name, value.strip(OWS))
        for name, value in request.headers.raw
        if name not in HOP_BY_HOP and name not in own
    ]
    return kept + list(own.items())


def _has_body(request: Request) -> bool:
    return "transfer-encoding" in request.headers or request.headers.get(
        "content-length", "0"
    ) not in ("", "0")


# Characters of a URL's path and query that pass as they are; everything else is %-encoded.
_URL_SAFE = "!$&'()*+,;=:@/?%-._~"


def _target(base: httpx.URL, request: Request) -> bytes:
    """The path and query as the caller sent them (still %-encoded, not decoded and encoded
    again), after the base's own path: a control character a client escaped is forwarded
    escaped, never decoded into an invalid URL; raw bytes that are not URL characters are
    escaped."""
    # Some servers (and httpx's ASGI transport) leave the query on `raw_path`; a path holds no
    # unescaped "?", so what follows one is the query.
    path = (request.scope.get("raw_path") or request.url.path.encode()).split(b"?", 1)[0]
    query: bytes = request.scope.get("query_string", b"")
    target = quote_from_bytes(path, safe=_URL_SAFE)
    if query:
        target += "?" + quote_from_bytes(query, safe=_URL_SAFE)
    return base.raw_path.rstrip(b"/") + target.encode()


async def forward(request: Request, upstreams: Upstreams, service: str) -> StreamingResponse:
    base_url = upstreams.urls.get(service)
    if base_url is None:
        raise Problem(NOT_FOUND, f"no service named {service!r}")
    base = httpx.URL(base_url)
    port = base.port
    host = base.raw_host + (b":%d" % port if port is not None else b"")
    upstream_request = httpcore.Request(
        request.method,
        httpcore.URL(
            scheme=base.raw_scheme, host=base.raw_host, port=port, target=_target(base, request)
        ),
        headers=_forwarded_headers(request, host),
        content=_body(request) if _has_body(request) else None,
        extensions={"timeout": upstreams.timeouts},
    )
    try:
        answer = await upstreams.forwarding_pool(base).handle_async_request(upstream_request)
    except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.RemoteProtocolError) as exc:
        raise Problem(
            SERVICE_UNAVAILABLE, f"the {service} service did not answer ({type(exc).__name__})"
        ) from None
    response = StreamingResponse(
        answer.aiter_stream(), status_code=answer.status, background=BackgroundTask(answer.aclose)
    )
    # The answer's own headers, repeated ones (Set-Cookie) included; the server frames it anew.
    response.raw_headers = [
        (name.lower(), value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP
    ]
    return response


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk
