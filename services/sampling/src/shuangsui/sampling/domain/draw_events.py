"""What a draw announces at each step (DOMAIN §3.3), built from the draw alone.

The payloads quote the commitment, the bundle and the result exactly as stored, so what
inspection, planning and the public read is what the verifier computed. Only what the draw does
not hold comes in: the registry ids of the selected subjects (the draw knows them by USCC, B.1),
the time, the batch's selection mode and where the batch stands after the change (its status
from every draw of it, `batch_status`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shuangsui.contracts.events.sampling_draws import (
    SELECTION_PART_SIZE,
    DrawCommitted,
    DrawCompleted,
    DrawFailed,
    DrawSelection,
    DrawVoided,
    ReplacementMade,
    TeamAssigned,
)
from shuangsui.drawspec import DrawInputs
from shuangsui.drawspec.beacon import beacon_value_json
from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.domain.draws import Draw, DrawStatus, parse_draw_code

_LISTS = ("manifest", "exclusions", "inspectors", "conflicts")


def _ids(draw: Draw, batch_status: BatchStatus) -> dict[str, Any]:
    return {
        "draw_id": draw.draw_id,
        "draw_code": draw.draw_code,
        "batch_id": draw.batch_id,
        "batch_code": parse_draw_code(draw.draw_code).batch_code,
        "kind": draw.kind.value,
        "org_id": draw.org_id,
        "department_type": draw.department_type,
        "subjects_draw_code": draw.subjects_draw_code,
        "county_code": draw.county_code,
        "batch_status": batch_status.value,
    }


def _instant(stamp: object) -> datetime:
    assert isinstance(stamp, str)
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _rule(entry: Mapping[str, Any]) -> str:
    return str(entry["ratio"]) if "ratio" in entry else str(entry["count"])


def draw_committed(
    draw: Draw, inputs: DrawInputs, reveal_deadline: datetime | None, batch_status: BatchStatus
) -> DrawCommitted:
    """The public commitment (§14.1), recorded in the commit's own transaction."""
    assert draw.status is DrawStatus.committed
    assert draw.commitment is not None
    doc = draw.commitment
    sizes: dict[str, int] = {}
    for subject in inputs.manifest:
        sizes[subject.stratum] = sizes.get(subject.stratum, 0) + 1
    strata = doc["strata"]
    assert isinstance(strata, list)
    return DrawCommitted.model_validate(
        dict(
            **_ids(draw, batch_status),
            spec="IDS-1",
            commitment=doc,
            commitment_sha256=draw.commitment_sha256,
            **{f"{name}_sha256": doc[f"{name}_sha256"] for name in _LISTS},
            strata=[
                {
                    "stratum": e["stratum"],
                    "rule": _rule(e),
                    "population": sizes.get(str(e["stratum"]), 0),
                }
                for e in strata
                if isinstance(e, dict)
            ],
            beacon=doc["beacon"],
            reveal_deadline=reveal_deadline,
            committed_at=_instant(doc["committed_at"]),
        )
    )


def draw_completed(
    draw: Draw, *, selected: int, batch_status: BatchStatus, at: datetime
) -> DrawCompleted:
    """The result's summary; `selected` subjects follow in `draw_selection` parts."""
    assert draw.status is DrawStatus.completed
    assert draw.result is not None
    result = draw.result
    assert draw.beacon_value is not None
    strata = result["strata"]
    assignments = result["assignments"]
    assert isinstance(strata, list)
    assert isinstance(assignments, list)
    keys = ("stratum", "population", "sample_size", "cutoff_key", "next_key")
    return DrawCompleted.model_validate(
        dict(
            **_ids(draw, batch_status),
            commitment_sha256=result["commitment_sha256"],
            beacon_value=beacon_value_json(draw.beacon_value),
            seed=result["seed"],
            result_sha256=result["result_sha256"],
            seed_b=result["seed_b"],
            strata=[{k: s[k] for k in keys} for s in strata if isinstance(s, dict)],
            selection_parts=math.ceil(selected / SELECTION_PART_SIZE),
            infeasible=sum(1 for a in assignments if isinstance(a, dict) and "infeasible" in a),
            completes_batch=batch_status is BatchStatus.drawn,
            completed_at=at,
        )
    )


def selected_subjects(draw: Draw, subject_ids: Mapping[str, UUID]) -> list[dict[str, Any]]:
    """The result's selection in its order (stratum by stratum, each in selection order) with
    the registry ids; `subject_ids` maps USCC → registry id for every selected subject (a
    missing one raises `KeyError`: a task needs its subject)."""
    assert draw.result is not None
    strata = draw.result["strata"]
    assert isinstance(strata, list)
    out = []
    for stratum in strata:
        assert isinstance(stratum, dict)
        assert isinstance(stratum["selected"], list)
        for rank, uscc in enumerate(stratum["selected"], start=1):
            out.append({"stratum": stratum["stratum"], "rank": rank,
                        "subject_id": subject_ids[str(uscc)], "uscc": uscc})  # fmt: skip
    return out


