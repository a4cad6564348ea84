"""An operation documents its error answers with one helper: each is problem+json with the
`Problem` schema, and a problem type named for it appears as an example of its `type`."""

import pytest
from fastapi import APIRouter

from shuangsui.kernel.concurrency import IF_MATCH, check_if_match
from shuangsui.kernel.problems import (
    IDEMPOTENCY_IN_PROGRESS,
    PRECONDITION_FAILED,
    PRECONDITION_REQUIRED,
    PROBLEM_MEDIA_TYPE,
    problem_type,
)
from shuangsui.kernel.responses import problem_responses

DRAFT_EXISTS = problem_type(
    "kerneltest-draft-exists", 409, "A draft exists · 已有草稿", "Only one draft at a time."
)

router = APIRouter(prefix="/api/v1/kerneltest")


@router.put(
    "/drafts/{draft_id}",
    operation_id="kerneltest_drafts_replace",
    responses=problem_responses(
        DRAFT_EXISTS, PRECONDITION_FAILED, PRECONDITION_REQUIRED,
        descriptions={404: "No such draft · 未找到"},
    ),
)  # fmt: skip
async def replace_draft(draft_id: int, if_match: str | None = IF_MATCH) -> dict[str, int]:
    check_if_match(if_match, 1)
    return {"draft_id": draft_id}


def problem_content(response: dict) -> dict:
    assert set(response["content"]) == {PROBLEM_MEDIA_TYPE}
    return response["content"][PROBLEM_MEDIA_TYPE]


def test_a_status_is_documented_as_a_problem_document():
    [(status, response)] = problem_responses(413).items()
    assert status == 413
    assert problem_content(response)["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert response["description"] == "Body too large · 请求体过大"


def test_a_problem_type_shows_its_type_as_the_example_and_its_title_as_the_description():
    response = problem_responses(PRECONDITION_FAILED)[412]
    assert response["description"] == PRECONDITION_FAILED.title
    [example] = problem_content(response)["examples"].values()
    assert example["value"] == {
        "type": "/problems/precondition-failed",
        "title": PRECONDITION_FAILED.title,
        "status": 412,
    }


def test_problem_types_of_one_status_share_its_entry():
    responses = problem_responses(IDEMPOTENCY_IN_PROGRESS, DRAFT_EXISTS)
    assert list(responses) == [409]
    examples = problem_content(responses[409])["examples"]
    assert {e["value"]["type"] for e in examples.values()} == {
        "/problems/idempotency-in-progress",
        "/problems/kerneltest-draft-exists",
    }


def test_a_description_replaces_the_default_and_documents_its_status():
    responses = problem_responses(409, descriptions={404: "No such draft · 未找到"})
    assert sorted(responses) == [404, 409]
    assert responses[404]["description"] == "No such draft · 未找到"
    assert "schema" in problem_content(responses[404])


def test_a_status_without_a_known_meaning_uses_its_http_phrase():
    assert problem_responses(423)[423]["description"] == "Locked"


@pytest.mark.parametrize("status", [200, 302, 600])
def test_only_error_statuses_are_problems(status):
    with pytest.raises(ValueError, match="not an error status"):
        problem_responses(status)


async def test_the_served_document_carries_the_operations_and_the_common_answers(
    build_app, client_of
):
    client = await client_of(build_app(router))
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/kerneltest/drafts/{draft_id}"]["put"]
    answers = operation["responses"]
    assert {"401", "403", "404", "409", "412", "422", "428"} <= set(answers)
    assert answers["404"]["description"] == "No such draft · 未找到"
    assert "kerneltest-draft-exists" in problem_content(answers["409"])["examples"]
    # Every service answers these; the app documents them on every operation.
    assert "unauthenticated" in problem_content(answers["401"])["examples"]
    assert "validation-error" in problem_content(answers["422"])["examples"]
    assert "Problem" in document["components"]["schemas"]


async def test_the_if_match_header_is_declared_and_read_alike(build_app, client_of):
    client = await client_of(build_app(router))
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/kerneltest/drafts/{draft_id}"]["put"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("If-Match", False)
    missing = await client.put("/api/v1/kerneltest/drafts/7")
    assert (missing.status_code, missing.json()["type"]) == (428, "/problems/precondition-required")
    current = await client.put("/api/v1/kerneltest/drafts/7", headers={"If-Match": '"1"'})
    assert current.json() == {"draft_id": 7}
