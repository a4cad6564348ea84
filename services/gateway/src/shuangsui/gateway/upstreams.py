"""The services behind the gateway: one HTTP client, readiness of each, their OpenAPI documents."""

from __future__ import annotations

from typing import Any

import httpx


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
    """A shared connection pool to every service (a component only so the app closes it)."""

    name = "http_client"

    def __init__(self, urls: dict[str, str], timeout: float) -> None:
        self.urls = urls
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()

    async def ready(self) -> tuple[bool, str]:
        return True, "ok"

    def services(self) -> list[UpstreamService]:
        return [UpstreamService(name, url, self) for name, url in self.urls.items()]

    async def fetch_json(self, service: str, path: str) -> Any:
        answer = await self.client.get(f"{self.urls[service]}{path}", timeout=5.0)
        answer.raise_for_status()
        return answer.json()
