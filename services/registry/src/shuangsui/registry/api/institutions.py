"""HTTP: professional institutions and experts (委托专业机构与专家) that assist entrusted checks
(R23) — upsert by natural key, read, list."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import UsccFilter, UsccPath
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.institutions import InstitutionFilter
from shuangsui.registry.api.institutions_models import (
    ExpertIn,
    InstitutionIn,
    InstitutionOut,
    InstitutionWrittenOut,
)
from shuangsui.registry.domain.inspectors import InvalidField
from shuangsui.registry.domain.institutions import (
    InstitutionKind,
    InstitutionRecord,
    clean_expert_code,
)
from shuangsui.registry.service import institutions as use_cases

router = APIRouter(prefix="/api/v1/registry", tags=["institutions · 委托专业机构与专家"])

KEEPERS = (Role.provincial_admin, Role.department_admin)
READERS = (*KEEPERS, Role.partner_admin, Role.station_staff, Role.inspector, Role.reviewer,
           Role.auditor)  # fmt: skip
_PROBLEMS = problem_responses(
    p.FORBIDDEN,
    p.IDEMPOTENCY_IN_PROGRESS,
    p.PRECONDITION_FAILED,
    p.PRECONDITION_REQUIRED,
    descriptions={403: "Region outside yours, or the entry is another jurisdiction's · 无权操作"},
)
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": InstitutionWrittenOut, "description": "Created · 已新建"}
}
_WRITES = (
    "Answers 201 with the new entry, or 200 with `outcome` `updated` or `unchanged`, and its "
    "`ETag`. Replacing an entry needs `If-Match` with its ETag (428 without, 412 when stale); "
    "sending the state it already holds changes nothing and succeeds whatever `If-Match` says, "
    "so a retry is harmless. `Idempotency-Key` returns the first answer to a retry. The region "
    "must lie within yours (403 naming `region_code`). For provincial and department admins."
)


async def _written(
    uow: UnitOfWork,
    record: InstitutionRecord,
    if_match: str | None,
    by: Principal,
    idempotency: IdempotencyKey,
    fingerprint: dict[str, Any],
) -> JSONResponse:
    async def run() -> InstitutionWrittenOut:
        change = await use_cases.upsert_entry(uow, record, if_match, by)
        fields = InstitutionOut.fields_of(change.institution)
        return InstitutionWrittenOut.model_validate({**fields, "outcome": change.kind.value})

    answer = await idempotency.run(uow, by, fingerprint, run)
    # Status and ETag follow from the stored body, so a replayed answer carries them as well.
    written = json.loads(bytes(answer.body))
    if written["outcome"] == "created":
        answer.status_code = 201
    answer.headers["ETag"] = etag_of(written["version"])
    return answer


@router.put(
    "/institutions/{uscc}",
    operation_id="registry_institutions_upsert",
    response_model=InstitutionWrittenOut,
    summary="登记委托专业机构 · Create or replace a professional institution",
    description="A testing, inspection or certification body, keyed by its USCC (统一社会信用代码): "
    "a USCC names one entry, however often it is sent. " + _WRITES + " Each change is announced "
    "as `registry.institution.upserted.v1`.",
    responses={**_CREATED, **_PROBLEMS},
)
async def upsert_institution(
    body: InstitutionIn,
    uscc: UsccPath,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_institutions_upsert")),
) -> JSONResponse:
    record = InstitutionRecord(
        name=body.name, kind=InstitutionKind(body.kind), region_code=body.region_code,
        uscc=uscc, qualifications=tuple(body.qualifications), valid_until=body.valid_until,
        status=body.status,
    )  # fmt: skip
    fingerprint = {"uscc": uscc, **body.model_dump(mode="json")}
    return await _written(uow, record, if_match, by, idempotency, fingerprint)


@router.put(
    "/experts/{expert_code}",
    operation_id="registry_experts_upsert",
    response_model=InstitutionWrittenOut,
    summary="登记专家 · Create or replace an expert",
    description="An expert (专家), keyed by the province's own code for them (专家编码, "
    "compared in upper case) within the province of `region_code`: a code names one expert "
    "of the province, however often it is sent, even when the expert moves to another city of "
    "it. " + _WRITES + " Each change is announced as `registry.expert.upserted.v1`.",
    responses={**_CREATED, **_PROBLEMS},
)
async def upsert_expert(
    body: ExpertIn,
    expert_code: str = Path(max_length=40, description="专家编码", examples=["ZJ-EXP-0042"]),
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*KEEPERS)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_experts_upsert")),
) -> JSONResponse:
    try:
        code = clean_expert_code(expert_code)
    except InvalidField as exc:
        raise p.Problem(p.VALIDATION, errors=[p.FieldError("expert_code", str(exc))]) from None
    record = InstitutionRecord(
        name=body.name, kind=InstitutionKind.expert, region_code=body.region_code,
        expert_code=code, qualifications=tuple(body.qualifications),
        valid_until=body.valid_until, status=body.status,
    )  # fmt: skip
    fingerprint = {"expert_code": code, **body.model_dump(mode="json")}
    return await _written(uow, record, if_match, by, idempotency, fingerprint)


@router.get(
    "/institutions",
    operation_id="registry_institutions_list",
    response_model=Page[InstitutionOut],
    summary="查询委托专业机构与专家 · List professional institutions and experts",
    description="Entries within the caller's region, in id order; experts are `kind=expert`.",
)
async def list_all(
    kind: InstitutionKind | None = Query(None, description="类别"),
    qualification: str | None = Query(None, max_length=60, description="Holds this code · 资质"),
    uscc: UsccFilter = None,
    expert_code: str | None = Query(None, max_length=40, description="专家编码"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> Page[InstitutionOut]:
    after = None
    if page.after is not None:
        try:
            after = UUID(str(page.after.get("id")))
        except ValueError:
            raise p.Problem(p.INVALID_CURSOR) from None
    where = InstitutionFilter(
        region_prefix=RegionScope.of(by).prefix, kind=kind.value if kind else None,
        qualification=qualification, uscc=uscc,
        expert_code=expert_code.strip().upper() if expert_code else None,
    )  # fmt: skip
    rows = await use_cases.list_entries(uow, where, after, page.limit + 1)
    items, cursor = page.page(rows, lambda i: {"id": str(i.institution_id)})
    return Page[InstitutionOut](items=[InstitutionOut.of(i) for i in items], next_cursor=cursor)


@router.get(
    "/institutions/{institution_id}",
    operation_id="registry_institutions_get",
    response_model=InstitutionOut,
    summary="查看委托专业机构或专家 · Get a professional institution or expert",
    description="Answers with an `ETag`; send it as `If-Match` when replacing the entry. 404 "
    "outside your region.",
)
async def get_one(
    institution_id: UUID,
    response: Response,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> InstitutionOut:
    found = await use_cases.get_entry(uow, institution_id, RegionScope.of(by))
    response.headers["ETag"] = etag_of(found.version)
    return InstitutionOut.of(found)
