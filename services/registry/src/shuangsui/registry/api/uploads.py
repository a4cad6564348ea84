"""Request bodies of pushes and imports: the declared type, a size limit, a fingerprint.

One place for every upload, so each refuses an unknown type (415) and an oversized body (413)
the same way — up front from Content-Length, and while streaming for chunked bodies.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from fastapi import Request

from shuangsui.kernel.problems import (
    BATCH_REJECTED,
    IDEMPOTENCY_IN_PROGRESS,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    Problem,
    ProblemType,
)
from shuangsui.kernel.responses import Responses, problem_responses

SPOOL_IN_MEMORY = 8 * 1024 * 1024


def upload_problems(*more: ProblemType) -> Responses:
    """What an upload of rows may answer besides its report (`more`: the use case's own)."""
    return problem_responses(
        IDEMPOTENCY_IN_PROGRESS, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, VALIDATION,
        BATCH_REJECTED, *more,
    )  # fmt: skip


def media_type_of(request: Request, accepted: tuple[str, ...]) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise Problem(
            UNSUPPORTED_MEDIA_TYPE, f"send {' or '.join(accepted)}, not {media_type or 'nothing'}"
        )
    return media_type


async def spool_body(request: Request, limit: int) -> tuple[IO[bytes], str]:
    """The body in a temporary file (in memory up to 8 MiB) and its SHA-256; caller closes it."""
    _refuse_declared_size(request, limit)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - caller closes
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise Problem(PAYLOAD_TOO_LARGE, f"the body is over {limit} bytes")
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest()


async def read_body(request: Request, limit: int) -> tuple[bytes, str]:
    """A small body (a spreadsheet) in memory, and its SHA-256."""
    spool, digest = await spool_body(request, limit)
    try:
        return spool.read(), digest
    finally:
        spool.close()


def _refuse_declared_size(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Problem(PAYLOAD_TOO_LARGE, f"the body is over {limit} bytes")
