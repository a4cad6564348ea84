"""The v2 registry events: everything of v1 under the same names, plus what consumers need to
build their read models without calling the registry back (docs/events.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shuangsui.contracts.events import EventPayload, model_for
from shuangsui.contracts.events.registry_items import (
    GuidePublished,
    GuidePublishedV2,
    ItemUpserted,
    ItemUpsertedV2,
)
from shuangsui.contracts.events.registry_subjects import RiskClassChanged, RiskClassChangedV2

COMMITTED = Path(__file__).resolve().parents[1] / "schemas"
PAIRS = [
    (ItemUpserted, ItemUpsertedV2),
    (GuidePublished, GuidePublishedV2),
    (RiskClassChanged, RiskClassChangedV2),
]


def example(model: type[EventPayload]) -> dict[str, Any]:
    committed = json.loads((COMMITTED / f"{model.event_type}.json").read_text())
    found: dict[str, Any] = committed["examples"][0]
    return found


@pytest.mark.parametrize(("v1", "v2"), PAIRS, ids=lambda m: m.event_type)
def test_a_v2_payload_without_its_new_fields_is_a_v1_payload(
    v1: type[EventPayload], v2: type[EventPayload]
) -> None:
    data = example(v2)
    assert set(v1.model_fields) < set(v2.model_fields)
    old = v1.model_validate({k: v for k, v in data.items() if k in v1.model_fields})
    assert json.loads(old.model_dump_json()) == {k: data[k] for k in v1.model_fields}


# A v2 is frozen once its first consumer ships (docs/events.md): planning's catalogue reads items,
# sampling's subjects read model the risk classes.
RELEASED = {ItemUpsertedV2, RiskClassChangedV2}


@pytest.mark.parametrize(("v1", "v2"), PAIRS, ids=lambda m: m.event_type)
def test_v2_is_registered_beside_v1_and_frozen_once_consumed(
    v1: type[EventPayload], v2: type[EventPayload]
) -> None:
    assert (model_for(v1.event_type), model_for(v2.event_type)) == (v1, v2)
    assert v2.event_type == v1.event_type.removesuffix(".v1") + ".v2"
    assert v1.released
    assert v2.released is (v2 in RELEASED), "v2 is released when its first consumer ships"


def test_the_item_event_carries_the_joint_fields() -> None:
    item = ItemUpsertedV2.model_validate(example(ItemUpsertedV2))
    assert (item.lead_department, item.partner_departments, item.joint) == (
        "市场监管部门",
        ["住房城乡建设部门", "应急管理部门"],
        True,
    )
    assert (item.inspection_level, item.required_qualification) == ("city", "special_equipment")
    for field, value in [
        ("inspection_level", "township"),
        ("lead_department", ""),
        ("lead_department", "部" * 51),
        ("partner_departments", [f"部门{n}" for n in range(21)]),
    ]:
        with pytest.raises(ValidationError) as info:
            ItemUpsertedV2.model_validate({**example(ItemUpsertedV2), field: value})
        assert info.value.errors()[0]["loc"][0] == field


def test_a_single_department_item_names_no_lead_and_no_partners() -> None:
    single = {
        **example(ItemUpsertedV2),
        "lead_department": None,
        "partner_departments": [],
        "joint": False,
        "inspection_level": None,
    }
    assert ItemUpsertedV2.model_validate(single).joint is False


def test_the_guide_event_carries_steps_with_checkpoints_evidence_and_the_record_form() -> None:
    guide = GuidePublishedV2.model_validate(example(GuidePublishedV2))
    assert [s.title for s in guide.steps] == ["核查使用登记", "核查维护保养"]
    assert guide.steps[0].checkpoints == ["电梯已办理使用登记", "登记标志置于显著位置"]
    assert guide.evidence_requirements == ["现场照片", "维保记录复印件"]
    assert guide.record_form_schema["required"] == ["registered"]
    for steps in (
        [],
        [{"title": "核查", "checkpoints": []}],
        [{"title": "核查", "checkpoints": [""]}],
    ):
        with pytest.raises(ValidationError):
            GuidePublishedV2.model_validate({**example(GuidePublishedV2), "steps": steps})


def test_the_risk_class_event_carries_region_and_station_and_only_classes_a_to_d() -> None:
    change = RiskClassChangedV2.model_validate(example(RiskClassChangedV2))
    assert (change.region_code, change.unit_code) == ("330106", "330106-XH01")
    unrouted = {**example(RiskClassChangedV2), "unit_code": None}
    assert RiskClassChangedV2.model_validate(unrouted).unit_code is None
    for field, value in [("new_class", "E"), ("old_class", "a"), ("region_code", "33010")]:
        with pytest.raises(ValidationError) as info:
            RiskClassChangedV2.model_validate({**example(RiskClassChangedV2), field: value})
        assert info.value.errors()[0]["loc"][0] == field
    without_region = {k: v for k, v in example(RiskClassChangedV2).items() if k != "region_code"}
    with pytest.raises(ValidationError):
        RiskClassChangedV2.model_validate(without_region)
