"""The report every bulk write answers with: complete counts per change kind, the first 1,000
row errors and stale rows, and — for an all-or-nothing batch with a refused row — the
`batch-rejected` problem carrying the same report with nothing applied."""

from enum import StrEnum

from fastapi import APIRouter

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.kernel.bulk import MAX_LISTED, BulkReport, BulkReportOut
from shuangsui.kernel.problems import BATCH_REJECTED, PROBLEM_MEDIA_TYPE

USCC = "91330106MA2GXXXX0D"


class Mode(StrEnum):
    atomic = "atomic"
    per_row = "per_row"


def filled(mode: str) -> BulkReport:
    report = BulkReport(mode, received=4)
    report.count(ChangeKind.created, 1, "A")
    report.count(ChangeKind.unchanged, 2, "B")
    report.count(ChangeKind.stale, 3, USCC)
    report.reject([RowError(4, "region_code", "outside your region", USCC)])
    return report


def test_rows_are_counted_by_kind_and_stale_ones_listed_with_their_key():
    answer = BulkReportOut.of(filled("per_row")).model_dump()
    counts = {k: answer[k] for k in ("received", "created", "updated", "unchanged", "stale")}
    assert counts == {"received": 4, "created": 1, "updated": 0, "unchanged": 1, "stale": 1}
    assert answer["stale_rows"] == [{"line": 3, "key": USCC, "reason": "older than stored"}]
    assert answer["errors"] == [
        {"line": 4, "key": USCC, "field": "region_code", "reason": "outside your region"}
    ]
    assert (answer["rejected"], answer["applied"], answer["errors_truncated"]) == (1, True, False)


def test_errors_beyond_the_first_thousand_are_counted_not_listed():
    report = BulkReport("per_row")
    for line in range(1, MAX_LISTED + 6):
        report.reject([RowError(line, "uscc", "required"), RowError(line, "name", "required")])
    assert (report.rejected, len(report.errors)) == (MAX_LISTED + 5, MAX_LISTED)
    assert report.errors_truncated


def test_only_an_atomic_batch_with_a_refused_row_is_refused_whole():
    assert filled("atomic").refused_whole
    assert not filled("per_row").refused_whole
    assert not BulkReport("atomic", received=3).refused_whole


def test_the_refusal_carries_the_report_with_nothing_applied():
    problem = filled(Mode.atomic).refusal()
    body = problem.body()
    assert (problem.kind, body["status"]) == (BATCH_REJECTED, 422)
    assert body["detail"] == "1 of 4 rows are invalid; nothing was applied"
    assert (body["mode"], body["applied"], body["created"], body["unchanged"]) == (
        "atomic", False, 0, 0,
    )  # fmt: skip
    assert (body["received"], body["rejected"], body["stale_rows"]) == (4, 1, [])
    assert body["errors"] == [
        {"line": 4, "key": USCC, "field": "region_code", "reason": "outside your region"}
    ]


async def test_a_refused_batch_is_answered_as_a_problem_document(build_app, client_of):
    router = APIRouter(prefix="/api/v1/kerneltest")

    @router.post("/things:bulk")
    async def bulk() -> None:
        raise filled("atomic").refusal()

    client = await client_of(build_app(router))
    answer = await client.post("/api/v1/kerneltest/things:bulk")
    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM_MEDIA_TYPE)
    assert answer.json()["type"] == "/problems/batch-rejected"
    assert answer.json()["errors"][0]["key"] == USCC


def test_the_answer_documents_every_count_and_the_row_errors():
    schema = BulkReportOut.model_json_schema()
    assert {"created", "updated", "unchanged", "stale", "rejected", "stale_rows"} <= set(
        schema["properties"]
    )
    row_error = schema["$defs"]["RowErrorOut"]["properties"]
    assert set(row_error) == {"line", "key", "field", "reason"}
