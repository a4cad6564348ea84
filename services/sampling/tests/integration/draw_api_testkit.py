"""What the draw API's integration tests share: the operations' paths, reading a problem answer,
the subjects read model made current, and walking a draw through a fixed beacon
(DRAW_TEST_MODE) to its completion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from shuangsui.devstack.pytest_plugin import environment

DRAWS = "/api/v1/sampling/draws"
BATCHES = "/api/v1/sampling/batches"
FIXED = "ab" * 32
COMMITTED = "sampling.draw.committed.v1"
COMPLETED = "sampling.draw.completed.v1"
TEAM_ASSIGNED = "sampling.team.assigned.v1"


def prepare_path(batch_id):
    return f"{BATCHES}/{batch_id}/draws"


def commit_path(draw_id):
    return f"{DRAWS}/{draw_id}:commit"


def reveal_path(draw_id):
    return f"{DRAWS}/{draw_id}:reveal"


def problem(answer, status, rule=None):
    assert answer.status_code == status, answer.text
    body = answer.json()
    if rule is not None:
        assert body["rule"] == rule, body
    return body


async def completed_fixed(sampling, draw, headers):
    """Commit a prepared draw with the fixed beacon and reveal it: the completed draw."""
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    path = commit_path(draw["draw_id"])
    committed = await sampling.post(path, json=body, headers={**headers, "If-Match": '"1"'})
    assert committed.status_code == 200, committed.text
    revealed = await sampling.post(reveal_path(draw["draw_id"]),
                                   headers={**headers, "If-Match": '"2"'})  # fmt: skip
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["status"] == "completed"
    return revealed.json()


async def sampling_in_test_mode(service_client):
    """Sampling in test mode (DRAW_TEST_MODE): a fixed beacon may be committed (§5.3)."""
    with environment({"DRAW_TEST_MODE": "true"}):
        return await service_client("sampling")


async def events_of(ledger, event_type, draw_code):
    """The payloads of `event_type` sampling's outbox holds for the draw of that public code."""
    return [e["data"] for e in await ledger("sampling").announced(event_type)
            if e["data"]["draw_code"] == draw_code]  # fmt: skip


def action(draw_id: object, name: str) -> str:
    return f"{DRAWS}/{draw_id}:{name}"


def with_etag(headers: dict[str, str], revision: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{revision}"'}


async def prepared_for(sampling: Any, world: dict[str, Any], batch: Any = None) -> dict[str, Any]:
    batch_id = (batch or world["batch"]).batch_id
    answer = await sampling.post(prepare_path(batch_id), headers=world["owner"])
    assert answer.status_code == 201, answer.text
    draw: dict[str, Any] = answer.json()
    return draw


async def committed_fixed(
    sampling: Any, world: dict[str, Any], batch: Any = None
) -> dict[str, Any]:
    draw = await prepared_for(sampling, world, batch)
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    answer = await sampling.post(action(draw["draw_id"], "commit"), json=body,
                                 headers=with_etag(world["owner"], 1))  # fmt: skip
    assert answer.status_code == 200, answer.text
    committed: dict[str, Any] = answer.json()
    return committed


async def completed(sampling: Any, world: dict[str, Any], batch: Any = None) -> dict[str, Any]:
    draw = await committed_fixed(sampling, world, batch)
    answer = await sampling.post(action(draw["draw_id"], "reveal"),
                                 headers=with_etag(world["owner"], 2))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    done: dict[str, Any] = answer.json()
    return done


@dataclass(frozen=True)
class Bureau:
    """A county bureau of the tests' own (fresh codes): its batches are of one item and take
    their teams from its one station."""

    org: UUID
    org_code: str
    station: str
    item: UUID
    tag: str

    @classmethod
    def fresh(cls, letter: str) -> Bureau:
        tag = uuid.uuid4().hex[:6]
        org_code = f"330106-{letter}{tag}"
        return cls(uuid.uuid4(), org_code, f"{org_code}-01", uuid.uuid4(), tag)

    def officers(self, directory_events: Any, count: int) -> list[Any]:
        return [directory_events.inspector(uuid.uuid4(), org_code=self.org_code,
                                           station_code=self.station) for _ in range(count)]  # fmt: skip

    def batch(self, batch_events: Any, code: str, **changes: Any) -> Any:
        """Planning's published batch of the bureau's item over its station, for the winter."""
        sample = batch_events.published().payload
        example = sample.items[0].model_dump(mode="json")
        policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"),
                  "item_id": str(self.item)}  # fmt: skip
        return batch_events.published(
            org_id=self.org, org_code=self.org_code, batch_code=code, joint_kind="none",
            participants=[], items=[{**example, "item_id": str(self.item)}],
            risk_ratio_policies=[policy], window_start=date(2026, 12, 1),
            window_end=date(2027, 3, 31), **{"station_group": [self.station], **changes},
        )  # fmt: skip


async def fed(feed: Any, events: list[Any]) -> None:
    """Each event through JetStream to sampling's consumers, applied."""
    for event in events:
        source = "planning" if event.actor == "system:planning" else "registry"
        assert await feed.outcome(await feed.publish(event, source)) == "applied"


def prepare_answer(sampling: Any, batch_id: Any, headers: dict[str, str], body: Any = None) -> Any:
    """The raw answer of a prepare, with an optional body (exclusions, kind)."""
    if body is None:
        return sampling.post(prepare_path(batch_id), headers=headers)
    return sampling.post(prepare_path(batch_id), json=body, headers=headers)


async def accepted_recusal(
    sampling: Any, draw_id: str, subject: str, inspector: str, declarer: dict[str, str],
    approver: dict[str, str], reason: str = "recusal",
) -> dict[str, Any]:  # fmt: skip
    """A recusal declared by `declarer` and accepted by `approver`: the decided recusal."""
    path = f"{DRAWS}/{draw_id}/recusals"
    body = {"subject_id": subject, "inspector_id": inspector, "reason": reason}
    declared = await sampling.post(path, json=body, headers=declarer)
    assert declared.status_code == 201, declared.text
    decided = await sampling.post(f"{path}/{declared.json()['recusal_id']}:decide",
                                  json={"accept": True, "reason": "经核实，同意"},
                                  headers=approver)  # fmt: skip
    assert decided.status_code == 200, decided.text
    result: dict[str, Any] = decided.json()
    return result
