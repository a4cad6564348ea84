"""HTTP: the subject directory (检查对象名录库) — pushes from provincial systems, and reads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shuangsui.kernel.auth import Principal, Role, require, require_scope
from shuangsui.kernel.bulk import BulkReport, BulkReportOut
from shuangsui.kernel.concurrency import etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import (
    IndustryFilter,
    RegionFilter,
    TagFilters,
    UnitCodeFilter,
    UsccPath,
)
from shuangsui.kernel.problems import (
    BATCH_REJECTED,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    FieldError,
    Problem,
)
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope, region_scope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.push_formats import CSV, NDJSON, NotThatFormat, read_rows
from shuangsui.registry.adapters.subjects import SubjectFilters
from shuangsui.registry.api.params import BATCH_MODE
from shuangsui.registry.api.subject_models import (
    BULK_EXAMPLES,
    RISK_EXAMPLES,
    HistoryEntryOut,
    PopulationOut,
    RiskClassChangeOut,
    RiskClassHistoryOut,
    RiskClassOut,
    RiskStratum,
    SubjectIn,
    SubjectOut,
    SubjectSummaryOut,
    subject_out,
)
from shuangsui.registry.api.uploads import media_type_of, spool_body, upload_problems
from shuangsui.registry.domain.subjects import (
    PushMode,
    SubjectStatus,
    SubjectType,
    sees_personal_data,
)
from shuangsui.registry.service.push import CONCURRENT_CHANGE, Row, rows_of
from shuangsui.registry.service.risk_classes import push_risk_classes, risk_classes_with_history
from shuangsui.registry.service.subjects import (
    get_subject,
    list_subjects,
    population_count,
    push_subjects,
    subject_history,
)

router = APIRouter(prefix="/api/v1/registry", tags=["subjects · 检查对象名录库"])

PUSH_SCOPE = "registry:subjects:push"
RISK_SCOPE = "registry:risk-classes:push"
POPULATION_SCOPE = "registry:population:read"  # planning's previews, national integrators
READERS = (
    Role.provincial_admin, Role.department_admin, Role.station_staff, Role.inspector,
    Role.reviewer, Role.auditor, Role.partner_admin,
)  # fmt: skip
RISK_DOMAIN = "^[a-z][a-z_]{0,39}$"  # as the classification push accepts it


@router.post(
    "/subjects:bulk",
    operation_id="registry_subjects_bulk_upsert",
    response_model=BulkReportOut,
    summary="批量推送检查对象 · Bulk push subjects",
    description=(
        "For registration and permit systems. The body is NDJSON (`application/x-ndjson`, one "
        "subject per line) or CSV (`text/csv`, same columns; list cells hold JSON arrays). "
        "`mode=atomic` (default) applies all rows or none (a refused batch is 422 "
        "`/problems/batch-rejected` listing every row error); `mode=per_row` applies every valid "
        "row. A change older than what is stored (by `source_updated_at`) is reported as stale "
        "and not applied; an unchanged row is counted, not rewritten. Unknown keys are kept in "
        "`extra`. Needs an `integrator` token with scope `registry:subjects:push` (or a "
        "provincial admin); rows must lie within the token's region. Send `Idempotency-Key` to "
        "make a retry harmless."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                NDJSON: {"schema": {"type": "string"}, "examples": BULK_EXAMPLES[NDJSON]},
                CSV: {"schema": {"type": "string"}, "examples": BULK_EXAMPLES[CSV]},
            },
        }
    },
    responses=upload_problems(CONCURRENT_CHANGE),
)
async def bulk_upsert(
    request: Request,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(PUSH_SCOPE, Role.provincial_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_subjects_bulk_upsert")),
) -> JSONResponse:
    return await _bulk(
        request, mode, by, idempotency, lambda rows: push_subjects(uow, rows, mode, by), uow
    )


@router.post(
    "/risk-classes:bulk",
    operation_id="registry_risk_classes_bulk_upsert",
    response_model=BulkReportOut,
    summary="推送信用风险分类 · Push credit risk classes",
    description=(
        "For the credit risk classification system: one `{uscc, risk_class, domain, source, "
        "as_of}` per row (NDJSON or CSV). `risk_class` is A–D; `domain` is `general` (default) "
        "or a field such as `food`. A classification older than the stored one (by `as_of`) is "
        "stale; the same class again is unchanged. The subject must already be in the directory, "
        "within the token's region. Scope `registry:risk-classes:push`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                NDJSON: {"schema": {"type": "string"}, "examples": RISK_EXAMPLES[NDJSON]},
                CSV: {"schema": {"type": "string"}, "examples": RISK_EXAMPLES[CSV]},
            },
        }
    },
    responses=upload_problems(CONCURRENT_CHANGE),
)
async def risk_classes_bulk(
    request: Request,
    mode: PushMode = BATCH_MODE,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(RISK_SCOPE, Role.provincial_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_risk_classes_bulk_upsert")),
) -> JSONResponse:
    return await _bulk(
        request, mode, by, idempotency, lambda rows: push_risk_classes(uow, rows, mode, by), uow
    )


@router.put(
    "/subjects/{uscc}",
    operation_id="registry_subjects_upsert",
    response_model=BulkReportOut,
    summary="推送单个检查对象 · Upsert one subject",
    description="The same rules as the bulk push, for one subject; errors are 422 with the field.",
)
async def upsert(
    uscc: UsccPath,
    body: SubjectIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require_scope(PUSH_SCOPE, Role.provincial_admin)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_subjects_upsert")),
) -> JSONResponse:
    row = {**body.model_dump(exclude_unset=True, mode="json"), "uscc": uscc}

    async def run() -> BulkReportOut:
        try:
            report = await push_subjects(uow, rows_of(iter([(1, row)])), PushMode.atomic, by)
        except Problem as refused:
            if refused.kind is not BATCH_REJECTED:
                raise
            errors = [FieldError(e["field"], e["reason"]) for e in refused.extensions["errors"]]
            raise Problem(VALIDATION, "the subject is not valid", errors=errors) from None
        return BulkReportOut.of(report)

    return await idempotency.run(uow, by, row, run)


@router.get(
    "/subjects/{uscc}",
    operation_id="registry_subjects_get",
    response_model=SubjectOut,
    summary="查询检查对象 · Get a subject",
    responses=problem_responses(descriptions={404: "No such subject in your region · 未找到"}),
)
async def get(
    uscc: UsccPath,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
    scope: RegionScope = Depends(region_scope),
) -> Response:
    subject = await get_subject(uow, uscc, scope)
    out = subject_out(subject, personal_data=sees_personal_data(by.roles))
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": etag_of(subject["version"])})


@dataclass(frozen=True)
class SubjectQuery:
    """The subject list's filters, which the export takes too (api/exports.py)."""

    filters: SubjectFilters
    item_id: UUID | None