def draw_selection(draw: Draw, selected: list[dict[str, Any]]) -> list[DrawSelection]:
    """`selected` (from `selected_subjects`) in parts of at most `SELECTION_PART_SIZE`."""
    chunks = [selected[i : i + SELECTION_PART_SIZE]
              for i in range(0, len(selected), SELECTION_PART_SIZE)]  # fmt: skip
    ids = {k: v for k, v in _ids(draw, BatchStatus.drawn).items()
           if k in ("draw_id", "draw_code", "batch_id", "batch_code")}  # fmt: skip
    return [
        DrawSelection.model_validate({**ids, "part": n, "parts": len(chunks), "subjects": chunk})
        for n, chunk in enumerate(chunks, start=1)
    ]


def draw_failed(draw: Draw, at: datetime, batch_status: BatchStatus) -> DrawFailed:
    assert draw.status is DrawStatus.failed
    assert draw.failure is not None
    failure = draw.failure
    return DrawFailed.model_validate(
        dict(
            **_ids(draw, batch_status),
            reason=failure.reason.value,
            missing_parties=list(failure.missing_parties),
            detail=failure.detail,
            failed_at=at,
        )
    )


def draw_voided(draw: Draw, at: datetime, batch_status: BatchStatus) -> DrawVoided:
    assert draw.status is DrawStatus.voided
    assert draw.voided is not None
    return DrawVoided.model_validate(
        dict(
            **_ids(draw, batch_status),
            reason=draw.voided.reason,
            requested_by=draw.voided.requested_by,
            approved_by=draw.voided.approved_by,
            voided_at=at,
        )
    )


def teams_assigned(
    draw: Draw, subject_ids: Mapping[str, UUID], selection_mode: str
) -> list[TeamAssigned]:
    """One event per assignment record of §8.6, in the result's order, teams as drawn
    (replacements follow as their own events)."""
    assert draw.result is not None
    assert draw.bundle is not None
    assert draw.org_id is not None
    assignments = draw.result["assignments"]
    inspectors = draw.bundle["inspectors"]
    assert isinstance(assignments, list)
    assert isinstance(inspectors, list)
    commitment = draw.commitment
    assert commitment is not None
    events = []
    for record in assignments:
        assert isinstance(record, dict)
        uscc = str(record["subject"])
        members = record.get("members") or []
        assert isinstance(members, list)
        lead = record.get("lead")
        events.append(
            TeamAssigned.model_validate(
                dict(
                    draw_id=draw.draw_id,
                    draw_code=draw.draw_code,
                    batch_id=draw.batch_id,
                    subject_id=subject_ids[uscc],
                    uscc=uscc,
                    org_id=draw.org_id,
                    department_type=draw.department_type or "",
                    selection_mode=selection_mode,
                    inspectors_sha256=commitment["inspectors_sha256"],
                    pool_size=len(inspectors),
                    lead_inspector_id=None if lead is None else UUID(str(lead)),
                    member_ids=[UUID(str(m)) for m in members],
                    cap=record.get("cap"),
                    infeasible=record.get("infeasible"),
                )
            )
        )
    return events


@dataclass(frozen=True)
class Approval:
    """Who declared and who approved a recusal (B.8, R19), and when it was applied."""

    cause: str  # recusal / unavailable / cert_invalid
    requested_by: str
    approved_by: str
    at: datetime


def replacement_made(
    draw: Draw, subject_ids: Mapping[str, UUID], index: int, approval: Approval
) -> ReplacementMade:
    """The `index`-th replacement of the result (§9), 0-based, the same position as its recusal
    in the bundle."""
    assert draw.result is not None
    assert draw.org_id is not None
    replacements = draw.result["replacements"]
    assert isinstance(replacements, list)
    record = replacements[index]
    assert isinstance(record, dict)
    uscc = str(record["subject"])
    replacement = record["replacement"]
    return ReplacementMade.model_validate(
        dict(
            draw_id=draw.draw_id,
            draw_code=draw.draw_code,
            batch_id=draw.batch_id,
            subject_id=subject_ids[uscc],
            uscc=uscc,
            org_id=draw.org_id,
            sequence=index + 1,
            role=record["role"],
            replaced_inspector_id=UUID(str(record["recused"])),
            replacement_inspector_id=None if replacement is None else UUID(str(replacement)),
            cap=record.get("cap"),
            infeasible=record.get("infeasible"),
            reason=approval.cause,
            requested_by=approval.requested_by,
            approved_by=approval.approved_by,
            made_at=approval.at,
        )
    )
