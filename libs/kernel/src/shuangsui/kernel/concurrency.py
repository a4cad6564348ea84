"""Optimistic concurrency: ETags on versioned resources, `If-Match` on their updates."""

from __future__ import annotations

from fastapi import Header

from shuangsui.kernel.problems import PRECONDITION_FAILED, PRECONDITION_REQUIRED, Problem

# The header of every update of a versioned resource, declared once so each reads the same.
IF_MATCH = Header(None, alias="If-Match", description="ETag last read · 版本标签")


def etag_of(version: int | str) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, current_version: int | str) -> None:
    """412 when the caller's ETag is stale; 428 when it sent none (lost updates are not silent)."""
    if if_match is None:
        raise Problem(PRECONDITION_REQUIRED)
    current = etag_of(current_version)
    offered = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in offered or current in offered:
        return
    raise Problem(
        PRECONDITION_FAILED,
        f"If-Match {if_match} does not match the current version {current}",
        current_etag=current,
    )