def subject_query(
    region_code: RegionFilter = None,
    subject_type: SubjectType | None = Query(
        None, description="enterprise / individual / cooperative / other"
    ),
    status: SubjectStatus | None = Query(
        None, description="active / cancelled / revoked / suspended"
    ),
    industry_code: IndustryFilter = None,
    unit_code: UnitCodeFilter = None,
    tag: TagFilters = (),
    item_id: UUID | None = Query(None, description="Only subjects within this item's scope"),
    risk_class: RiskStratum | None = Query(
        None,
        description="Only subjects of this credit risk class in `domain`, or `unclassified` for "
        "those without one there · 信用风险分类",
    ),
    domain: str = Query(
        "general",
        pattern=RISK_DOMAIN,
        description="The domain `risk_class` refers to: general or a field such as food · 分类领域",
    ),
) -> SubjectQuery:
    filters = SubjectFilters(
        region_code, subject_type, status, industry_code, unit_code, tags=tag,
        risk_class=risk_class.value if risk_class else None, risk_domain=domain,
    )  # fmt: skip
    return SubjectQuery(filters, item_id)


@router.get(
    "/subjects",
    operation_id="registry_subjects_list",
    response_model=Page[SubjectSummaryOut],
    summary="检查对象列表 · List subjects",
    description="Subjects within the caller's region, by USCC, each with its credit risk class "
    "per domain (`risk_classes`); filters narrow it further. Sampling streams one stratum of a "
    "draw's population with `item_id` and `risk_class` (e.g. `?item_id=…&risk_class=B`), "
    "`unclassified` being the subjects without a class in `domain`.",
)
async def list_(
    query: SubjectQuery = Depends(subject_query),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(*READERS)),
    scope: RegionScope = Depends(region_scope),
) -> Page[SubjectSummaryOut]:
    rows, cursor = await list_subjects(uow, scope, query.filters, page, query.item_id)
    return Page(items=[SubjectSummaryOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/population:count",
    operation_id="registry_population_count",
    response_model=PopulationOut,
    summary="检查对象数量 · Count a draw's population",
    description="How many subjects within your region match the filters, by credit risk class "
    "in `domain` (`unclassified` when the classifier has none). Planning sizes batches with it. "
    "With `item_id` (and only `region_code`, `tag` and the default status) the counts kept per "
    "item answer in milliseconds (`method: index`); other filters count over the directory "
    "(`method: scan`). Other services and integrators call it with the scope "
    "`registry:population:read`.",
)
async def population(
    region_code: RegionFilter = None,
    subject_type: SubjectType | None = Query(
        None, description="enterprise / individual / cooperative / other"
    ),
    status: SubjectStatus | None = Query(
        SubjectStatus.active, description="Default: only subjects in business (存续)"
    ),
    industry_code: IndustryFilter = None,
    unit_code: UnitCodeFilter = None,
    domain: str = Query(
        "general",
        pattern=RISK_DOMAIN,
        description="Risk-class domain: general or a field such as food",
    ),
    item_id: UUID | None = Query(None, description="An item in force (抽查事项)"),
    tag: TagFilters = (),
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require_scope(POPULATION_SCOPE, *READERS)),
    scope: RegionScope = Depends(region_scope),
) -> PopulationOut:
    filters = SubjectFilters(region_code, subject_type, status, industry_code, unit_code, tags=tag)
    found = await population_count(uow, scope, filters, domain, item_id)
    return PopulationOut(
        total=sum(found.by_risk_class.values()),
        by_risk_class=found.by_risk_class,
        method=found.method,
        classification=found.classification,
        reclassifying=found.reclassifying,
    )


