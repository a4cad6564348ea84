"""HTTP: the automatic-tag rules (标签规则) and the re-classification passes they start."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import VersionPath
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.domain.subjects import SubjectType
from shuangsui.registry.domain.tags import Condition, TagDimension, TagRule, rule_to_json
from shuangsui.registry.service.classification import (
    CLASSIFICATION_BUSY,
    families_of,
    get_classification,
    get_rules,
    list_classifications,
    replace_rules,
)

router = APIRouter(prefix="/api/v1/registry", tags=["tags · 标签与事项索引"])

EDITORS = (Role.national_admin, Role.provincial_admin)
READERS = (
    *EDITORS, Role.department_admin, Role.station_staff, Role.inspector, Role.reviewer,
    Role.auditor, Role.partner_admin,
)  # fmt: skip

RULES_EXAMPLE: dict[str, Any] = {
    "note": "2026 规则: 餐饮、食品品类、网络载体、规模",
    "rules": [
        {
            "dimension": "format",
            "value": "餐饮服务",
            "when": {"industry_code_prefixes": ["H62"]},
            "note": "GB/T 4754 餐饮业",
        },
        {
            "dimension": "category",
            "value": "食品",
            "when": {"licence_types": ["食品经营许可证", "食品生产许可证"]},
        },
        {"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}},
        {
            "dimension": "scale",
            "value": "小微",
            "when": {"capital_wan_max": "100", "subject_types": ["enterprise"]},
        },
    ],
}


class ConditionIn(BaseModel):
    """Every part given must hold; a list holds when any of its values matches."""

    model_config = ConfigDict(extra="forbid")

    industry_code_prefixes: list[str] = Field(
        default_factory=list, description="GB/T 4754 code prefixes, e.g. H62 (行业代码)"
    )
    licence_types: list[str] = Field(
        default_factory=list, description="Licence types held, e.g. 食品经营许可证 (许可证类型)"
    )
    scope_keywords: list[str] = Field(
        default_factory=list, description="Words in the business scope (经营范围关键词)"
    )
    subject_types: list[SubjectType] = Field(default_factory=list, description="主体类型")
    has_online_shop: bool | None = Field(
        default=None, description="true: has an online shop; false: has none (网店)"
    )
    capital_wan_min: Decimal | None = Field(
        default=None, ge=0, description="Registered capital ≥ this, 万元 (注册资本下限)"
    )
    capital_wan_max: Decimal | None = Field(
        default=None, gt=0, description="Registered capital < this, 万元 (注册资本上限)"
    )
    employee_bands: list[str] = Field(
        default_factory=list, description="Employee bands, e.g. 1-9 (从业人数区间)"
    )


class TagRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimension: TagDimension = Field(
        description="format 业态 / category 品类 / carrier 载体 / scale 规模"
    )
    value: str = Field(min_length=1, max_length=40, description="The tag, e.g. 餐饮服务 (标签值)")
    when: ConditionIn = Field(description="When a subject gets the tag (条件)")
    note: str = Field(default="", max_length=500, description="Why (说明)")

    def rule(self) -> TagRule:
        w = self.when
        return TagRule(
            dimension=self.dimension,
            value=self.value,
            note=self.note,
            when=Condition(
                industry_code_prefixes=tuple(w.industry_code_prefixes),
                licence_types=tuple(w.licence_types),
                scope_keywords=tuple(w.scope_keywords),
                subject_types=tuple(w.subject_types),
                has_online_shop=w.has_online_shop,
                capital_wan_min=w.capital_wan_min,
                capital_wan_max=w.capital_wan_max,
                employee_bands=tuple(w.employee_bands),
            ),
        )


class TagRulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULES_EXAMPLE]})

    rules: list[TagRuleIn] = Field(max_length=500, description="The whole rule set (规则)")
    note: str = Field(default="", max_length=1000, description="What changed and why (修订说明)")


class TagRulesOut(BaseModel):
    version: int = Field(description="Rule-set version; 0 before any was saved (规则版本)")
    rules: list[TagRuleIn]
    note: str
    created_at: datetime | None
    created_by: str | None


class ClassificationOut(BaseModel):
    version: int = Field(description="Classification number (分类版本)")
    rules_version: int = Field(description="The tag rules it applies")
    items_in_force: int = Field(description="How many items in force it indexes")
    reason: str = Field(description="Why it was started")
    status: str = Field(
        description="pending 待处理 / running 处理中 / done 完成 / superseded 已被取代"
    )
    total: int = Field(description="Subjects to re-classify when it started")
    done: int = Field(description="Subjects re-classified so far (进度)")
    changed: int = Field(description="Of those, subjects whose tags or items changed")
    percent: float = Field(description="done / total, 0–100")
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ClassificationOut:
        total, done = row["total"], row["done"]
        if row["status"] == "done":
            percent = 100.0
        else:
            percent = round(min(100.0, 100.0 * done / total), 1) if total else 0.0
        return cls(
            **{k: row[k] for k in cls.model_fields if k in row},
            items_in_force=len(row["items"]),
            percent=percent,
        )


@router.get(
    "/tag-rules",
    operation_id="registry_tag_rules_get",
    response_model=TagRulesOut,
    summary="标签规则 · The tag rules",
    description="The current rules that tag subjects by 业态 / 品类 / 载体 / 规模. The ETag is "
    "the rule-set version; send it as If-Match to replace them.",
)
async def rules_get(
    uow: UnitOfWork = Depends(unit_of_work), _by: Principal = Depends(require(*READERS))
) -> Response:
    stored = await get_rules(uow)
    out = TagRulesOut(
        version=stored.rules.version,
        rules=[TagRuleIn.model_validate(rule_to_json(r)) for r in stored.rules.rules],
        note=stored.note,
        created_at=stored.created_at,
        created_by=stored.created_by,
    )
    return JSONResponse(
        out.model_dump(mode="json"), headers={"ETag": etag_of(stored.rules.version)}
    )


@router.put(
    "/tag-rules",
    operation_id="registry_tag_rules_replace",
    response_model=ClassificationOut,
    status_code=202,
    summary="修改标签规则 · Replace the tag rules",
    description="Saves the whole rule set as a new version and starts re-tagging every subject "
    "in the background: the answer is the re-classification pass, whose progress "
    "`GET /classifications/{version}` shows. Needs If-Match with the current ETag (412 when "
    "stale, 428 when missing). 409 `classification-busy` while a push holds the current rules "
    "for more than a few seconds. Saving the same rules again starts nothing and answers the "
    "current pass.",
    responses=problem_responses(
        CLASSIFICATION_BUSY,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
        descriptions={412: "The rules changed meanwhile · 规则已被修改"},
    ),
)
async def rules_replace(
    body: TagRulesIn,
    request: Request,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*EDITORS)),
) -> JSONResponse:
    started = await replace_rules(
        uow,
        [rule.rule() for rule in body.rules],
        body.note,
        if_match,
        families_of(request.app.state.settings.province),
        by,
    )
    location = f"/api/v1/registry/classifications/{started['version']}"
    return JSONResponse(
        ClassificationOut.of(started).model_dump(mode="json"),
        status_code=202,
        headers={"Location": location, "ETag": etag_of(started["rules_version"])},
    )


@router.get(
    "/classifications/{version}",
    operation_id="registry_classifications_get",
    response_model=ClassificationOut,
    summary="重新分类进度 · A re-classification pass and its progress",
)
async def classification_get(
    version: VersionPath,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(*READERS)),
) -> ClassificationOut:
    return ClassificationOut.of(await get_classification(uow, version))


@router.get(
    "/classifications",
    operation_id="registry_classifications_list",
    response_model=Page[ClassificationOut],
    summary="分类版本 · Classifications, newest first",
    description="Each is started by a rule change or by a change of the items in force.",
)
async def classification_list(
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(*READERS)),
) -> Page[ClassificationOut]:
    before = page.position("version", int)
    rows, cursor = page.page(
        await list_classifications(uow, before, page.limit + 1), lambda r: {"version": r["version"]}
    )
    return Page(items=[ClassificationOut.of(r) for r in rows], next_cursor=cursor)
