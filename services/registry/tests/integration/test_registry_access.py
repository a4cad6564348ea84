"""Who may call what: every registry operation that needs a token refuses those who must not.

The walk comes from the registry's own OpenAPI document, so an operation added later is walked
without touching this file; a test below checks the walk covers what `/openapi.json` serves.
Path parameters name real Zhejiang records where one exists (a pushed subject, an imported
officer, a loaded org), so a refusal is never just "there is nothing there".
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from shuangsui.devstack.issuer import authorization
from shuangsui.registry.api import ROUTERS

BASE = "/api/v1/registry"
PROBLEM_JSON = "application/problem+json"
GUANGDONG = "440000"
ORG_CODE = "330106001"
STATION_CODE = "330106-01"
OFFICER_CERT = "ACCESS-WALK-0001"
OFFICER_QUALIFICATION = "access_walk"
# A subject of its own for each test: every test starts a registry of its own, and a push that
# only repeats what is stored fails on a fresh connection (see test_subject_contract_extras).
SUBJECT_NUMBERS = itertools.count(9_410_001)

# Published item lists and work guides are public (seed §(七) 向社会公开): a token is optional.
PUBLIC_READS = {
    ("get", f"{BASE}/items"),
    ("get", f"{BASE}/item-lists"),
    ("get", f"{BASE}/item-lists/{{list_id}}"),
    ("get", f"{BASE}/item-lists/{{list_id}}/items"),
    ("get", f"{BASE}/item-lists/{{list_id}}/export"),
    ("get", f"{BASE}/items/{{item_id}}/guides"),
    ("get", f"{BASE}/items/{{item_id}}/guides/{{version}}"),
}
# What monitoring and clients reach without a token on every service.
OPERATIONAL = {"/healthz", "/readyz", "/metrics", "/problems"}
# Reads an integrator's push token must not open (personal data, the directory's contents).
DIRECTORY_READS = [
    ("get", f"{BASE}/subjects/{{uscc}}"),
    ("get", f"{BASE}/subjects"),
    ("get", f"{BASE}/subjects/{{uscc}}/history"),
    ("get", f"{BASE}/population:count"),
    ("get", f"{BASE}/inspectors"),
]
ISSUE_4_OPERATION_IDS = {
    "registry_subjects_bulk_upsert", "registry_subjects_get", "registry_subjects_list",
    "registry_population_count", "registry_items_list", "registry_inspectors_import",
    "registry_inspectors_list",
}  # fmt: skip
# Bodies for JSON schemas that carry no example in the document.
BODIES_WITHOUT_EXAMPLE: dict[str, Any] = {
    "ProbeIn": {"note": "access walk"},
    "InspectorPatch": {"position": "科长"},
    "StatusIn": {"status": "suspended"},
    "ConflictIn": {"subject_uscc": "91350100M000100Y43", "reason": "亲属"},
}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def needs_token(self) -> bool:
        return bool(self.spec.get("security")) and (self.method, self.path) not in PUBLIC_READS

    def path_parameters(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]

    def header_parameters(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "header"]


def _document() -> dict[str, Any]:
    """The registry's routes as the service mounts them; compared with the served document below."""
    app = FastAPI()
    for router in ROUTERS:
        app.include_router(router)
    return app.openapi()


def _operations(doc: dict[str, Any]) -> list[Operation]:
    return [
        Operation(spec["operationId"], method, path, spec)
        for path, item in doc["paths"].items()
        for method, spec in item.items()
    ]


DOCUMENT = _document()
OPERATIONS = _operations(DOCUMENT)
GUARDED = [op for op in OPERATIONS if op.needs_token]


def guarded(*only: tuple[str, str]) -> Any:
    chosen = [op for op in GUARDED if not only or (op.method, op.path) in only]
    return pytest.mark.parametrize("operation", chosen, ids=[op.operation_id for op in chosen])


@dataclass(frozen=True)
class Zhejiang:
    """Real records of the province the registry serves, to name in paths."""

    uscc: str
    inspector_id: str


