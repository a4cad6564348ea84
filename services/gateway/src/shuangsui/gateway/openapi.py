"""One OpenAPI document for the platform, merged from every service's own."""

from __future__ import annotations

import json
from typing import Any

SHARED_SCHEMAS = {"Problem", "HTTPValidationError", "ValidationError"}


def merge_openapi(
    gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Paths are unique by construction (`/api/v1/<service>/…`); schema names are not, so each
    service's schemas are prefixed with its name unless they are the shared error schemas."""
    merged: dict[str, Any] = json.loads(json.dumps(gateway_doc))
    merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for service, doc in service_docs.items():
        renames = {
            name: name if name in SHARED_SCHEMAS else f"{service}__{name}"
            for name in doc.get("components", {}).get("schemas", {})
        }
        rewritten = _rewrite_refs(doc, renames)
        for path, item in rewritten.get("paths", {}).items():
            if path.startswith(f"/api/v1/{service}/") or path == f"/api/v1/{service}":
                merged["paths"][path] = item
        for name, schema in rewritten.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames[name], schema)
        for name, scheme in rewritten.get("components", {}).get("securitySchemes", {}).items():
            merged["components"].setdefault("securitySchemes", {}).setdefault(name, scheme)
        for tag in rewritten.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (
                key == "$ref"
                and isinstance(value, str)
                and value.startswith("#/components/schemas/")
            ):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node
