"""What a draw publishes is what it stored and the verifier computed: the commitment as
committed, the result with the registry's subject ids in selection order, teams as drawn,
replacements in recusal order, failures and voids with their reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from draw_testkit import Officer, Row, batch

from shuangsui.drawspec import FixedBeacon, Recusal
from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.domain.draw_events import (
    Approval,
    draw_committed,
    draw_completed,
    draw_failed,
    draw_voided,
    replacement_made,
    teams_assigned,
)
from shuangsui.sampling.domain.draw_inputs import DepartmentPool, subject_draw
from shuangsui.sampling.domain.draws import Draw, FailReason, Failure, draw_code

BEACON = "a7e156bfb7eeba9b7d021a36f820f4c17cb9b9239c03b09be38e3f43dce13bc6"
AT = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
B = batch()
CODE = draw_code(B.batch_code, 1)
ROWS = [Row(f"913301060{c}00000{n}X", "330106-01", {"general": c}) for c in "ABCD" for n in (1, 2)]
SUBJECT_IDS = {r.uscc: uuid.uuid5(uuid.NAMESPACE_OID, r.uscc) for r in ROWS}
OFFICERS = [
    Officer(str(uuid.uuid5(uuid.NAMESPACE_URL, f"officer-{n}")), "330106-01", ("food_safety",),
            date(2026, 12, 31))
    for n in range(5)
]  # fmt: skip


def plan():
    return subject_draw(B, ROWS, (), DepartmentPool(OFFICERS))


def committed() -> Draw:
    p = plan()
    document = p.commitment(CODE, FixedBeacon(BEACON), "2026-03-20T02:00:00Z")
    return Draw(uuid.uuid4(), CODE, B.batch_id, p.kind, org_id=B.org_id,
                department_type=B.department_type).commit(document, test_mode=True)  # fmt: skip


def test_the_commitment_event_quotes_the_document_and_counts_the_strata() -> None:
    draw = committed()
    event = draw_committed(draw, plan().inputs, AT + timedelta(hours=4), BatchStatus.drawing)
    assert event.commitment == draw.commitment
    assert event.commitment_sha256 == draw.commitment_sha256
    assert event.manifest_sha256 == plan().inputs.hashes()["manifest"]
    assert [(s.stratum, s.rule, s.population) for s in event.strata] == [
        ("A", "3/100", 2), ("B", "1/10", 2), ("C", "3/10", 2), ("D", "20", 2),
    ]  # fmt: skip
    assert (event.kind, event.batch_code, event.committed_at) == ("combined", B.batch_code, AT)
    assert (event.batch_status, event.county_code) == ("drawing", None)
    assert type(event).model_validate_json(event.model_dump_json()) == event


def test_the_completion_lists_the_selection_with_registry_ids_and_ranks() -> None:
    draw = committed().reveal(BEACON).compute(plan().inputs).complete()
    event = draw_completed(draw, SUBJECT_IDS, batch_status=BatchStatus.drawn, at=AT)
    assert event.result_sha256 == draw.result["result_sha256"]
    for published, computed in zip(event.strata, draw.result["strata"], strict=True):
        assert [s.uscc for s in published.selected] == computed["selected"]
        assert [s.rank for s in published.selected] == list(range(1, computed["sample_size"] + 1))
        assert all(s.subject_id == SUBJECT_IDS[s.uscc] for s in published.selected)
    assert event.infeasible == 0
    assert event.beacon_value == BEACON
    assert (event.completes_batch, event.batch_status) == (True, "drawn")
    # One county of several drawn: the batch is still drawing, and this completes nothing.
    partial = draw_completed(draw, SUBJECT_IDS, batch_status=BatchStatus.drawing, at=AT)
    assert (partial.completes_batch, partial.batch_status) == (False, "drawing")


def test_teams_are_published_as_drawn_and_replacements_in_recusal_order() -> None:
    first = committed().reveal(BEACON).compute(plan().inputs)
    record = first.result["assignments"][0]
    recusal = Recusal(record["subject"], record["lead"], "recusal")
    draw = committed().reveal(BEACON).compute(plan().inputs, [recusal]).complete()
    teams = teams_assigned(draw, SUBJECT_IDS, B.selection_mode)
    assert [t.uscc for t in teams] == [a["subject"] for a in draw.result["assignments"]]
    assert str(teams[0].lead_inspector_id) == record["lead"]
    assert teams[0].pool_size == len(OFFICERS)
    made = replacement_made(draw, SUBJECT_IDS, 0, Approval("recusal", "u-1", "u-2", AT))
    replaced = draw.result["replacements"][0]
    assert (str(made.replaced_inspector_id), made.role, made.sequence) == (
        record["lead"], "lead", 1,
    )  # fmt: skip
    assert str(made.replacement_inspector_id) == replaced["replacement"]


def test_failures_and_voids_are_published_with_their_reasons() -> None:
    failed = committed().fail(Failure(FailReason.batch_cancelled, detail="计划调整"))
    event = draw_failed(failed, AT, BatchStatus.published)
    assert (event.reason, event.missing_parties, event.detail) == (
        "batch_cancelled",
        [],
        "计划调整",
    )
    done = committed().reveal(BEACON).compute(plan().inputs).complete()
    voided = draw_voided(done.void("名单遗漏", "u-1", "u-2"), AT, BatchStatus.drawing)
    assert (voided.reason, voided.requested_by, voided.approved_by) == ("名单遗漏", "u-1", "u-2")
    assert (voided.draw_code, voided.batch_status) == (CODE, "drawing")
