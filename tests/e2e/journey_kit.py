"""Steps a planner and a draw's departments take through the gateway, shared by the journeys:
a plan version's steps under its ETag, a batch drafted and added, an event read off JetStream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from shuangsui.contracts.workdays import shanghai_date

PLANNING = "/api/v1/planning"
SAMPLING = "/api/v1/sampling"
# A fresh stack: next year has no plan, no policy, nothing of the demo's (which plans this year).
YEAR = shanghai_date(datetime.now(UTC)).year + 1
T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer is not None:
            return answer
        time.sleep(0.2)
    raise AssertionError("timed out")


def etag_of(gateway: httpx.Client, headers: dict[str, str], plan: dict[str, Any]) -> str:
    answer = gateway.get(
        f"{PLANNING}/plans/{plan['plan_id']}", params={"version": plan["version"]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    etag: str = answer.headers["etag"]
    return etag


def step(
    gateway: httpx.Client, headers: dict[str, str], plan: dict[str, Any], action: str, **body: Any
) -> dict[str, Any]:
    """One step of a plan version under its current ETag."""
    answer = gateway.post(
        f"{PLANNING}/plans/{plan['plan_id']}/versions/{plan['version']}:{action}",
        json=body or None,
        headers={**headers, "If-Match": etag_of(gateway, headers, plan)},
    )
    assert answer.status_code in (200, 201), f"{action}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


def create_plan(gateway: httpx.Client, headers: dict[str, str], title: str) -> dict[str, Any]:
    answer = gateway.post(f"{PLANNING}/plans", json={"year": YEAR, "title": title}, headers=headers)
    assert answer.status_code == 201, answer.text
    plan: dict[str, Any] = answer.json()
    return plan


def draft_batch(
    items: dict[str, dict[str, Any]], code: str, region: str, **more: Any
) -> dict[str, Any]:
    return {
        "name": more.pop("name", f"{items[code]['name']} · e2e"),
        "item_ids": [items[code]["item_id"]],
        "scope": {"region_codes": [region]},
        "quantity": {"A": "3%", "B": "1/10", "C": "30%", "D": "60%"},
        "window_start": f"{YEAR}-04-01",
        "window_end": f"{YEAR}-06-30",
        "methods": ["on_site"],
        "selection_mode": "bureau_wide",
        "team_size": 2,
        "exclusion_policy": [{"reason": "INSPECTED_RECENTLY", "months": 12}],
        **more,
    }


def add_batch(
    gateway: httpx.Client, headers: dict[str, str], plan: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    answer = gateway.post(
        f"{PLANNING}/plans/{plan['plan_id']}/versions/{plan['version']}/batches",
        json=body,
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers.get("etag")
    batch: dict[str, Any] = answer.json()
    return batch


def batch_of(gateway: httpx.Client, headers: dict[str, str], batch_id: str) -> httpx.Response:
    return gateway.get(f"{PLANNING}/batches/{batch_id}", headers=headers)


def announced(
    nats_port: int, event_type: str, subject: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The event of `event_type` about `subject` as it reached NATS JetStream (carried there by
    the publishing service's outbox relay): what the consuming services will read."""
    import nats

    async def read() -> dict[str, Any]:
        client = await nats.connect(f"nats://127.0.0.1:{nats_port}")
        try:
            js = client.jetstream()
            sub = await js.subscribe(f"evt.p33.{event_type}", ordered_consumer=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    message = await sub.next_msg(timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                envelope: dict[str, Any] = json.loads(message.data)
                if envelope["subject"] == subject:
                    return envelope
            raise AssertionError(f"no {event_type} about {subject} on the stream")
        finally:
            await client.close()

    return asyncio.run(read())
