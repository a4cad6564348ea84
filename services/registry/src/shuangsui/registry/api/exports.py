"""HTTP: the population export (检查对象导出) — the directory as NDJSON from one snapshot."""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from shuangsui.kernel.auth import Principal, Role, require_scope
from shuangsui.kernel.problems import FORBIDDEN, Problem
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope, region_scope
from shuangsui.registry.adapters.push_formats import NDJSON
from shuangsui.registry.api.subjects import READERS, SubjectQuery, subject_query
from shuangsui.registry.service.exports import (
    EXPORTS_BUSY,
    Export,
    ExportGate,
    ExportLimits,
    ExportRequest,
)
from shuangsui.registry.service.inspectors import DIRECTORY_EXPORT_SCOPE

router = APIRouter(prefix="/api/v1/registry", tags=["subjects · 检查对象名录库"])

SUBJECTS_SCOPE = "registry:subjects:export"
INSPECTORS_SCOPE = DIRECTORY_EXPORT_SCOPE
# Who may export: whoever may list subjects, and integrators or other services (sampling
# bootstraps its read models here) granted the scope (bulk pulls).
EXPORTERS = (*READERS,)


class Include(StrEnum):
    inspectors = "inspectors"


class NdjsonResponse(StreamingResponse):
    media_type = NDJSON


EXAMPLE = "\n".join(
    (
        '{"type":"header","format":"shuangsui.registry.export.v1","snapshot":"1843:1851:1846,1849",'
        '"taken_at":"2026-11-25T06:05:31.054540Z","last_outbox_seq":912233,'
        '"last_event_id":"aff2a3d0-43ee-4267-b50a-51e9a60f0d79","region_scope":"33",'
        '"includes":["subjects","inspectors"],"covers":["registry.subject.","registry.inspector."],'
        '"filters":{"status":"active"}}',
        '{"type":"registry.subject.upserted.v1","data":{"subject_id":"5f0c…","uscc":'
        '"91330106MA2KXXXX0A","name":"杭州某某餐饮有限公司","subject_type":"enterprise","status":'
        '"active","region_code":"330106","unit_code":"330106-01","industry_code":"H6210",'
        '"registered_address":"西湖区文三路1号","business_address":null,"registered_on":'
        '"2019-04-02","tags":{"format":["餐饮服务"],"category":["食品"],"carrier":["实体"],'
        '"scale":["小微"]},"applicable_item_ids":["0b6e…"],"classification":7,"version":3,'
        '"source":"zj-aic","source_updated_at":"2026-03-01T00:00:00+00:00"},'
        '"risk_classes":{"general":"B","food":"A"}}',
        '{"type":"registry.inspector.upserted.v1","data":{"inspector_id":"c1d2…","name":"王芳",'
        '"org_code":"330106001","region_code":"330106","station_code":"330106-01",'
        '"department_type":"market_supervision","qualifications":["food_safety"],"specialties":[],'
        '"cert_valid_until":"2027-06-30","status":"active","version":2,'
        '"changed_at":"2026-05-01T02:00:00+00:00"},"conflicts":[{"conflict_id":"9a8b…",'
        '"inspector_id":"c1d2…","subject_uscc":"91330106MA2KXXXX0A","since":"2025-01-01",'
        '"source":"inspector","withdrawn":false,"inspector_version":2,'
        '"changed_at":"2026-05-01T02:00:00+00:00"}]}',
        '{"type":"trailer","subjects":1,"inspectors":1,"complete":true}',
    )
)


