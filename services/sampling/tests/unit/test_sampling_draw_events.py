"""The sampling draw events are contracts: registered, with a committed schema, an example that
validates, and the draw's public code in the B.6 form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shuangsui.contracts.events import all_event_models, model_for
from shuangsui.contracts.events.sampling_draws import (
    DrawCommitted,
    DrawCompleted,
    DrawFailed,
    DrawVoided,
    ReplacementMade,
    TeamAssigned,
)
from shuangsui.contracts.schemas import default_schema_dir, render_schema, schema_path
from shuangsui.sampling.domain.draws import DrawKind, FailReason, draw_code

MODELS = (DrawCommitted, DrawCompleted, DrawFailed, DrawVoided, TeamAssigned, ReplacementMade)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.event_type)
def test_each_draw_event_is_registered_with_its_schema_and_a_valid_example(model) -> None:
    assert model in all_event_models()
    assert model_for(model.event_type) is model
    assert not model.released
    path = schema_path(default_schema_dir(), model.event_type)
    assert path.read_text(encoding="utf-8") == render_schema(model)
    (example,) = model.model_config["json_schema_extra"]["examples"]
    assert model.model_validate(example).model_dump(mode="json") == example


def test_the_events_speak_the_domains_vocabulary() -> None:
    kinds = DrawCommitted.model_json_schema()["properties"]["kind"]["enum"]
    assert kinds == [k.value for k in DrawKind]
    reasons = DrawFailed.model_json_schema()["properties"]["reason"]["enum"]
    assert reasons == [r.value for r in FailReason]
    example = dict(DrawVoided.model_config["json_schema_extra"]["examples"][0])
    example["draw_code"] = draw_code(example["batch_code"], 7)
    DrawVoided.model_validate(example)
    example["draw_code"] = "7a3c9e12-5b64-4d1f-9c2a-0e8f6b4d2a17"  # never an internal id (B.6)
    with pytest.raises(ValidationError):
        DrawVoided.model_validate(example)
