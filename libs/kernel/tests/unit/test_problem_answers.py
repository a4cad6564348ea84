"""Every error is an RFC 9457 problem document (ARCHITECTURE.md §5): validation, unknown paths,
wrong methods, problems raised by routes, and unexpected failures — never a bare 500."""

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from shuangsui.kernel.errors import field_path
from shuangsui.kernel.problems import FieldError, Problem, ProblemType

PROBLEM_JSON = "application/problem+json"
USCC = "91330106MA2KXXXX0X"

WIDGET_JAMMED = ProblemType(
    "widget-jammed", 409, "Widget jammed · 部件卡住", "The widget cannot move until freed."
)


class Item(BaseModel):
    uscc: str = Field(min_length=18, max_length=18)


class Batch(BaseModel):
    items: list[Item]


router = APIRouter(prefix="/api/v1/kerneltest")


@router.post("/batches")
async def push_batch(batch: Batch) -> dict[str, int]:
    return {"count": len(batch.items)}


@router.get("/things/{thing_id}")
async def get_thing(thing_id: int) -> dict[str, int]:
    return {"thing_id": thing_id}


@router.get("/broken")
async def broken() -> None:
    raise RuntimeError("connection to db-primary:5432 failed, password=hunter2")


@router.post("/widgets/{widget_id}:move")
async def move_widget(widget_id: str) -> None:
    raise Problem(
        WIDGET_JAMMED,
        f"widget {widget_id} is jammed",
        errors=[FieldError("widget_id", "jammed since 08:00")],
        headers={"Retry-After": "30"},
        jammed_since="08:00",
    )


@pytest.fixture
async def client(build_app, client_of):
    return await client_of(build_app(router))


def errors_by_field(answer) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in answer.json()["errors"]}


async def test_invalid_body_is_422_problem_listing_each_bad_field(client):
    answer = await client.post(
        "/api/v1/kerneltest/batches", json={"items": [{"uscc": USCC}, {"uscc": "short"}, {}]}
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.json()["type"] == "/problems/validation-error"
    assert set(errors_by_field(answer)) == {"items[1].uscc", "items[2].uscc"}


async def test_each_invalid_field_comes_with_a_reason(client):
    answer = await client.post("/api/v1/kerneltest/batches", json={"items": [{}]})

    assert errors_by_field(answer)["items[0].uscc"] == "Field required"


async def test_malformed_json_body_is_reported_against_the_body(client):
    answer = await client.post(
        "/api/v1/kerneltest/batches",
        content=b'{"items": [',
        headers={"content-type": "application/json"},
    )

    assert answer.status_code == 422
    assert list(errors_by_field(answer)) == ["body"]


async def test_path_parameter_of_wrong_type_is_422_naming_the_parameter(client):
    answer = await client.get("/api/v1/kerneltest/things/seven")

    assert answer.status_code == 422
    assert list(errors_by_field(answer)) == ["thing_id"]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "items", 0, "uscc"), "items[0].uscc"),
        (("query", "limit"), "limit"),
        (("body", "grid", 2, 3), "grid[2][3]"),
        (("body", "plan", "batches", 1, "items", 0), "plan.batches[1].items[0]"),
        (("body",), "body"),
    ],
)
def test_field_paths_read_like_the_request_document(loc, path):
    assert field_path(loc) == path


async def test_unknown_path_is_404_problem(client):
    answer = await client.get("/api/v1/kerneltest/nowhere")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.json()["type"] == "/problems/not-found"


async def test_wrong_method_is_405_problem_naming_the_allowed_methods(client):
    answer = await client.delete("/api/v1/kerneltest/things/7")

    assert answer.status_code == 405
    assert answer.json()["type"] == "/problems/method-not-allowed"
    assert answer.headers["allow"] == "GET"


async def test_unexpected_error_is_500_internal_error_problem(client):
    answer = await client.get("/api/v1/kerneltest/broken")

    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.json()["type"] == "/problems/internal-error"


async def test_unexpected_error_reveals_no_internals(client):
    answer = await client.get("/api/v1/kerneltest/broken")

    assert "hunter2" not in answer.text
    assert "Traceback" not in answer.text
    assert "RuntimeError" not in answer.text


async def test_unexpected_error_carries_the_request_id_to_quote_to_support(client):
    answer = await client.get("/api/v1/kerneltest/broken", headers={"x-request-id": "req-500-a"})

    assert answer.json().get("request_id") == "req-500-a"
    assert answer.headers.get("x-request-id") == "req-500-a"


async def test_problem_raised_in_a_route_keeps_its_status_type_and_detail(client):
    answer = await client.post("/api/v1/kerneltest/widgets/w-9:move")

    assert answer.status_code == 409
    assert answer.json()["type"] == "/problems/widget-jammed"
    assert answer.json()["title"] == "Widget jammed · 部件卡住"
    assert answer.json()["detail"] == "widget w-9 is jammed"


async def test_problem_raised_in_a_route_keeps_its_field_errors_and_extensions(client):
    answer = await client.post("/api/v1/kerneltest/widgets/w-9:move")

    assert answer.json()["errors"] == [{"field": "widget_id", "reason": "jammed since 08:00"}]
    assert answer.json()["jammed_since"] == "08:00"


async def test_problem_raised_in_a_route_sends_its_headers(client):
    answer = await client.post("/api/v1/kerneltest/widgets/w-9:move")

    assert answer.headers["retry-after"] == "30"


async def test_problem_names_the_request_path_as_its_instance(client):
    answer = await client.post("/api/v1/kerneltest/widgets/w-9:move")

    assert answer.json()["instance"] == "/api/v1/kerneltest/widgets/w-9:move"
