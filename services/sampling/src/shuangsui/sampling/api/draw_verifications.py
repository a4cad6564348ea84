"""HTTP: verifying a draw (验证抽取) — public, no login. The served evidence recomputed, or a
citizen's own copies of a bundle and a result, by the same library function as
`shuangsui draw verify` (`shuangsui.drawspec.verdict_of`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, optional_principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.api.draw_paths import DrawKey
from shuangsui.sampling.api.draw_verifications_models import VerificationIn, VerificationOut
from shuangsui.sampling.service import draw_verifications as service

router = APIRouter(prefix="/api/v1/sampling", tags=["draws · 抽取"])

JSON = "application/json"


@router.get(
    "/draws/{draw_id}/verification",
    operation_id="sampling_draws_verify",
    response_model=VerificationOut,
    summary="验证抽取 · Verify a draw",
    description="Recomputes the draw's served bundle (`…/bundle`) with the verifier's own code "
    "and compares it with the served result (`…/result`), exactly as `shuangsui draw verify "
    "bundle.json result.json` does (the same function, `shuangsui.drawspec.verdict_of`): `ok`, "
    "`outcome` (`result` or the IDS-1 error code the bundle is rejected with), `checks` (the "
    "steps of DRAW_SPEC §11 and which one stopped the verifier), and on a mismatch "
    "`difference` (the part and first field that differ, both values). Public, no login; 404 "
    "for a draw not public (prepared) or not computed yet.",
    responses=problem_responses(404, service.VERIFIER_UNAVAILABLE),
)
async def verify_draw(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal | None = Depends(optional_principal),
) -> VerificationOut:
    return VerificationOut.of(await service.verify_draw(uow, draw_id))


@router.post(
    "/verifications",
    operation_id="sampling_verifications_check",
    response_model=VerificationOut,
    summary="验证上传的抽取数据 · Verify an uploaded bundle and result",
    description="`{\"bundle\": …, \"result\": …}`: a bundle (DRAW_SPEC §10.1) and the result "
    "(§10.2) someone published for it, e.g. downloaded earlier or received from elsewhere. "
    "Answers the verdict of `sampling_draws_verify` for those documents; nothing is stored. The "
    "body is read as IDS-1 reads JSON (a repeated key or a fraction is refused, never "
    "repaired). 422 `validation-error` with `errors[].field` when the body is not that object, "
    "when `result` is neither a result nor a rejection object, or when the bundle fails step 1 "
    "(`rule = E_SCHEMA`, the field named by the verifier, e.g. `bundle.manifest[3].weight`); "
    "413 over VERIFICATION_MAX_BYTES (verify larger draws with the command line). Public, no "
    "login.",
    responses=problem_responses(
        p.VALIDATION, p.PAYLOAD_TOO_LARGE, p.UNSUPPORTED_MEDIA_TYPE, service.VERIFIER_UNAVAILABLE
    ),
    openapi_extra={"requestBody": {"required": True, "content": {JSON: {
        "schema": VerificationIn.model_json_schema(ref_template="#/components/schemas/{model}"),
    }}}},
)  # fmt: skip
async def check_upload(
    request: Request, _by: Principal | None = Depends(optional_principal)
) -> VerificationOut:
    limit = request.app.state.settings.verification_max_bytes
    return VerificationOut.of(await service.verify_upload(await _body(request, limit)))


async def _body(request: Request, limit: int) -> bytes:
    """The raw body (the verifier parses it itself), refused over `limit` bytes: up front from
    Content-Length, and while streaming a chunked one."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSON:
        raise p.Problem(p.UNSUPPORTED_MEDIA_TYPE, f"send {JSON}, not {media_type or 'nothing'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise p.Problem(p.PAYLOAD_TOO_LARGE, f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise p.Problem(p.PAYLOAD_TOO_LARGE, f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