@router.get(
    "/subjects:export",
    operation_id="registry_subjects_export",
    summary="检查对象导出 · Export subjects",
    description=(
        "Every subject the filters of `GET /subjects` select within your region and, with "
        "`include=inspectors`, every officer of the inspector directory you may see, read from "
        "ONE database snapshot and streamed as NDJSON (`application/x-ndjson`, one JSON object "
        "per line, UTF-8). For read models that start late and for national bulk pulls; "
        "`docs/registry-export.md` tells how to load it and continue with events.\n\n"
        "- The first line is the **header** (`type: header`): `snapshot` is the PostgreSQL "
        "snapshot the export was read in (`xmin:xmax:in-progress,…`), `taken_at` when, "
        "`last_outbox_seq` and `last_event_id` the newest registry event it holds (for "
        "information), `covers` the kinds of event its lines hold, `filters` what was asked.\n"
        "- Each subject is a line `{type: registry.subject.upserted.v1, data, risk_classes}`: "
        "`data` is exactly the payload of that event as it would be sent now (schema in "
        "`libs/contracts/schemas`), `risk_classes` its credit risk class by domain. Lines come "
        "in no particular order.\n"
        "- Each officer is a line `{type: registry.inspector.upserted.v1, data, conflicts}`: "
        "`conflicts` lists the declarations (回避事由) as `registry.inspector.conflict_declared."
        "v1` carries them, withdrawn ones included, or is null where the inspector list hides "
        "them from you.\n"
        "- The last line is the **trailer** (`type: trailer`) with the counts and "
        "`complete: true`. A download without it is incomplete: take the export again.\n\n"
        "Every registry event carries the header `Shuangsui-Txid`; the event's change is in the "
        "export exactly when the snapshot covers that transaction (txid < xmin, or txid < xmax "
        "and not in the in-progress list). Read events from `taken_at` minus a margin, skip the "
        "covered ones, apply the others: no gap, no double.\n\n"
        "Readers of the subject list may export; integrators and other services need the scope "
        "`registry:subjects:export` (and `registry:inspectors:export` for officers, which shows "
        "a service every declared conflict, as the directory's keepers see them). A client "
        "that reads nothing for EXPORT_IDLE_SECONDS (default 60) loses its export; none lasts "
        "over EXPORT_MAX_SECONDS; a process streams EXPORT_CONCURRENCY exports at once (429 "
        "beyond)."
    ),
    response_class=NdjsonResponse,
    responses={
        200: {
            "description": "Header, one line per subject (and officer), trailer",
            "content": {NDJSON: {"schema": {"type": "string"}, "example": EXAMPLE}},
        },
        **problem_responses(
            EXPORTS_BUSY, descriptions={404: "`item_id` is not among the items in force · 未找到"}
        ),
    },
)
async def export(
    request: Request,
    query: SubjectQuery = Depends(subject_query),
    include: Include | None = Query(
        None, description="`inspectors`: also every officer, from the same snapshot · 执法检查人员"
    ),
    by: Principal = Depends(require_scope(SUBJECTS_SCOPE, *EXPORTERS)),
    scope: RegionScope = Depends(region_scope),
) -> NdjsonResponse:
    inspectors = include is Include.inspectors
    if inspectors:
        _may_export_inspectors(by)
    settings = request.app.state.settings
    limits = ExportLimits(
        settings.export_idle_seconds,
        settings.export_max_seconds,
        settings.export_concurrency,
        settings.export_parallelism,
    )
    running = Export(ExportRequest(by, scope, query.filters, query.item_id, inspectors), limits)
    await running.open(request.app.state.database, _gate(request, limits))
    return NdjsonResponse(running.stream(), headers={"Cache-Control": "no-store"})


def _may_export_inspectors(by: Principal) -> None:
    if by.is_national or by.has_any_role(*EXPORTERS):
        return
    if by.has_any_role(Role.integrator, Role.service) and INSPECTORS_SCOPE in by.scopes:
        return
    raise Problem(FORBIDDEN, f"exporting officers needs the scope {INSPECTORS_SCOPE!r}")


def _gate(request: Request, limits: ExportLimits) -> ExportGate:
    """One per app: each export holds a connection of the app's pool while it streams."""
    state = request.app.state
    if getattr(state, "export_gate", None) is None:
        state.export_gate = ExportGate(limits.concurrency)
    gate: ExportGate = state.export_gate
    return gate
