"""A directory's sheet import over HTTP: a CSV or XLSX upload, run once per Idempotency-Key.

The org and inspector directories take their sheets the same way; only the use case, the example
row and the answer's wording differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shuangsui.kernel.auth import Principal
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey
from shuangsui.registry.adapters.sheets import CSV, XLSX
from shuangsui.registry.api.uploads import media_type_of, read_body
from shuangsui.registry.domain.subjects import PushMode

SheetImport = Callable[[UnitOfWork, str, bytes, PushMode, Principal], Awaitable[BulkReport]]


def sheet_request_body(csv_example: str) -> dict[str, Any]:
    """The request body as OpenAPI shows it (FastAPI cannot infer it from a raw upload)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                CSV: {"schema": {"type": "string"}, "example": csv_example},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


async def import_sheet(
    request: Request,
    mode: PushMode,
    max_bytes: int,
    uow: UnitOfWork,
    by: Principal,
    idempotency: IdempotencyKey,
    use_case: SheetImport,
    answer: Callable[[BulkReport], BaseModel],
) -> JSONResponse:
    """415/413 before anything is read further; a retry with the same key, file and mode gets
    the first answer instead of importing again."""
    media_type = media_type_of(request, (CSV, XLSX))
    body, digest = await read_body(request, max_bytes)
    fingerprint = {"media_type": media_type, "mode": mode.value, "sha256": digest}

    async def run() -> BaseModel:
        return answer(await use_case(uow, media_type, body, mode, by))

    return await idempotency.run(uow, by, fingerprint, run)
