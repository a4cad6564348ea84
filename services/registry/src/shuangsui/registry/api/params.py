"""Request parameters the directory routers declare alike, so each reads the same in OpenAPI."""

from __future__ import annotations

from fastapi import Query

from shuangsui.registry.domain.subjects import PushMode

BATCH_MODE = Query(PushMode.atomic, description="atomic 整批生效 / per_row 逐行生效")
