"""HTTP: work guides (抽查工作指引) of check items; mounted by `api.items` under its prefix."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from shuangsui.kernel.auth import Principal, Role, optional_principal, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.param_types import VersionPath
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.api.items_models import GuideIn, GuideOut
from shuangsui.registry.service import guides as service

router = APIRouter(tags=["work guides · 抽查工作指引"])
admins = require(Role.national_admin, Role.provincial_admin)


@router.post(
    "/items/{item_id}/guides",
    operation_id="registry_item_guides_create",
    status_code=201,
    response_model=GuideOut,
    summary="起草抽查工作指引新版本 · Draft a new work-guide version",
    description="The next version of the item's guide: steps, each with its checkpoints "
    "(检查要点), evidence requirements and the record form (检查记录表). Written by the admins of "
    "the list that introduced the item. One draft at a time. At most 256 kB as JSON: the "
    "published guide travels whole in one event.",
    responses=problem_responses(descriptions={409: "A draft exists · 已有草稿"}),
)
async def draft_guide(
    item_id: UUID,
    body: GuideIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> GuideOut:
    guide = await service.draft_guide(
        uow, item_id, body.steps_of(), body.evidence_requirements, body.record_form_schema, by
    )
    return GuideOut.of(guide)


@router.post(
    "/items/{item_id}/guides/{version}:publish",
    operation_id="registry_item_guides_publish",
    response_model=GuideOut,
    summary="发布抽查工作指引 · Publish a work-guide version",
    description="Makes the draft version official and immutable (R4); records "
    "`registry.guide.published.v1` and `.v2`, which carries the guide itself.",
    responses=problem_responses(descriptions={409: "Already published · 已发布"}),
)
async def publish_guide(
    item_id: UUID,
    version: VersionPath,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(admins),
) -> GuideOut:
    return GuideOut.of(await service.publish(uow, item_id, version, by))


@router.get(
    "/items/{item_id}/guides",
    operation_id="registry_item_guides_list",
    response_model=list[GuideOut],
    summary="抽查工作指引版本 · Work-guide versions of an item",
    description="Published versions are public; the item's admins also see the draft.",
)
async def list_guides(
    item_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> list[GuideOut]:
    return [GuideOut.of(g) for g in await service.guides(uow, item_id, by)]


@router.get(
    "/items/{item_id}/guides/{version}",
    operation_id="registry_item_guides_get",
    response_model=GuideOut,
    summary="查看抽查工作指引 · Get a work-guide version",
)
async def get_guide(
    item_id: UUID,
    version: VersionPath,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> GuideOut:
    return GuideOut.of(await service.guide(uow, item_id, version, by))