@pytest.fixture
async def zhejiang(registry, admin, pusher, subject_row) -> Zhejiang:
    """A pushed subject, and the officer imported (again in later tests: unchanged) with the
    orgs the officer names."""
    row = subject_row(next(SUBJECT_NUMBERS))
    pushed = await registry.post(
        f"{BASE}/subjects:bulk",
        content=(json.dumps(row, ensure_ascii=False) + "\n").encode(),
        headers={**pusher, "content-type": "application/x-ndjson"},
    )
    assert pushed.status_code == 200, pushed.text
    orgs = (
        "code,name,level,region_code,parent_code,is_hq\n"
        f"{ORG_CODE},杭州市西湖区市场监督管理局,county,330106,,true\n"
        f"{STATION_CODE},西湖区市场监督管理局第一市场监管所,station,330106,{ORG_CODE},false\n"
    )
    loaded = await registry.post(
        f"{BASE}/orgs:import", content=orgs.encode(), headers={**admin, "content-type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    officers = (
        "name,unit_code,region_code,station_code,cert_no,cert_valid_until,qualifications\n"
        f"王芳,{ORG_CODE},330106,{STATION_CODE},{OFFICER_CERT},2027-06-30,{OFFICER_QUALIFICATION}\n"
    )
    imported = await registry.post(
        f"{BASE}/inspectors:import",
        content=officers.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    listed = await registry.get(
        f"{BASE}/inspectors", params={"qualification": OFFICER_QUALIFICATION}, headers=admin
    )
    [officer] = listed.json()["items"]
    return Zhejiang(uscc=row["uscc"], inspector_id=officer["inspector_id"])


def path_of(operation: Operation, zhejiang: Zhejiang) -> str:
    plausible = {
        "uscc": zhejiang.uscc,
        "inspector_id": zhejiang.inspector_id,
        "code": ORG_CODE,
        "version": "1",
        "list_id": str(uuid.uuid4()),
        "item_id": str(uuid.uuid4()),
        "conflict_id": str(uuid.uuid4()),
        "correction_id": str(uuid.uuid4()),
        "institution_id": str(uuid.uuid4()),
        "expert_code": "ZJ-EXPERT-0001",
    }
    path = operation.path
    for name in operation.path_parameters():
        if name not in plausible:
            pytest.fail(f"no plausible value for the path parameter {name!r}: add one here")
        path = path.replace(f"{{{name}}}", plausible[name])
    return path


def body_of(operation: Operation) -> dict[str, Any]:
    """The first media type the operation takes, with the document's own example of it."""
    content = operation.spec.get("requestBody", {}).get("content", {})
    if not content:
        return {}
    media_type, described = next(iter(content.items()))
    example = _example(described)
    if media_type == "application/json":
        return {"json": example if example is not None else {}}
    if example is None:
        pytest.fail(f"{operation.operation_id} documents no example {media_type} body")
    return {"content": str(example).encode(), "headers": {"content-type": media_type}}


def _example(described: dict[str, Any]) -> Any:
    if described.get("examples"):
        return next(iter(described["examples"].values()))["value"]
    if "example" in described:
        return described["example"]
    schema = described.get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    examples = DOCUMENT["components"]["schemas"].get(name, {}).get("examples")
    if examples:
        return examples[0]
    return BODIES_WITHOUT_EXAMPLE.get(name)


def headers_of(operation: Operation) -> dict[str, str]:
    plausible = {"If-Match": '"1"', "Idempotency-Key": f"access-{uuid.uuid4()}"}
    return {name: plausible[name] for name in operation.header_parameters() if name in plausible}


async def call(registry, operation: Operation, zhejiang: Zhejiang, token: dict[str, str]):
    body = body_of(operation)
    headers = {**headers_of(operation), **body.pop("headers", {}), **token}
    return await registry.request(
        operation.method.upper(), path_of(operation, zhejiang), headers=headers, **body
    )


async def last_event(stack) -> int:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM outbox"))
    finally:
        await conn.close()


def assert_problem(answer, *statuses: int) -> None:
    assert answer.status_code in statuses, (
        f"expected {statuses}, got {answer.status_code}: " + (answer.text[:300])
    )
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), answer.headers
    assert answer.json()["status"] == answer.status_code


async def served_operations(registry) -> list[Operation]:
    return _operations((await registry.get("/openapi.json")).json())


async def test_the_walk_covers_every_operation_the_registry_serves(registry):
    served = {
        (op.method, op.path, op.operation_id)
        for op in await served_operations(registry)
        if op.path not in OPERATIONAL
    }
    assert served == {(op.method, op.path, op.operation_id) for op in OPERATIONS}
    assert len(GUARDED) >= 40, "the walk must reach the whole API, not a stray corner of it"


async def test_only_published_lists_and_operational_probes_go_without_a_token(registry):
    open_to_all = {
        (op.method, op.path) for op in await served_operations(registry) if not op.needs_token
    }
    assert {path for _, path in open_to_all - PUBLIC_READS} <= OPERATIONAL
    assert open_to_all >= PUBLIC_READS, "a public read named here is no longer in the document"


async def test_the_document_says_a_token_is_optional_on_public_reads(registry):
    for op in await served_operations(registry):
        if (op.method, op.path) in PUBLIC_READS and "security" in op.spec:
            assert {} in op.spec["security"], f"{op.operation_id} documents a mandatory token"


async def test_the_operation_ids_of_issue_4_keep_their_names(registry):
    served = {op.operation_id for op in await served_operations(registry)}
    assert served >= ISSUE_4_OPERATION_IDS, sorted(ISSUE_4_OPERATION_IDS - served)


@guarded()
async def test_another_province_is_refused_and_changes_nothing(
    operation, registry, zhejiang, mint_token, stack
):
    guangdong = authorization(mint_token(roles=["provincial_admin"], region=GUANGDONG))
    before = await last_event(stack)
    answer = await call(registry, operation, zhejiang, guangdong)
    assert_problem(answer, 403, 404)
    assert await last_event(stack) == before, "a refused call recorded an event"


@guarded()
async def test_a_call_without_a_token_is_401_and_changes_nothing(
    operation, registry, zhejiang, stack
):
    before = await last_event(stack)
    answer = await call(registry, operation, zhejiang, {})
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"] == "Bearer"
    assert await last_event(stack) == before, "a refused call recorded an event"


@pytest.mark.parametrize(
    "operation",
    [op for op in OPERATIONS if (op.method, op.path) in PUBLIC_READS],
    ids=lambda op: op.operation_id,
)
async def test_public_reads_answer_without_a_token(operation, registry, zhejiang):
    answer = await call(registry, operation, zhejiang, {})
    assert answer.status_code in (200, 404), answer.text[:300]


@guarded(*DIRECTORY_READS)
async def test_a_push_token_cannot_read_the_directory(operation, registry, zhejiang, pusher):
    answer = await call(registry, operation, zhejiang, pusher)
    assert_problem(answer, 403)


def test_every_directory_read_named_here_is_in_the_walk():
    assert set(DIRECTORY_READS) <= {(op.method, op.path) for op in GUARDED}
