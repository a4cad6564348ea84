"""Preview of a batch's draw before it is published (issue 12 item 4): what the registry counts
per stratum, and what the draw would take of it (R11, R12, R15).

The caller (the batch use cases) has checked the planner's jurisdiction over the batch, whose
scope regions were checked against the lead org when it was saved; planning then asks the
registry as its service principal, which sees the whole province.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shuangsui.kernel import problems as p
from shuangsui.kernel.problems import VALIDATION, FieldError, Problem
from shuangsui.kernel.service_client import ServiceCallError, ServiceClient, ServiceUnreachable
from shuangsui.planning.adapters.population import count_in_registry
from shuangsui.planning.domain.batch_preview import (
    BatchPreview,
    Counted,
    CountQuery,
    PreviewTooBroad,
    combine,
    count_queries,
)
from shuangsui.planning.domain.batch_values import BatchDraft
from shuangsui.planning.domain.population import UNCLASSIFIED_DRAWN_AS

# The registry answers kept counts in milliseconds, but a scan holds one of its connections for
# the whole count: a preview asks a few at a time, so one planner cannot take the pool.
CONCURRENT_COUNTS = 8

BATCH_PREVIEW_TOO_BROAD = p.problem_type(
    "batch-preview-too-broad", 422, "Batch too broad to preview · 批次范围过大，无法预览",
    "The registry counts one item in one region (one subject type, one industry) at a time; "
    "this batch's items × regions × subject types × industries need more counts than a preview "
    "asks. `detail` spells the product; preview a narrower scope.",
)  # fmt: skip


async def preview_batch(
    registry: ServiceClient,
    draft: BatchDraft,
    *,
    unclassified_drawn_as: str = UNCLASSIFIED_DRAWN_AS,
) -> BatchPreview:
    """Every count the batch needs, asked concurrently; the registry's refusals are the
    planner's field errors, its absence a `ServiceUnreachable` (answered 503)."""
    try:
        queries = count_queries(draft)
    except PreviewTooBroad as broad:
        raise Problem(
            BATCH_PREVIEW_TOO_BROAD, str(broad), errors=[FieldError("scope", str(broad))]
        ) from None
    window = asyncio.Semaphore(CONCURRENT_COUNTS)

    async def ask(query: CountQuery) -> Counted:
        async with window:
            found = await count_in_registry(
                registry, item_id=query.item_id, region_code=query.region_code,
                tags=query.tags, domain=query.domain, subject_type=query.subject_type,
                industry_code=query.industry_code,
            )  # fmt: skip
        return Counted(
            query, found.by_risk_class, found.method, found.classification, found.reclassifying
        )

    answers = await asyncio.gather(*(ask(q) for q in queries), return_exceptions=True)
    failed = [(q, a) for q, a in zip(queries, answers, strict=True) if isinstance(a, BaseException)]
    # An absent registry is the answer whatever else failed: nothing the planner fixes helps.
    for _, error in failed:
        if isinstance(error, ServiceUnreachable):
            raise error
    for query, error in failed:
        if isinstance(error, ServiceCallError) and error.status in (404, 422):
            raise _refused(draft, query, error) from None
        raise error
    counted = [a for a in answers if isinstance(a, Counted)]
    return combine(draft, counted, unclassified_drawn_as=unclassified_drawn_as)


def _refused(draft: BatchDraft, query: CountQuery, refused: ServiceCallError) -> Problem:
    """The registry judges what only it knows (an item not in force, a tag it has no dimension
    for); it names its query parameters, which are said here as the batch's fields."""
    field_of = _batch_fields(draft, query)
    detail = refused.problem.detail or "refused"
    errors = [FieldError(field_of(field), reason) for field, reason in refused.problem.errors]
    return Problem(
        VALIDATION, f"the registry refused the count: {detail}",
        errors=errors or [FieldError(field_of("item_id"), detail)],
    )  # fmt: skip


def _batch_fields(draft: BatchDraft, query: CountQuery) -> Callable[[str], str]:
    scope = draft.scope
    named = {
        "item_id": f"item_ids[{draft.item_ids.index(query.item_id)}]",
        "region_code": f"scope.region_codes[{scope.region_codes.index(query.region_code)}]",
        "domain": "risk_domain",
    }
    if query.subject_type is not None:
        at = scope.subject_types.index(query.subject_type)
        named["subject_type"] = f"scope.subject_types[{at}]"
    if query.industry_code is not None:
        at = scope.industry_codes.index(query.industry_code)
        named["industry_code"] = f"scope.industry_codes[{at}]"

    def field_of(registry_field: str) -> str:
        if registry_field.startswith("tag[") and registry_field.endswith("]"):
            return f"scope.tag_filters[{registry_field[4:-1]}]"
        return named.get(registry_field, registry_field)

    return field_of
