"""The services behind the gateway: one HTTP client, readiness of each, their OpenAPI documents."""

from __future__ import annotations

import ssl
from typing import Any

import httpcore
import httpx

from shuangsui.gateway.transport import AnswerKeepingBackend

# As httpx's defaults, which the gateway used before it forwarded through httpcore itself.
MAX_CONNECTIONS = 100
KEEPALIVE_CONNECTIONS = 20
KEEPALIVE_SECONDS = 5.0
CONNECT_SECONDS = 5.0


class UpstreamService:
    """One service behind the gateway, as a readiness component: `/readyz` names each."""

    def __init__(self, name: str, url: str, upstreams: Upstreams) -> None:
        self.name = name
        self.url = url
        self._upstreams = upstreams

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> tuple[bool, str]:
        try:
            answer = await self._upstreams.client.get(f"{self.url}/readyz", timeout=3.0)
        except httpx.HTTPError as exc:
            return False, f"unreachable: {type(exc).__name__}"
        if answer.status_code == 200:
            return True, "ok"
        try:
            checks = answer.json().get("checks", {})
            failing = [name for name, check in checks.items() if not check.get("ready")]
        except ValueError:
            failing = []
        return False, f"not ready ({', '.join(failing) or answer.status_code})"


class Upstreams:
    """Shared connection pools to every service (a component only so the app closes them):
    `client` for the gateway's own calls, `forwarding_pool(url)` for forwarded requests."""

    name = "http_client"

    def __init__(self, urls: dict[str, str], timeout: float) -> None:
        self.urls = urls
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=CONNECT_SECONDS))
        self.timeouts = {
            "connect": CONNECT_SECONDS,
            "read": timeout,
            "write": timeout,
            "pool": timeout,
        }
        limits: dict[str, Any] = {
            "max_connections": MAX_CONNECTIONS,
            "max_keepalive_connections": KEEPALIVE_CONNECTIONS,
            "keepalive_expiry": KEEPALIVE_SECONDS,
        }
        # Plain connections keep an answer sent before the body was (see transport.py).
        self._plain = httpcore.AsyncConnectionPool(network_backend=AnswerKeepingBackend(), **limits)
        self._tls = httpcore.AsyncConnectionPool(ssl_context=ssl.create_default_context(), **limits)

    def forwarding_pool(self, url: httpx.URL) -> httpcore.AsyncConnectionPool:
        return self._tls if url.scheme == "https" else self._plain

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()
        await self._plain.aclose()
        await self._tls.aclose()

    async def ready(self) -> tuple[bool, str]:
        return True, "ok"

    def services(self) -> list[UpstreamService]:
        return [UpstreamService(name, url, self) for name, url in self.urls.items()]

    async def fetch_json(self, service: str, path: str) -> Any:
        answer = await self.client.get(f"{self.urls[service]}{path}", timeout=5.0)
        answer.raise_for_status()
        return answer.json()
