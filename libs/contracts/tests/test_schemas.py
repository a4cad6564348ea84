"""Committed JSON schemas stay in step with the payload models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field

from shuangsui.contracts.events import EventPayload, all_event_models
from shuangsui.contracts.schemas import (
    check_schemas,
    default_schema_dir,
    render_schema,
    schema_path,
    write_schemas,
)
from shuangsui.contracts.schemas.__main__ import main

COMMITTED = Path(__file__).resolve().parents[1] / "schemas"


class Released(EventPayload):
    """A released test payload."""

    event_type: ClassVar[str] = "testing.widget.made.v1"
    size: int = Field(description="Size.")


class Draft(EventPayload):
    """A draft test payload."""

    event_type: ClassVar[str] = "testing.widget.drafted.v1"
    released: ClassVar[bool] = False
    size: int = Field(description="Size.")


@pytest.mark.parametrize("model", all_event_models(), ids=lambda m: m.event_type)
def test_committed_schema_matches_model(model: type[EventPayload]) -> None:
    path = schema_path(COMMITTED, model.event_type)
    assert path.exists(), f"{path.name} is not committed; run the schema writer"
    # Orphans are the job of the test below; with one model, every other schema would look orphaned.
    problems = [p for p in check_schemas(COMMITTED, [model]) if p.kind != "orphan"]
    assert not problems, problems[0].message


def test_every_committed_schema_has_a_model() -> None:
    orphans = [p for p in check_schemas(COMMITTED) if p.kind == "orphan"]
    assert not orphans, [p.message for p in orphans]


def test_every_model_has_a_committed_schema() -> None:
    committed = {p.name.removesuffix(".json") for p in COMMITTED.glob("*.json")}
    assert {m.event_type for m in all_event_models()} <= committed


def test_default_directory_is_the_committed_one() -> None:
    assert default_schema_dir() == COMMITTED


def test_rendering_is_deterministic_and_sorted() -> None:
    text = render_schema(Released)
    assert text == render_schema(Released)
    assert text.endswith("}\n")
    parsed = json.loads(text)
    assert text == json.dumps(parsed, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert parsed["x-event-type"] == "testing.widget.made.v1"
    assert parsed["additionalProperties"] is False


def test_write_creates_missing_schemas_then_leaves_them(tmp_path: Path) -> None:
    first = write_schemas(tmp_path, [Released])
    assert first.written == [tmp_path / "testing.widget.made.v1.json"]
    second = write_schemas(tmp_path, [Released])
    assert (second.written, second.unchanged) == ([], [tmp_path / "testing.widget.made.v1.json"])
    assert check_schemas(tmp_path, [Released]) == []


def test_a_changed_released_schema_is_refused_even_with_force(tmp_path: Path) -> None:
    write_schemas(tmp_path, [Released])
    path = schema_path(tmp_path, Released.event_type)
    edited = json.loads(path.read_text())
    edited["properties"]["size"]["type"] = "string"
    path.write_text(json.dumps(edited))
    for force in (False, True):
        report = write_schemas(tmp_path, [Released], force=force)
        assert not report.ok
        assert "testing.widget.made.v2" in report.refused[0].message
        assert "what payloads it accepts" in report.refused[0].message
    assert json.loads(path.read_text()) == edited
    assert [p.kind for p in check_schemas(tmp_path, [Released])] == ["changed"]


def test_a_documentation_change_is_named_as_such(tmp_path: Path) -> None:
    write_schemas(tmp_path, [Released])
    path = schema_path(tmp_path, Released.event_type)
    path.write_text(path.read_text().replace("Size.", "Size in mm."))
    (problem,) = check_schemas(tmp_path, [Released])
    assert "only its documentation" in problem.message


def test_a_draft_schema_may_be_rewritten_with_force_only(tmp_path: Path) -> None:
    write_schemas(tmp_path, [Draft])
    path = schema_path(tmp_path, Draft.event_type)
    path.write_text(path.read_text().replace("Size.", "Old text."))
    assert not write_schemas(tmp_path, [Draft]).ok
    assert write_schemas(tmp_path, [Draft], force=True).ok
    assert path.read_text() == render_schema(Draft)


def test_a_schema_without_a_model_is_reported(tmp_path: Path) -> None:
    write_schemas(tmp_path, [Released])
    (tmp_path / "testing.widget.removed.v1.json").write_text("{}\n")
    (problem,) = check_schemas(tmp_path, [Released])
    assert (problem.kind, problem.event_type) == ("orphan", "testing.widget.removed.v1")


def test_command_line_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--dir", str(tmp_path)]) == 1
    assert "not committed" in capsys.readouterr().err
    assert main(["write", "--dir", str(tmp_path)]) == 0
    assert main(["check", "--dir", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{m.event_type}.json" for m in all_event_models()
    }


def _committed_examples() -> list[tuple[type[EventPayload], dict[str, object]]]:
    found = []
    for model in all_event_models():
        committed = json.loads(schema_path(COMMITTED, model.event_type).read_text())
        found += [(model, example) for example in committed.get("examples", [])]
    return found


@pytest.mark.parametrize(
    ("model", "example"), _committed_examples(), ids=lambda v: getattr(v, "event_type", "")
)
def test_every_example_in_a_committed_schema_is_a_valid_payload(
    model: type[EventPayload], example: dict[str, object]
) -> None:
    committed = json.loads(schema_path(COMMITTED, model.event_type).read_text())
    assert set(committed["required"]) <= set(example) <= set(committed["properties"])
    payload = model.model_validate(example)
    assert json.loads(payload.model_dump_json()) == example, "the example is written as sent"
