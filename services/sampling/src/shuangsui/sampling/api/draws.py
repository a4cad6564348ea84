"""HTTP: a batch's draws (抽取) — prepared and committed by the lead department, read by anyone.

A committed draw is public evidence (R14, DRAW_SPEC §14.1): its reads need no login, and the
commitment is served as the exact bytes its hash `C` is computed over."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from shuangsui.drawspec.jsontext import canonical_json
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, optional_principal, require
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import RegionFilter
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.api.draw_paths import DrawKey
from shuangsui.sampling.api.draws_models import (
    CommitIn,
    DrawOut,
    PreparedOut,
    PrepareIn,
    RevealIn,
    RoundIn,
    TeamShortfallOut,
    VoidIn,
)
from shuangsui.sampling.domain.draws import DrawStatus
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_ends as ends
from shuangsui.sampling.service import draw_feasibility as feasibility
from shuangsui.sampling.service import draw_reads as reads
from shuangsui.sampling.service import draw_reveals as reveals
from shuangsui.sampling.service import draw_rounds as rounds
from shuangsui.sampling.service import draws as service

router = APIRouter(prefix="/api/v1/sampling", tags=["draws · 抽取"])

writers = require(*access.WRITERS)
approvers = require(*access.VOID_APPROVERS)
pushers = require(*rounds.PUSHERS)
revealers = require(*reveals.REVEALERS)
# What a step of a draw (commit, reveal, round, void) may be refused with.
STEP_RESPONSES = problem_responses(
    access.DRAW_REFUSED, access.DRAW_STATE, p.FORBIDDEN, 404, p.PRECONDITION_FAILED,
    p.PRECONDITION_REQUIRED,
)  # fmt: skip
BATCH_ID = Path(description="The batch (批次标识)")
SHORTFALLS_SHOWN = 1000


def _answer(stored: StoredDraw, status: int = 200) -> JSONResponse:
    return JSONResponse(
        DrawOut.of(stored).model_dump(mode="json"),
        status_code=status,
        headers={"ETag": etag_of(stored.revision)},
    )


@router.post(
    "/batches/{batch_id}/draws",
    operation_id="sampling_draws_prepare",
    response_model=PreparedOut,
    status_code=201,
    summary="准备抽取 · Prepare the batch's draws",
    description="Without a body (or `kind: subjects`): the batch's subject draw (`combined`; "
    "`subjects` for a cross-department batch, B.11), built from sampling's read models only "
    "(ADR 0003): the active subjects of the batch's regions in scope of one of its items, "
    "narrowed by a directed batch's conditions, by stratum (the risk class in `risk_domain`), "
    "and the lead department's pool with its conflicts. A `bureau_wide` batch of a city or "
    "provincial bureau is one draw per county pool (B.10), all prepared in one transaction "
    "with consecutive codes; a subject in no county with officers refuses the whole prepare "
    "(`draw-county-no-pool`, naming them); a re-run prepares only the counties whose draw "
    "failed or was voided. With `kind: teams` and `org_id`: one department's team draw of a "
    "cross-department batch over its completed subject draw (B.11, R20): the selected "
    "subjects, every stratum 1/1, that department's own pool, conflicts and lead "
    "qualification. `exclusions` (subject draws only): subjects of the population left out "
    "of the manifest and listed with their B.7 reason in the committed exclusions (§3.2); each "
    "once and with a reason of the batch's exclusion policy, else 422 `draw-refused` "
    "(`draw-exclusion-outside`, `draw-exclusion-duplicate`, `draw-exclusion-reason`, every "
    "entry in `errors`); the policy's REGISTERED_RECENTLY excludes by itself. Answers the "
    "first draw prepared with every prepared draw in `prepared` "
    "(each with ETag \"1\"; send it as `If-Match` to commit). Only the batch's lead "
    "department's admin; refused while the batch is not drawable, has a live or completed "
    "draw of the decision, or the subjects read model is behind the registry by more than "
    "READ_MODEL_MAX_LAG_SECONDS (`draw-read-model-behind`). `team_shortfalls` lists the "
    "drawable subjects that cannot be given a full eligible team (R18), whose commit would be "
    "refused (`draw-team-infeasible`); once fixed, `refresh: true` rebuilds the decision's "
    "prepared draw in place (same code, next ETag) instead of `draw-in-progress`. Nothing of "
    "a prepared draw is public.",
    responses=problem_responses(
        access.DRAW_REFUSED,
        access.DRAW_STATE,
        access.DRAW_READ_MODEL_BEHIND,
        p.FORBIDDEN,
        404,
    ),
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": {
        "subjects": {"summary": "The batch's subject draw(s)", "value": {"kind": "subjects"}},
        "exclusions": {"summary": "The subject draw, two subjects excluded (B.7)", "value": {
            "kind": "subjects", "exclusions": [
                {"uscc": "91330106MA2B7C8D9E", "reason": "UNDER_INVESTIGATION"},
                {"uscc": "92330106MA2C3D4E5F", "reason": "OTHER_WITH_NOTE", "note": "停业装修"}]}},
        "teams": {"summary": "A department's team draw (B.11)", "value": {
            "kind": "teams", "org_id": "3c9e5a71-2b4d-4f6a-9b0c-1d2e3f4a5b6c"}},
    }}}}},
)  # fmt: skip
async def prepare_draw(
    request: Request,
    batch_id: Annotated[UUID, BATCH_ID],
    body: PrepareIn | None = Body(None),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(writers),
) -> JSONResponse:
    bound = request.app.state.settings.read_model_max_lag_seconds
    asked = (body or PrepareIn()).request()
    prepared = await service.prepare_draws(uow, batch_id, asked, by, bound)
    short = [TeamShortfallOut(draw_id=d.draw.draw_code, **s.to_json())
             for d in prepared for s in feasibility.shortfalls_of(d)][:SHORTFALLS_SHOWN]  # fmt: skip
    return JSONResponse(
        PreparedOut.of_all(prepared, short).model_dump(mode="json"), status_code=201,
        headers={"ETag": etag_of(prepared[0].revision)},
    )  # fmt: skip


@router.post(
    "/draws/{draw_id}:commit",
    operation_id="sampling_draws_commit",
    response_model=DrawOut,
    summary="提交抽取承诺 · Commit the draw",
    description="Fixes every input before any randomness exists (DRAW_SPEC §4, §14.1): the "
    "commitment document is stored and `sampling.draw.committed.v1` recorded in the same "
    "transaction. The beacon is `commit-reveal` (the parties' commitments, at least two; the "
    "secrets stay with the parties until the reveal), `drand-quicknet` (a `round` due at least "
    "10 minutes after the commit, `draw-beacon-round-too-soon`, and at most 7 days, "
    "`draw-beacon-round-too-late`; default the earliest; it must be accepted by "
    "BEACON_DEADLINE_SECONDS after its time, shown as `reveal_deadline`) or, in test and "
    "development mode only (DRAW_TEST_MODE), `fixed`. A draw is committed once "
    "(`draw-transition`). Refused with `draw-team-infeasible` (R18) while a subject the draw "
    "may select cannot be given a full eligible team (its `team_shortfalls`). Requires "
    "`If-Match` with the draw's ETag.",
    responses=problem_responses(
        access.DRAW_REFUSED,
        feasibility.DRAW_TEAM_INFEASIBLE,
        access.DRAW_STATE,
        p.FORBIDDEN,
        404,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
    ),
)
async def commit_draw(
    request: Request,
    draw_id: DrawKey,
    body: CommitIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(writers),
) -> JSONResponse:
    settings = request.app.state.settings
    grace = timedelta(seconds=settings.beacon_deadline_seconds)
    committed = await service.commit_draw(
        uow, draw_id, body.choice(grace), if_match, by, test_mode=bool(settings.draw_test_mode)
    )
    return _answer(committed)


@router.post(
    "/draws/{draw_id}:reveal",
    operation_id="sampling_draws_reveal",
    response_model=DrawOut,
    summary="揭示随机源 · Reveal the draw's randomness",
    description="After the commit (§14.1). A `fixed` beacon (test mode) is revealed at once, "
    "without a body. A `commit-reveal` party hands in its secret (`party_id`, `secret`) before "
    "the reveal deadline; each must open its own commitment (`E_BEACON`), once "
    "(`draw-reveal-repeated`). A party named by a department's unit code (the lead's, a "
    "partner's) is that department's own secret: only its admin (`department_admin` or "
    "`partner_admin` of that org) hands it in, the lead never for it (403); a witness's party "
    "is handed in by the lead's admin. With the last reveal the draw is computed by the verifier's own "
    "code (`shuangsui.drawspec.verify_tree`) and completed: `sampling.draw.completed.v1` and "
    "one `sampling.team.assigned.v1` per subject; if the verifier refuses the bundle the draw "
    "fails (`verification_rejected`, published). Requires `If-Match` with the draw's ETag.",
    responses=problem_responses(
        access.DRAW_REFUSED,
        access.DRAW_STATE,
        p.FORBIDDEN,
        404,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
    ),
)
async def reveal_draw(
    draw_id: DrawKey,
    body: RevealIn | None = Body(None),
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(revealers),
) -> JSONResponse:
    secret = body.secret_in() if body is not None else None
    return _answer(await reveals.reveal_draw(uow, draw_id, secret, if_match, by))


@router.post(
    "/draws/{draw_id}:round",
    operation_id="sampling_draws_round",
    response_model=DrawOut,
    summary="提交 drand 轮次 · Push a drand draw's round",
    description="For a deployment without access to drand's relays (DRAND_URLS empty): an "
    "operator hands over the committed round as drand publishes it (`round`, `randomness`, "
    "`signature`). It is accepted only if checks (a)–(d) of DRAW_SPEC §5.1 pass, the BLS "
    "signature under the pinned quicknet key included (`drand-verify`); otherwise 422 "
    "`draw-refused` with `rule = E_BEACON` (another round, randomness not SHA-256 of the "
    "signature, a signature that does not verify) or `E_SCHEMA`, and nothing is stored. An "
    "accepted round reveals, computes and completes the draw as the last commit-reveal reveal "
    "does. Refused: a draw that is not drand (`draw-beacon-source`), not waiting for its round "
    "(`draw-completed-final` when pushed twice, `draw-transition`), or past its deadline (`draw-beacon-late`: the draw "
    "fails as `beacon_unavailable`). Who: the batch's lead department's admin or a provincial "
    "admin of the draw's province (403 otherwise). Requires `If-Match` with the draw's ETag.",
    responses=STEP_RESPONSES,
)
async def push_round(
    draw_id: DrawKey,
    body: RoundIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(pushers),
) -> JSONResponse:
    accepted = await rounds.accept_round(uow, draw_id, body.offered(), by=by, if_match=if_match)
    return _answer(accepted)


@router.post(
    "/draws/{draw_id}:void",
    operation_id="sampling_draws_void",
    response_model=DrawOut,
    summary="作废抽取 · Void a completed draw",
    description="Two steps (R14): the batch's lead department's admin asks with a `reason` "
    "(the draw stays `completed`, the request shows as `void_request`); then another person "
    "approves with `approve: true`: an admin of the same department or an auditor of the "
    "draw's province, never who asked (`draw-void-approver`). The draw is then `voided` and "
    "`sampling.draw.voided.v1` published; it stays in the public list, and the batch's next "
    "draw is a new prepare and commit with the next draw code (B.6). Refused: no reason "
    "(`draw-void-reason`), a draw not completed (`draw-transition`), an approval with nothing "
    "asked (`draw-void-not-requested`), another org or province (403). Requires `If-Match`.",
    responses=problem_responses(
        access.DRAW_REFUSED,
        access.DRAW_STATE,
        p.FORBIDDEN,
        404,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
    ),
)
async def void_draw(
    draw_id: DrawKey,
    body: VoidIn,
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(approvers),
) -> JSONResponse:
    voided = await ends.void_draw(uow, draw_id, body.reason, body.approve, if_match, by)
    return _answer(voided)


@router.get(
    "/draws",
    operation_id="sampling_draws_list",
    response_model=Page[DrawOut],
    summary="抽取公示列表 · List the draws",
    description="Public, no login: every committed draw, with its failed and voided ones (they "
    "stay visible, R14), in code order (a batch's draws together). A department's admin also "
    "sees its own prepared draws. Filters: `batch_id`, `status`, `region_code` (the lead's).",
    responses=problem_responses(p.INVALID_CURSOR),
)
async def list_draws(
    batch_id: UUID | None = Query(None, description="批次"),
    status: DrawStatus | None = Query(None, description="状态"),
    region_code: RegionFilter = None,
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> Page[DrawOut]:
    filters = reads.DrawFilters(batch_id, status, region_code)
    rows, cursor = await reads.list_draws(uow, by, filters, page)
    return Page(items=[DrawOut.of(d) for d in rows], next_cursor=cursor)


@router.get(
    "/draws/{draw_id}",
    operation_id="sampling_draws_get",
    response_model=DrawOut,
    summary="查看抽取 · Get a draw",
    description="Public, no login, once committed; a prepared draw only to its lead "
    "department's admin (404 to anyone else). With its `ETag`.",
    responses=problem_responses(404),
)
async def get_draw(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> JSONResponse:
    return _answer(await reads.get_draw(uow, draw_id, by))


@router.get(
    "/draws/{draw_id}/commitment",
    operation_id="sampling_draws_commitment",
    summary="抽取承诺文件 · The committed document",
    description="Exactly the commitment document (DRAW_SPEC §4), as the canonical JSON bytes "
    "(RFC 8785) whose SHA-256 is the draw's `commitment_sha256`. Public, no login; 404 before "
    "the commit.",
    responses={
        200: {"content": {"application/json": {}}, "description": "The document (承诺文件)"},
        **problem_responses(404),
    },
)
async def get_commitment(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal | None = Depends(optional_principal),
) -> Response:
    document = await reads.get_commitment(uow, draw_id)
    return Response(canonical_json(document), media_type="application/json")


@router.get(
    "/draws/{draw_id}/bundle",
    operation_id="sampling_draws_bundle",
    summary="抽取数据包 · The draw's bundle",
    description="The bundle of DRAW_SPEC §10.1: the commitment, the beacon value and the four "
    "lists (inspectors by opaque id). Anyone recomputes the result from it "
    "(`ids1 verify`). Public, no login; 404 until the draw is computed.",
    responses={
        200: {"content": {"application/json": {}}, "description": "The bundle (数据包)"},
        **problem_responses(404),
    },
)
async def get_bundle(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal | None = Depends(optional_principal),
) -> Response:
    return Response(canonical_json(await reads.get_bundle(uow, draw_id)),
                    media_type="application/json")  # fmt: skip


@router.get(
    "/draws/{draw_id}/result",
    operation_id="sampling_draws_result",
    summary="抽取结果 · The draw's result",
    description="The result of DRAW_SPEC §10.2, as the verifier computed it from the bundle: "
    "per stratum the selection in order, the assignments and replacements. Public, no login; "
    "404 until the draw is computed.",
    responses={
        200: {"content": {"application/json": {}}, "description": "The result (抽取结果)"},
        **problem_responses(404),
    },
)
async def get_result(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal | None = Depends(optional_principal),
) -> Response:
    return Response(canonical_json(await reads.get_result(uow, draw_id)),
                    media_type="application/json")  # fmt: skip
