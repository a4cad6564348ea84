"""The page that documents every problem `type` the platform answers with."""

from __future__ import annotations

import html
from typing import Any

from fastapi.responses import HTMLResponse

from shuangsui.gateway.upstreams import Upstreams
from shuangsui.kernel.app import problem_catalogue
from shuangsui.kernel.problems import NOT_FOUND, Problem


async def platform_problems(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    found = {p["type"]: p for p in problem_catalogue()}
    for service in upstreams.urls:
        try:
            for entry in await upstreams.fetch_json(service, "/problems"):
                found.setdefault(entry["type"], entry)
        except Exception:  # a service that is down only shortens the page
            continue
    return found


async def problem_page(upstreams: Upstreams, name: str | None) -> HTMLResponse:
    catalogue = await platform_problems(upstreams)
    if name is not None:
        entry = catalogue.get(f"/problems/{name}")
        if entry is None:
            raise Problem(NOT_FOUND, f"no problem type named {name!r}")
        entries = [entry]
    else:
        entries = sorted(catalogue.values(), key=lambda e: str(e["type"]))
    rows = "".join(
        f"<section id='{html.escape(e['type'].rsplit('/', 1)[1])}'><h2>{html.escape(e['title'])}</h2>"
        f"<p><code>{html.escape(e['type'])}</code> · HTTP {e['status']}</p>"
        f"<p>{html.escape(e['description'])}</p></section>"
        for e in entries
    )
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>Problem types · 错误类型"
        f"</title><body><h1>Problem types · 错误类型</h1>{rows}</body></html>"
    )
