"""Calling another service's public API: typed answers, typed problems, bounded retries.

Used where a request needs another service's answer now (planning's population preview asks
the registry). Event handlers never call out (ADR 0003): a step of its own fetches remote data.

- The base URL, timeout and attempts come from settings; the token is the caller's service
  principal (`kernel.service_auth`), addressed to the callee alone.
- Idempotent calls (GET, HEAD, PUT, DELETE, or any call carrying an `Idempotency-Key`) are
  retried on a lost connection, a timeout, 502/503/504 and 429, with capped exponential backoff
  and jitter; others are tried once, since a lost answer may hide an applied change.
- A problem+json answer becomes a `ServiceCallError` carrying the decoded `RemoteProblem`.
- The caller's `traceparent` (a new span of the same trace) and request id go along.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from fastapi import Request
from pydantic import BaseModel, ValidationError

from shuangsui.kernel.auth import internal_audience
from shuangsui.kernel.observability import current_request_id, current_traceparent, new_traceparent
from shuangsui.kernel.service_auth import ServiceTokens, service_tokens
from shuangsui.kernel.settings import BaseServiceSettings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
MAX_BACKOFF_SECONDS = 5.0

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RemoteProblem:
    """An RFC 9457 problem document another service answered with."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: tuple[tuple[str, str], ...] = ()  # (field, reason)
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, answer: httpx.Response) -> RemoteProblem:
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return cls("about:blank", answer.reason_phrase or "error", answer.status_code)
        known = {"type", "title", "status", "detail", "instance", "errors"}
        errors = tuple(
            (str(e.get("field", "")), str(e.get("reason", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        return cls(
            type=body["type"],
            title=str(body.get("title", "")),
            status=int(body.get("status") or answer.status_code),
            detail=body.get("detail"),
            instance=body.get("instance"),
            errors=errors,
            extensions={k: v for k, v in body.items() if k not in known},
        )


class ServiceCallError(Exception):
    """The callee answered with an error (`problem` says which), or not at all."""

    def __init__(self, service: str, operation: str, problem: RemoteProblem) -> None:
        super().__init__(
            f"{operation} on {service}: {problem.status} {problem.type}"
            + (f" — {problem.detail}" if problem.detail else "")
        )
        self.service = service
        self.operation = operation
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status


class ServiceUnreachable(ServiceCallError):
    """No answer after every attempt: connection refused, timeouts, 502/503/504."""


def backoff(attempt: int, base: float) -> float:
    """Full jitter (the AWS architecture blog's variant): 0 … base·2^attempt, capped."""
    return random.uniform(0, min(MAX_BACKOFF_SECONDS, base * 2**attempt))


class ServiceClient:
    """One callee, one connection pool. An app component: started and closed with the app."""

    def __init__(
        self,
        service: str,
        base_url: str,
        tokens: ServiceTokens,
        *,
        audience: str,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_base: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self.name = f"{service}_client"
        self.base_url = base_url.rstrip("/")
        self.audience = audience
        self.attempts = attempts
        self.backoff_base = backoff_base
        self._tokens = tokens
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(
        cls, settings: BaseServiceSettings, caller: str, service: str, base_url: str
    ) -> ServiceClient:
        return cls(
            service,
            base_url,
            service_tokens(settings, caller),
            audience=internal_audience(settings.auth_audience, service),
            timeout=settings.service_call_timeout_seconds,
            attempts=settings.service_call_attempts,
        )

    async def start(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url, timeout=self._timeout, transport=self._transport
            )

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def ready(self) -> tuple[bool, str]:
        # The callee's health is its own readiness, not ours: a service that is down makes our
        # calls answer 503, and readiness must not cascade through the platform.
        return True, f"calls {self.base_url}"

    async def get_model(
        self, path: str, model: type[M], *, operation: str, params: Any = None
    ) -> M:
        """GET a JSON document and read it as `model` (a field it lacks is a call error)."""
        answer = await self.request("GET", path, operation=operation, params=params)
        try:
            return model.model_validate_json(answer.content)
        except ValidationError as exc:
            problem = RemoteProblem(
                "about:blank", "unexpected answer", 502, detail=str(exc.errors()[:3])
            )
            raise ServiceCallError(self.service, operation, problem) from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The answer when it is a success (2xx/3xx); a `ServiceCallError` otherwise."""
        await self.start()
        assert self._http is not None
        sent_headers = dict(headers or {})
        retriable = method.upper() in IDEMPOTENT_METHODS or any(
            k.lower() == "idempotency-key" for k in sent_headers
        )
        attempts = self.attempts if retriable else 1
        refreshed = False
        attempt = 0
        while True:
            call_headers = {**sent_headers, **await self._context_headers()}
            try:
                answer = await self._http.request(
                    method, path, params=params, json=json, headers=call_headers
                )
            except httpx.TransportError as exc:
                if attempt + 1 >= attempts:
                    raise self._unreachable(operation, type(exc).__name__) from None
            else:
                if answer.status_code == 401 and not refreshed:
                    # A key rotated or a grant changed since the token was cached: once more
                    # with a new token, which is harmless for any method (nothing was done).
                    self._tokens.forget(self.audience)
                    refreshed = True
                    continue
                if answer.status_code < 400:
                    return answer
                if answer.status_code not in RETRIED_STATUSES or attempt + 1 >= attempts:
                    kind = (
                        ServiceUnreachable
                        if answer.status_code in RETRIED_STATUSES
                        else ServiceCallError
                    )
                    raise kind(self.service, operation, RemoteProblem.of(answer))
                retry_after = _retry_after(answer)
                if retry_after is not None:
                    await asyncio.sleep(retry_after)
                    attempt += 1
                    continue
            await asyncio.sleep(backoff(attempt, self.backoff_base))
            attempt += 1

    async def _context_headers(self) -> dict[str, str]:
        headers = {"authorization": f"Bearer {await self._tokens.token_for(self.audience)}"}
        headers["traceparent"] = new_traceparent(current_traceparent.get())
        request_id = current_request_id.get()
        if request_id:
            headers["x-request-id"] = request_id
        return headers

    def _unreachable(self, operation: str, why: str) -> ServiceUnreachable:
        problem = RemoteProblem(
            "/problems/service-unavailable",
            "Service unavailable",
            503,
            detail=f"the {self.service} service did not answer ({why})",
        )
        return ServiceUnreachable(self.service, operation, problem)


def _retry_after(answer: httpx.Response) -> float | None:
    value = answer.headers.get("retry-after", "")
    return min(float(value), MAX_BACKOFF_SECONDS) if value.isdigit() else None


def client_of(service: str) -> Callable[[Request], ServiceClient]:
    """FastAPI dependency: the app's client of `service` (a component named `<service>_client`)."""

    def dependency(request: Request) -> ServiceClient:
        client: ServiceClient = getattr(request.app.state, f"{service}_client")
        return client

    return dependency
