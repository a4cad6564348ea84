"""Committed JSON schemas of the event payloads: render, write and check them.

One file per event type, ``libs/contracts/schemas/<event_type>.json``, rendered
deterministically (sorted keys, two-space indent, UTF-8, trailing newline) so that a
diff means the contract changed. A released schema is never rewritten: the change
goes into a new model class whose event type has the next version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from shuangsui.contracts.events import EventPayload, all_event_models

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "SchemaProblem",
    "WriteReport",
    "check_schemas",
    "default_schema_dir",
    "render_schema",
    "schema_path",
    "write_schemas",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_DOC_KEYS = frozenset({"description", "title", "examples"})

ProblemKind = Literal["missing", "changed", "orphan"]


@dataclass(frozen=True)
class SchemaProblem:
    kind: ProblemKind
    event_type: str
    path: Path
    message: str


@dataclass
class WriteReport:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    refused: list[SchemaProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused


def default_schema_dir() -> Path:
    """``libs/contracts/schemas`` of the source tree this package runs from."""
    # src/shuangsui/contracts/schemas/__init__.py -> libs/contracts
    directory = Path(__file__).resolve().parents[4] / "schemas"
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{directory} does not exist: the committed schemas live in the source tree "
            "(libs/contracts/schemas); pass the directory explicitly"
        )
    return directory


def schema_path(directory: Path, event_type: str) -> Path:
    return directory / f"{event_type}.json"


def render_schema(model: type[EventPayload]) -> str:
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "x-event-type": model.event_type,
        **model.model_json_schema(mode="validation"),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_schemas(
    directory: Path, models: Iterable[type[EventPayload]] | None = None
) -> list[SchemaProblem]:
    """Every difference between the models and the committed files; empty when in step."""
    models = tuple(all_event_models() if models is None else models)
    problems = [p for m in models if (p := _compare(directory, m)) is not None]
    known = {m.event_type for m in models}
    for path in sorted(directory.glob("*.json")):
        event_type = path.name.removesuffix(".json")
        if event_type not in known:
            problems.append(
                SchemaProblem(
                    "orphan",
                    event_type,
                    path,
                    f"{path.name} has no payload model. Consumers may still receive "
                    f"{event_type}: restore its model class rather than deleting the schema.",
                )
            )
    return problems


def write_schemas(
    directory: Path,
    models: Iterable[type[EventPayload]] | None = None,
    *,
    force: bool = False,
) -> WriteReport:
    """Write missing schemas; refuse to change a committed one unless forced and unreleased."""
    report = WriteReport()
    for model in all_event_models() if models is None else models:
        path = schema_path(directory, model.event_type)
        problem = _compare(directory, model)
        if problem is None:
            report.unchanged.append(path)
            continue
        if problem.kind == "changed" and not (force and not model.released):
            report.refused.append(problem)
            continue
        path.write_text(render_schema(model), encoding="utf-8", newline="\n")
        report.written.append(path)
    return report


def _compare(directory: Path, model: type[EventPayload]) -> SchemaProblem | None:
    path = schema_path(directory, model.event_type)
    rendered = render_schema(model)
    if not path.exists():
        return SchemaProblem(
            "missing",
            model.event_type,
            path,
            f"{path.name} is not committed: run `python -m shuangsui.contracts.schemas write` "
            "and commit the file.",
        )
    committed = path.read_text(encoding="utf-8")
    if committed == rendered:
        return None
    return SchemaProblem("changed", model.event_type, path, _changed_message(model, committed))


def _changed_message(model: type[EventPayload], committed: str) -> str:
    name = f"{model.__module__}.{model.__qualname__}"
    try:
        docs_only = _without_docs(json.loads(committed)) == _without_docs(
            json.loads(render_schema(model))
        )
    except json.JSONDecodeError:
        docs_only = False
    what = "only its documentation" if docs_only else "what payloads it accepts"
    if model.released:
        base, version = model.event_type.rsplit(".v", 1)
        return (
            f"{name} no longer matches the committed {model.event_type}.json ({what} differs). "
            f"A released schema never changes: restore {model.__qualname__} and add a new "
            f"model class with event_type '{base}.v{int(version) + 1}' for the change."
        )
    return (
        f"{name} no longer matches the committed {model.event_type}.json ({what} differs). "
        "It is not released (released = False), so "
        "`python -m shuangsui.contracts.schemas write --force` may rewrite it."
    )


def _without_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_docs(v) for k, v in node.items() if k not in _DOC_KEYS}
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node
