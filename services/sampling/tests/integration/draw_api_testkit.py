"""What the draw API's integration tests share: the operations' paths, reading a problem answer,
the subjects read model made current, and walking a draw through a fixed beacon
(DRAW_TEST_MODE) to its completion."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import httpx

from shuangsui.devstack.ports import free_port
from shuangsui.devstack.processes import stop_process
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.supervisor import ChildSpec
from shuangsui.kernel.faults import FAULTS_VARIABLE

DRAWS = "/api/v1/sampling/draws"
BATCHES = "/api/v1/sampling/batches"
FIXED = "ab" * 32
COMMITTED = "sampling.draw.committed.v1"
COMPLETED = "sampling.draw.completed.v1"
SELECTION = "sampling.draw.selection.v1"
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
        """Planning's published batch of the bureau's item over its station, for the winter
        unless `changes` give another window."""
        sample = batch_events.published().payload
        example = sample.items[0].model_dump(mode="json")
        policy = {**sample.risk_ratio_policies[0].model_dump(mode="json"),
                  "item_id": str(self.item)}  # fmt: skip
        window = {"window_start": date(2026, 12, 1), "window_end": date(2027, 3, 31)}
        return batch_events.published(
            org_id=self.org, org_code=self.org_code, batch_code=code, joint_kind="none",
            participants=[], items=[{**example, "item_id": str(self.item)}],
            risk_ratio_policies=[policy],
            **{"station_group": [self.station], **window, **changes},
        )  # fmt: skip


async def fed(feed: Any, events: list[Any]) -> None:
    """Each event through JetStream to sampling's consumers, applied."""
    for event in events:
        source = "planning" if event.actor == "system:planning" else "registry"
        assert await feed.outcome(await feed.publish(event, source)) == "applied"


@dataclass
class SamplingProcesses:
    """Sampling's API and outbox relay as real processes, started as the dev stack starts them
    (its commands and environment), on the test's NATS server and in test mode, each with the
    crash points (`shuangsui.kernel.faults`) it is told to arm. Started processes boot side by
    side; `client()` waits for the API to be ready."""

    stack: Any
    nats_url: str
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, *faults: str) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
        spec = self._spec("sampling")
        argv = list(spec.argv)
        argv[argv.index("--port") + 1] = str(self.port)
        env = {"DRAW_TEST_MODE": "true", FAULTS_VARIABLE: ",".join(faults)}
        return _running(ChildSpec(spec.name, argv, spec.env, spec.log_file), env)

    def relay(
        self, *faults: str, batch_size: int = 1000
    ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
        env = {"RELAY_TEST_MODE": "true", FAULTS_VARIABLE: ",".join(faults),
               "RELAY_BATCH_SIZE": str(batch_size)}  # fmt: skip
        return _running(self._spec("sampling-relay"), env)

    @contextlib.asynccontextmanager
    async def client(self, timeout: float = 60.0) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client of the API, once its /readyz answers 200."""
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            deadline = time.monotonic() + timeout
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sampling not ready in {timeout:.0f} s (its log: "
                                       f"{self._spec('sampling').log_file})")  # fmt: skip
                await asyncio.sleep(0.1)
            yield http

    def _spec(self, name: str) -> ChildSpec:
        spec = {s.name: s for s in self.stack.process_specs()}[name]
        return ChildSpec(spec.name, spec.argv, {**spec.env, "NATS_URL": self.nats_url},
                         spec.log_file)  # fmt: skip


@contextlib.contextmanager
def _running(spec: ChildSpec, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`spec` running until the block ends (or it dies before)."""
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("ab") as log:
        process = subprocess.Popen(spec.argv, env={**os.environ, **spec.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        yield process
    finally:
        stop_process(process)


async def killed_at_its_crash_point(
    process: subprocess.Popen[bytes], timeout: float = 30.0
) -> bool:
    """Whether the process died of SIGKILL (what `crash_point` sends itself) within `timeout`."""
    try:
        code = await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        return False
    return code == -signal.SIGKILL


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
