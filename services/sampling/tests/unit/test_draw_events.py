"""What a draw publishes is what it stored and the verifier computed: the commitment as
committed, the result with the registry's subject ids in selection order, teams as drawn,
replacements in recusal order, failures and voids with their reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from draw_testkit import Officer, Row, batch

from shuangsui.contracts.events.sampling_draws import SELECTION_PART_SIZE
from shuangsui.drawspec import FixedBeacon, Recusal
from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.domain.draw_events import (
    Approval,
    draw_committed,
    draw_completed,
    draw_failed,
    draw_selection,
    draw_voided,
    replacement_made,
    selected_subjects,
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


def test_the_completion_sums_up_and_the_selection_follows_with_registry_ids_and_ranks() -> None:
    draw = committed().reveal(BEACON).compute(plan().inputs).complete()
    selection = selected_subjects(draw, SUBJECT_IDS)
    event = draw_completed(draw, selected=len(selection), batch_status=BatchStatus.drawn, at=AT)
    assert event.result_sha256 == draw.result["result_sha256"]
    assert [(s.stratum, s.sample_size) for s in event.strata] == [
        (s["stratum"], s["sample_size"]) for s in draw.result["strata"]
    ]
    [part] = draw_selection(draw, selection)
    assert (event.selection_parts, part.part, part.parts) == (1, 1, 1)
    computed = [(s["stratum"], u) for s in draw.result["strata"] for u in s["selected"]]
    assert [(s.stratum, s.uscc) for s in part.subjects] == computed
    for stratum in draw.result["strata"]:
        ranks = [s.rank for s in part.subjects if s.stratum == stratum["stratum"]]
        assert ranks == list(range(1, stratum["sample_size"] + 1))
    assert all(s.subject_id == SUBJECT_IDS[s.uscc] for s in part.subjects)
    assert event.infeasible == 0
    assert event.beacon_value == BEACON
    assert (event.completes_batch, event.batch_status) == (True, "drawn")
    # One county of several drawn: the batch is still drawing, and this completes nothing.
    partial = draw_completed(draw, selected=len(selection), batch_status=BatchStatus.drawing,
                             at=AT)  # fmt: skip
    assert (partial.completes_batch, partial.batch_status) == (False, "drawing")


def test_a_large_selection_is_announced_in_parts_below_the_broker_limit() -> None:
    """30,000 selected (a province at 3 % of a million) would be one 2.8 MB message: each part
    holds at most SELECTION_PART_SIZE, in the result's order, and fits a NATS message."""
    draw = committed().reveal(BEACON).compute(plan().inputs).complete()
    one = selected_subjects(draw, SUBJECT_IDS)[0]
    many = [{**one, "rank": n} for n in range(1, 2 * SELECTION_PART_SIZE + 2)]
    parts = draw_selection(draw, many)
    assert [(p.part, p.parts, len(p.subjects)) for p in parts] == [
        (1, 3, SELECTION_PART_SIZE), (2, 3, SELECTION_PART_SIZE), (3, 3, 1),
    ]  # fmt: skip
    assert [s.rank for p in parts for s in p.subjects] == [s["rank"] for s in many]
    assert max(len(p.model_dump_json()) for p in parts) < 900_000
    event = draw_completed(draw, selected=len(many), batch_status=BatchStatus.drawn, at=AT)
    assert event.selection_parts == 3
    assert draw_selection(draw, []) == []


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
