"""What every service answers besides its own routes: request ids, W3C trace context, /healthz,
/readyz, /metrics and the /problems catalogue (ARCHITECTURE.md §5)."""

import re

import pytest
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families

from shuangsui.kernel import problems

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"

router = APIRouter(prefix="/api/v1/kerneltest")


@router.get("/things/{thing_id}")
async def get_thing(thing_id: int) -> dict[str, int]:
    return {"thing_id": thing_id}


class FakeComponent:
    """A dependency the app reports in /readyz; the test decides whether it is reachable."""

    def __init__(self, name: str, ready: bool, detail: str, journal: list[str] | None = None):
        self.name = name
        self._ready = ready
        self._detail = detail
        self.journal = [] if journal is None else journal

    async def start(self) -> None:
        self.journal.append(f"{self.name} started")

    async def stop(self) -> None:
        self.journal.append(f"{self.name} stopped")

    async def ready(self) -> tuple[bool, str]:
        return self._ready, self._detail


@pytest.fixture
async def client(build_app, client_of):
    return await client_of(build_app(router))


def trace_parts(traceparent: str) -> tuple[str, str, str]:
    match = TRACEPARENT.match(traceparent)
    assert match is not None, f"not a W3C traceparent: {traceparent!r}"
    return match.group(1), match.group(2), match.group(3)


async def test_request_id_sent_by_the_caller_is_echoed(client):
    answer = await client.get("/api/v1/kerneltest/things/1", headers={"x-request-id": "abc-123"})

    assert answer.headers["x-request-id"] == "abc-123"


async def test_request_without_id_is_given_one_that_its_problem_quotes(client):
    answer = await client.get("/api/v1/kerneltest/nowhere")

    assert answer.headers["x-request-id"]
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


async def test_valid_traceparent_keeps_its_trace_id_with_a_new_span_id(client):
    incoming = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"

    answer = await client.get("/api/v1/kerneltest/things/1", headers={"traceparent": incoming})

    trace_id, span_id, _flags = trace_parts(answer.headers["traceparent"])
    assert trace_id == CALLER_TRACE_ID
    assert span_id != CALLER_SPAN_ID


async def test_request_without_traceparent_starts_a_sampled_trace(client):
    answer = await client.get("/api/v1/kerneltest/things/1")

    assert trace_parts(answer.headers["traceparent"])[2] == "01"


@pytest.mark.parametrize(
    "incoming",
    [
        "garbage",
        f"00-{CALLER_TRACE_ID[:-2]}-{CALLER_SPAN_ID}-01",
        f"00-{CALLER_TRACE_ID.upper()}-{CALLER_SPAN_ID}-01",
        f"01-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01",
        f"00-{'0' * 32}-{CALLER_SPAN_ID}-01",
        f"00-{CALLER_TRACE_ID}-{'0' * 16}-01",
    ],
    ids=["garbage", "short-trace-id", "upper-case", "unknown-version", "zero-trace", "zero-span"],
)
async def test_invalid_traceparent_is_replaced_by_a_new_trace(client, incoming):
    answer = await client.get("/api/v1/kerneltest/things/1", headers={"traceparent": incoming})

    trace_id, _span_id, _flags = trace_parts(answer.headers["traceparent"])
    assert trace_id not in (CALLER_TRACE_ID, CALLER_TRACE_ID.upper(), "0" * 32)


async def test_healthz_says_the_service_is_alive(client):
    answer = await client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "alive", "service": "kerneltest"}


async def test_readyz_is_200_when_every_component_is_ready(build_app, client_of):
    app = build_app(components=[FakeComponent("database", True, "ok")])
    client = await client_of(app)

    answer = await client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json()["ready"] is True


async def test_readyz_is_503_naming_the_component_that_is_not_ready(build_app, client_of):
    app = build_app(
        components=[
            FakeComponent("database", True, "ok"),
            FakeComponent("broker", False, "unreachable: ConnectionRefusedError"),
        ]
    )
    client = await client_of(app)

    answer = await client.get("/readyz")

    assert answer.status_code == 503
    not_ready = {name for name, check in answer.json()["checks"].items() if not check["ready"]}
    assert not_ready == {"broker"}
    assert answer.json()["checks"]["broker"]["detail"] == "unreachable: ConnectionRefusedError"


async def test_components_start_in_order_with_the_app_and_stop_in_reverse(build_app):
    journal: list[str] = []
    app = build_app(
        components=[
            FakeComponent("database", True, "ok", journal),
            FakeComponent("broker", True, "ok", journal),
        ]
    )

    async with app.router.lifespan_context(app):
        journal.append("serving")

    assert journal == [
        "database started",
        "broker started",
        "serving",
        "broker stopped",
        "database stopped",
    ]


async def test_metrics_count_requests_by_route_template_and_status(client):
    await client.get("/api/v1/kerneltest/things/7")
    await client.get("/api/v1/kerneltest/things/8")

    metrics = (await client.get("/metrics")).text

    counted = {
        (s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "http_requests"
        for s in family.samples
        if s.name == "http_requests_total"
    }
    assert counted[("/api/v1/kerneltest/things/{thing_id}", "200")] == 2


async def test_metrics_do_not_label_by_concrete_path(client):
    await client.get("/api/v1/kerneltest/things/7")

    metrics = (await client.get("/metrics")).text

    assert "/api/v1/kerneltest/things/7" not in metrics


async def test_problem_catalogue_documents_the_kernels_problem_types(client):
    catalogue = {entry["type"]: entry for entry in (await client.get("/problems")).json()}

    assert catalogue["/problems/validation-error"]["status"] == 422
    assert catalogue["/problems/idempotency-outcome-unknown"]["status"] == 409


async def test_problem_catalogue_includes_types_declared_by_a_service(client, monkeypatch):
    declared = problems.ProblemType(
        "stale-change", 409, "Stale change · 数据已过期", "A newer version was pushed earlier."
    )
    monkeypatch.setitem(problems.CATALOGUE, declared.name, declared)

    catalogue = {entry["type"]: entry for entry in (await client.get("/problems")).json()}

    assert catalogue["/problems/stale-change"] == {
        "type": "/problems/stale-change",
        "status": 409,
        "title": "Stale change · 数据已过期",
        "description": "A newer version was pushed earlier.",
    }
