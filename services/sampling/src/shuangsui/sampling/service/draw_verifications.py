"""Verifying a draw (验证抽取, issue 13 item 7): the served bundle recomputed and compared with the
served result, or a citizen's own copies of both — by `shuangsui.drawspec.verdict_of`, the very
function `shuangsui draw verify bundle.json result.json` prints, so the platform's verdict and
the command line's can never differ.

Nothing here is stored: a verification is a read. The recomputation is CPU work (a whole draw),
so it runs off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from shuangsui.drawspec import Verdict, VerifierUnavailable, verdict_of
from shuangsui.drawspec.errors import ErrorCode
from shuangsui.drawspec.jsontext import BomPrefixed, JsonValue, NotJson, parse_json
from shuangsui.drawspec.result import is_rejection_object, is_result_object
from shuangsui.kernel import problems as p
from shuangsui.kernel.db import UnitOfWork
from shuangsui.sampling.service import draw_reads as reads

UPLOAD_KEYS = ("bundle", "result")
# Shown when the installation cannot check a drand round (the `drand` extra missing).
VERIFIER_UNAVAILABLE = p.problem_type(
    "draw-verifier-unavailable", 503, "The draw cannot be checked here · 无法在此验证抽取",
    "A check of the bundle (the BLS signature of a drand round) cannot be made by this "
    "installation; verify it with `shuangsui draw verify` where `shuangsui-drawspec[drand]` "
    "is installed.",
)  # fmt: skip


@dataclass(frozen=True)
class Verification:
    """A verdict and the draw it is about (its public code; None if the bundle names none)."""

    draw_code: str | None
    verdict: Verdict


async def verify_draw(uow: UnitOfWork, draw_id: UUID) -> Verification:
    """The served bundle recomputed and compared with the served result (404 as for either:
    a prepared draw is not public, a committed one has no bundle before it is computed)."""
    bundle = await reads.get_bundle(uow, draw_id)
    result = await reads.get_result(uow, draw_id)
    return Verification(_draw_code(bundle), await _verdict(bundle, result))


async def verify_upload(data: bytes) -> Verification:
    """`{"bundle": …, "result": …}` as uploaded: parsed as IDS-1 parses (a repeated key or a
    fraction is kept to be refused, never silently repaired), then verified. A body that is not
    such an object, a result that is neither a result nor a rejection object (§10.2, §10.3),
    and a bundle that fails step 1 (`E_SCHEMA`: it is not an IDS-1 bundle at all) are 422 with
    the field; anything else gets a verdict."""
    tree = _parsed(data)
    bundle, published = tree["bundle"], tree["result"]
    if not isinstance(bundle, dict):
        raise _malformed("bundle", "the bundle is a JSON object (DRAW_SPEC §10.1)")
    if not (is_result_object(published) or is_rejection_object(published)):
        raise _malformed(
            "result", "neither a result object (DRAW_SPEC §10.2: exactly commitment_sha256, "
            "seed, strata, result_sha256, seed_b, assignments, replacements) nor a rejection "
            "object ({error, message?}, §10.3)",
        )  # fmt: skip
    verdict = await _verdict(bundle, published)
    if verdict.outcome == ErrorCode.SCHEMA.value:
        message = str(verdict.computed.get("message", ""))
        path, _, reason = message.partition(": ")
        field = f"bundle.{path}" if reason and path else "bundle"
        raise _malformed(field, reason or message, rule=ErrorCode.SCHEMA.value)
    return Verification(_draw_code(bundle), verdict)


def _parsed(data: bytes) -> dict[str, JsonValue]:
    try:
        tree = parse_json(data)
    except (NotJson, BomPrefixed) as exc:
        raise _malformed("", f"the body is not a JSON text: {exc}") from None
    if not isinstance(tree, dict):
        raise _malformed("", 'the body is an object {"bundle": …, "result": …}')
    errors = [p.FieldError(k, "required") for k in UPLOAD_KEYS if k not in tree]
    errors += [p.FieldError(k, "not a field of the upload") for k in tree if k not in UPLOAD_KEYS]
    if errors:
        raise p.Problem(p.VALIDATION, 'send {"bundle": …, "result": …}', errors=errors)
    return tree


def _malformed(field: str, reason: str, rule: str | None = None) -> p.Problem:
    problem = p.Problem(p.VALIDATION, f"{field or 'body'}: {reason}",
                        errors=[p.FieldError(field, reason)])  # fmt: skip
    if rule is not None:
        problem.extensions["rule"] = rule
    return problem


async def _verdict(bundle: JsonValue, published: JsonValue) -> Verdict:
    try:
        return await asyncio.to_thread(verdict_of, bundle, published)
    except VerifierUnavailable as exc:
        raise p.Problem(VERIFIER_UNAVAILABLE, str(exc)) from None


def _draw_code(bundle: JsonValue) -> str | None:
    commitment = bundle.get("commitment") if isinstance(bundle, dict) else None
    code = commitment.get("draw_id") if isinstance(commitment, dict) else None
    return code if isinstance(code, str) else None