@router.get(
    "/subjects/{uscc}/history",
    operation_id="registry_subject_history_list",
    response_model=list[HistoryEntryOut],
    summary="检查对象变更历史 · A subject's change history",
)
async def history(
    uscc: UsccPath,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
    scope: RegionScope = Depends(region_scope),
) -> list[HistoryEntryOut]:
    entries = await subject_history(uow, uscc, scope)
    personal = sees_personal_data(by.roles)
    return [HistoryEntryOut.of(entry, personal_data=personal) for entry in entries]


@router.get(
    "/subjects/{uscc}/risk-classes",
    operation_id="registry_subject_risk_classes_list",
    response_model=RiskClassHistoryOut,
    summary="风险分类历史 · A subject's credit risk classes and their history",
    description="The credit risk class (信用风险分类) in force per domain, with its source "
    "(数据来源) and time (分类时间), and every change the classification system pushed: domain, "
    "class before → after, source, `as_of`, when the registry recorded it (记录时间) and who "
    "pushed it; newest first, paged with `limit` and `cursor`. A push that was stale (an older "
    "`as_of`) or repeated the class in force changed nothing and is not listed. `domain` narrows "
    "both to one domain. The readers and regions of `GET /subjects/{uscc}`: a subject outside "
    "your region answers 404, like a missing one (a token of another province is refused with "
    "403, its subjects being on its own platform).",
    responses=problem_responses(descriptions={404: "No such subject in your region · 未找到"}),
)
async def risk_classes(
    uscc: UsccPath,
    domain: str | None = Query(
        None, pattern=RISK_DOMAIN, description="Only this domain, e.g. general or food · 分类领域"
    ),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(*READERS)),
    scope: RegionScope = Depends(region_scope),
) -> RiskClassHistoryOut:
    found = await risk_classes_with_history(uow, uscc, scope, domain, page)
    return RiskClassHistoryOut(
        uscc=uscc,
        risk_classes={d: RiskClassOut(**held) for d, held in found.in_force.items()},
        items=[RiskClassChangeOut.model_validate(change) for change in found.changes],
        next_cursor=found.next_cursor,
    )


async def _bulk(
    request: Request,
    mode: PushMode,
    by: Principal,
    idempotency: IdempotencyKey,
    push: Callable[[AsyncIterator[Row]], Awaitable[BulkReport]],
    uow: UnitOfWork,
) -> JSONResponse:
    """Shared by every bulk push: media type, spooling with a size limit, idempotency."""
    media_type = media_type_of(request, (NDJSON, CSV))
    body, digest = await spool_body(request, request.app.state.settings.max_push_bytes)
    try:
        rows = read_rows(media_type, body)

        async def run() -> BulkReportOut:
            return BulkReportOut.of(await push(_rows(rows)))

        fingerprint = {"sha256": digest, "mode": mode.value, "media_type": media_type}
        return await idempotency.run(uow, by, fingerprint, run)
    finally:
        body.close()


async def _rows(rows: Any) -> AsyncIterator[Row]:
    try:
        for row in rows:
            yield row
    except NotThatFormat as exc:
        raise Problem(UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
