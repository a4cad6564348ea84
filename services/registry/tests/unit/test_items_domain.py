"""Item-list rules without a database: versions, adoption, immutability, spreadsheet rows."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shuangsui.contracts.batches import RowError
from shuangsui.registry.domain import items as rules
from shuangsui.registry.domain.guides import GuideStep, new_guide_version, publish_guide
from shuangsui.registry.domain.items import (
    InspectionLevel,
    ItemCategory,
    ItemContent,
    ItemOrigin,
    ItemRuleError,
    ListLevel,
    Method,
    SubjectType,
)
from shuangsui.registry.domain.items_sheet import (
    EXPORT_HEADERS,
    absent_fields,
    export_row,
    keeping_absent,
    read_row,
    read_rows,
)

AGENCY_CODE = "11330000002482150A1"


def content(code: str = "N-001", **changes: object) -> ItemContent:
    base = ItemContent(
        code=code,
        name="食品生产者生产行为的检查",
        business_line="食品安全",
        item_category=ItemCategory.key,
        responsible_department="市场监管部门",
        legal_basis=("《食品安全法》第一百一十条",),
        content="进货查验",
        subject_types=(SubjectType.enterprise,),
        allowed_methods=(Method.on_site,),
        iplus_item_code="11330000000001",
        implementation_codes=(AGENCY_CODE,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def published(level: ListLevel, codes: list[str], effective: date, province: str | None = None):
    lst, _ = rules.new_version(
        list_id=uuid.uuid4(), level=level, province=province, effective_from=effective,
        latest=None, draft_exists=False, national=None if level is ListLevel.national else _NAT,
    )  # fmt: skip
    items = [rules.add_item(lst, [], content(c), uuid.uuid4()) for c in codes]
    return rules.publish(lst, datetime.now(UTC)), items


_NAT = published(ListLevel.national, ["N-001", "N-002"], date(2025, 1, 1))


def test_provincial_version_adopts_national_items_unchanged_and_marked_national() -> None:
    lst, items = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.provincial, province="330000",
        effective_from=date(2025, 3, 1), latest=None, draft_exists=False, national=_NAT,
    )  # fmt: skip
    assert [i.item_id for i in items] == [i.item_id for i in _NAT[1]]
    assert {i.origin for i in items} == {ItemOrigin.national}
    assert lst.adopted_list_id == _NAT[0].list_id


def test_provincial_list_needs_a_published_national_list() -> None:
    with pytest.raises(ItemRuleError) as caught:
        rules.new_version(
            list_id=uuid.uuid4(), level=ListLevel.provincial, province="330000",
            effective_from=date(2025, 3, 1), latest=None, draft_exists=False, national=None,
        )  # fmt: skip
    assert caught.value.kind == "no_national_list"


def test_adjustment_copies_the_latest_version_and_keeps_item_ids() -> None:
    lst, items = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.national, province=None,
        effective_from=date(2026, 1, 1), latest=_NAT, draft_exists=False, national=None,
    )  # fmt: skip
    assert lst.version == 2
    assert lst.based_on_list_id == _NAT[0].list_id
    assert [i.item_id for i in items] == [i.item_id for i in _NAT[1]]


def test_adjustment_must_take_effect_after_the_version_it_adjusts() -> None:
    with pytest.raises(ItemRuleError) as caught:
        rules.new_version(
            list_id=uuid.uuid4(), level=ListLevel.national, province=None,
            effective_from=date(2025, 1, 1), latest=_NAT, draft_exists=False, national=None,
        )  # fmt: skip
    assert caught.value.field == "effective_from"


def test_only_one_draft_per_list() -> None:
    with pytest.raises(ItemRuleError) as caught:
        rules.new_version(
            list_id=uuid.uuid4(), level=ListLevel.national, province=None,
            effective_from=date(2026, 1, 1), latest=_NAT, draft_exists=True, national=None,
        )  # fmt: skip
    assert caught.value.kind == "draft_exists"


def test_published_version_is_immutable() -> None:
    with pytest.raises(ItemRuleError) as caught:
        rules.add_item(_NAT[0], _NAT[1], content("N-009"), uuid.uuid4())
    assert caught.value.kind == "immutable"


def test_item_codes_are_unique_within_a_version() -> None:
    draft, _ = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.national, province=None,
        effective_from=date(2026, 1, 1), latest=_NAT, draft_exists=False, national=None,
    )  # fmt: skip
    with pytest.raises(ItemRuleError) as caught:
        rules.add_item(draft, _NAT[1], content("N-001"), uuid.uuid4())
    assert caught.value.kind == "duplicate_code"


def test_national_items_are_read_only_in_a_provincial_list() -> None:
    draft, items = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.provincial, province="330000",
        effective_from=date(2025, 3, 1), latest=None, draft_exists=False, national=_NAT,
    )  # fmt: skip
    with pytest.raises(ItemRuleError) as caught:
        rules.update_item(draft, items, items[0], content("N-001", name="改名"))
    assert caught.value.kind == "read_only"


def test_the_version_in_force_is_the_latest_that_took_effect() -> None:
    v1 = _NAT[0]
    v2 = replace(v1, list_id=uuid.uuid4(), version=2, effective_from=date(2026, 1, 1))
    draft = replace(v1, list_id=uuid.uuid4(), version=3, status=rules.ListStatus.draft,
                    effective_from=date(2025, 6, 1))  # fmt: skip
    assert rules.in_force([v1, v2, draft], date(2025, 7, 1)) == v1
    assert rules.in_force([v1, v2, draft], date(2026, 1, 1)) == v2
    assert rules.in_force([v1, v2], date(2024, 12, 31)) is None


@pytest.mark.parametrize(
    ("code", "ok"),
    [("11330000000001", True), ("1133000000000", False), ("1133000000000A", False)],
)
def test_iplus_catalogue_code_is_exactly_14_digits(code: str, ok: bool) -> None:
    fields = [f for f, _ in content(iplus_item_code=code).problems()]
    assert ("iplus_item_code" not in fields) is ok


@pytest.mark.parametrize(
    ("code", "ok"),
    [(AGENCY_CODE, True), ("11330000002482150A6", False), ("11330000002482150B1", False)],
)
def test_implementation_code_is_agency_uscc_then_digit_1_to_5(code: str, ok: bool) -> None:
    fields = [f for f, _ in content(implementation_codes=(code,)).problems()]
    assert ("implementation_codes" not in fields) is ok


def row(**cells: str) -> dict[str, str]:
    base = {
        "事项编码": "P-001", "抽查类别": "食品安全", "抽查事项": "食品经营检查", "事项类别": "一般",
        "检查对象": "企业、个体户", "检查方式": "现场检查、书面", "检查主体": "市场监管部门",
        "检查依据": "《食品安全法》\n《食品经营许可管理办法》", "监管事项目录编码": "11330000000002",
        "最低抽查比例": "5%",
    }  # fmt: skip
    return {**base, **cells}


def test_a_row_in_office_words_reads_into_codes() -> None:
    item = read_row(2, row())
    assert isinstance(item, ItemContent)
    assert item.item_category is ItemCategory.general
    assert item.subject_types == (SubjectType.enterprise, SubjectType.individual)
    assert item.allowed_methods == (Method.on_site, Method.documentary)
    assert item.legal_basis == ("《食品安全法》", "《食品经营许可管理办法》")
    assert item.min_ratio == Decimal("0.05")


def named(error: RowError) -> tuple[int, str, str]:
    """The error's line, field and the column heading its reason starts with."""
    return error.line, error.field, error.reason.split(": ", 1)[0]


def test_row_errors_name_line_field_column_and_the_rows_code() -> None:
    errors = read_row(7, row(事项类别="特别", 检查方式="飞行检查", 监管事项目录编码="123"))
    assert isinstance(errors, list)
    assert {e.key for e in errors} == {row()["事项编码"]}
    assert {named(e) for e in errors} == {
        (7, "item_category", "事项类别"),
        (7, "allowed_methods", "检查方式"),
        (7, "iplus_item_code", "监管事项目录编码"),
    }


def test_a_code_repeated_in_one_file_is_an_error_on_the_later_row() -> None:
    good, errors = read_rows([(2, row()), (3, row())])
    assert [n for n, _ in good] == [2]
    assert [(e.line, e.field, e.key) for e in errors] == [(3, "code", row()["事项编码"])]
    assert "line 2" in errors[0].reason


def test_an_exported_row_reads_back_to_the_same_content() -> None:
    item = rules.CheckItem(uuid.uuid4(), ItemOrigin.national, 1, content(min_ratio=Decimal("0.05")))
    cells = dict(zip(EXPORT_HEADERS, export_row(item), strict=True))
    assert read_row(2, cells) == item.content


def test_guide_versions_follow_each_other_and_publish_once() -> None:
    steps = [GuideStep("核查许可证件", ("许可证在有效期内",))]
    item_id = uuid.uuid4()
    first = new_guide_version([], guide_id=uuid.uuid4(), item_id=item_id, steps=steps,
                              evidence_requirements=(), record_form_schema={})  # fmt: skip
    done = publish_guide(first, datetime.now(UTC))
    second = new_guide_version([done], guide_id=uuid.uuid4(), item_id=item_id, steps=steps,
                               evidence_requirements=(), record_form_schema={})  # fmt: skip
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(ItemRuleError):
        publish_guide(done, datetime.now(UTC))
    with pytest.raises(ItemRuleError):
        new_guide_version([done, second], guide_id=uuid.uuid4(), item_id=item_id, steps=steps,
                          evidence_requirements=(), record_form_schema={})  # fmt: skip


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("food_safety", True),
        ("特种设备检验", True),
        ("x" * 60, True),
        ("x" * 61, False),
        ("", False),
        (" food_safety", False),
        ("food_safety;pricing", False),
        ("food_safety、pricing", False),
    ],
)
def test_a_required_qualification_is_one_code_an_inspector_can_hold(code: str, ok: bool) -> None:
    fields = [f for f, _ in content(required_qualification=code).problems()]
    assert ("required_qualification" not in fields) is ok


def test_an_item_without_a_qualification_requires_none() -> None:
    assert content().required_qualification is None
    assert content().problems() == []


def test_the_qualification_column_reads_into_the_item() -> None:
    item = read_row(2, row(所需执法资格=" food_safety "))
    assert isinstance(item, ItemContent)
    assert item.required_qualification == "food_safety"


def test_a_blank_or_missing_qualification_column_requires_none() -> None:
    for cells in (row(), row(所需执法资格="  ")):
        item = read_row(2, cells)
        assert isinstance(item, ItemContent)
        assert item.required_qualification is None


def test_two_qualifications_in_one_cell_are_an_error_naming_the_column() -> None:
    errors = read_row(5, row(所需执法资格="food_safety、drug_inspection"))
    assert isinstance(errors, list)
    assert [named(e) for e in errors] == [(5, "required_qualification", "所需执法资格")]


def test_an_exported_qualification_reads_back_to_the_same_content() -> None:
    required = content(required_qualification="special_equipment")
    item = rules.CheckItem(uuid.uuid4(), ItemOrigin.national, 1, required)
    cells = dict(zip(EXPORT_HEADERS, export_row(item), strict=True))
    assert cells["所需执法资格"] == "special_equipment"
    assert read_row(2, cells) == required


def test_adopted_national_items_keep_their_qualification() -> None:
    draft, _ = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.national, province=None,
        effective_from=date(2026, 1, 1), latest=None, draft_exists=False, national=None,
    )  # fmt: skip
    required = content("N-009", required_qualification="food_safety")
    national = [rules.add_item(draft, [], required, uuid.uuid4())]
    _, items = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.provincial, province="330000",
        effective_from=date(2026, 3, 1), latest=None, draft_exists=False,
        national=(rules.publish(draft, datetime.now(UTC)), national),
    )  # fmt: skip
    [adopted] = items
    assert adopted.origin is ItemOrigin.national
    assert adopted.content.required_qualification == "food_safety"


def test_demo_items_require_only_qualifications_demo_inspectors_hold() -> None:
    from shuangsui.devstack.demo import QUALIFICATIONS
    from shuangsui.devstack.demo_catalogue import ITEMS

    required = {i["required_qualification"] for i in ITEMS} - {None}
    assert required, "the demo list should exercise R17"
    assert required <= set(QUALIFICATIONS)
    food_items = [i for i in ITEMS if i["business_line"] == "食品安全"]
    assert {i["required_qualification"] for i in food_items} == {"food_safety"}


def test_columns_a_file_lacks_keep_what_the_list_holds_for_known_codes():
    headers = ["事项编码", "抽查类别", "抽查事项", "事项类别", "检查对象", "检查方式", "检查主体",
               "检查依据", "监管事项目录编码", "状态"]  # fmt: skip
    absent = absent_fields(headers)
    assert {"required_qualification", "subject_tags"} <= set(absent)
    assert not {"status", "code"} & set(absent), "present or required: never kept"
    held = content("N-001", required_qualification="food_safety", subject_tags=("format:餐饮服务",))
    sent = [(2, content("N-001", name="改名")), (3, content("N-NEW"))]
    kept = dict(keeping_absent(sent, {"N-001": held}, absent))
    assert kept[2].name == "改名", "what the file says still applies"
    assert (kept[2].required_qualification, kept[2].subject_tags) == (
        "food_safety",
        ("format:餐饮服务",),
    )
    assert kept[3] == content("N-NEW"), "a new item takes the file as it is"
    assert keeping_absent(sent, {"N-001": held}, ()) == sent


# ---- joint cross-department items (发起部门, 配合部门, 抽查层级; R20) ------------------------------

JOINT_HEADERS = ("发起部门", "配合部门", "抽查层级")


def joint(code: str = "J-001", **changes: object) -> ItemContent:
    joint_columns: dict[str, object] = {
        "lead_department": "住房城乡建设部门",
        "partner_departments": ("市场监管部门", "应急管理部门"),
        "inspection_level": InspectionLevel.city,
    }
    return content(code, **{**joint_columns, **changes})


def test_an_item_with_partner_departments_is_joint_and_valid_with_a_lead() -> None:
    assert joint().is_joint
    assert joint().problems() == []
    assert not content().is_joint


def test_a_joint_item_without_a_lead_department_names_lead_department() -> None:
    fields = [f for f, _ in joint(lead_department=None).problems()]
    assert fields == ["lead_department"]


def test_a_lead_department_alone_does_not_make_a_joint_item() -> None:
    alone = content(lead_department="市场监管部门")
    assert not alone.is_joint
    assert alone.problems() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lead_department": "部" * 51}, "lead_department"),
        ({"lead_department": "  "}, "lead_department"),
        ({"lead_department": "市场监管、应急管理部门"}, "lead_department"),
        ({"partner_departments": ("部" * 51,)}, "partner_departments"),
        ({"partner_departments": ("",)}, "partner_departments"),
        ({"partner_departments": tuple(f"部门{n}" for n in range(21))}, "partner_departments"),
        ({"partner_departments": ("市场监管部门", "市场监管部门")}, "partner_departments"),
        ({"partner_departments": ("住房城乡建设部门",)}, "partner_departments"),
    ],
    ids=[
        "long lead",
        "blank lead",
        "two leads",
        "long partner",
        "blank partner",
        "21 partners",
        "partner twice",
        "lead as partner",
    ],
)
def test_department_names_break_rules_naming_their_field(changes: dict, field: str) -> None:
    assert [f for f, _ in joint(**changes).problems()] == [field]


def test_twenty_partner_departments_of_fifty_characters_are_allowed() -> None:
    names = tuple(f"{n:02d}" + "部" * 48 for n in range(20))
    assert joint(partner_departments=names).problems() == []


def test_the_joint_columns_read_office_words_into_the_item() -> None:
    item = read_row(2, row(发起部门=" 住房城乡建设部门 ", 配合部门="市场监管部门、应急管理部门、市场监管部门",
                           抽查层级="市级"))  # fmt: skip
    assert isinstance(item, ItemContent)
    assert item.lead_department == "住房城乡建设部门"
    assert item.partner_departments == ("市场监管部门", "应急管理部门"), "once each, in order"
    assert item.inspection_level is InspectionLevel.city


@pytest.mark.parametrize(
    ("word", "level"),
    [("国家级", "national"), ("国家", "national"), ("省级", "provincial"), ("省", "provincial"),
     ("市级", "city"), ("市", "city"), ("县级", "county"), ("县", "county"), ("county", "county")],
)  # fmt: skip
def test_inspection_levels_read_from_the_words_offices_write(word: str, level: str) -> None:
    item = read_row(2, row(抽查层级=word))
    assert isinstance(item, ItemContent)
    assert item.inspection_level == InspectionLevel(level)


def test_blank_joint_columns_make_a_single_department_item_without_level() -> None:
    item = read_row(2, row(发起部门="", 配合部门=" ", 抽查层级=""))
    assert isinstance(item, ItemContent)
    assert (item.lead_department, item.partner_departments, item.inspection_level) == (
        None, (), None
    )  # fmt: skip


def test_an_unknown_level_is_a_row_error_naming_the_column() -> None:
    errors = read_row(4, row(抽查层级="乡镇级"))
    assert isinstance(errors, list)
    assert [named(e) for e in errors] == [(4, "inspection_level", "抽查层级")]
    assert "市级" in errors[0].reason


def test_a_row_with_partners_but_no_lead_is_an_error_naming_lead_department() -> None:
    errors = read_row(3, row(配合部门="市场监管部门"))
    assert isinstance(errors, list)
    assert [named(e) for e in errors] == [(3, "lead_department", "发起部门")]


def test_an_exported_joint_item_reads_back_to_the_same_content() -> None:
    item = rules.CheckItem(uuid.uuid4(), ItemOrigin.provincial, 1, joint())
    cells = dict(zip(EXPORT_HEADERS, export_row(item), strict=True))
    assert (cells["发起部门"], cells["配合部门"], cells["抽查层级"]) == (
        "住房城乡建设部门", "市场监管部门、应急管理部门", "市级"
    )  # fmt: skip
    assert read_row(2, cells) == item.content


def test_a_file_without_the_joint_columns_keeps_what_the_item_holds() -> None:
    headers = [h for h in EXPORT_HEADERS if h not in JOINT_HEADERS]
    absent = absent_fields(headers)
    assert set(absent) == {"lead_department", "partner_departments", "inspection_level"}
    sent = [(2, content("J-001", name="改名"))]
    [(_, kept)] = keeping_absent(sent, {"J-001": joint()}, absent)
    assert kept.name == "改名"
    assert (kept.lead_department, kept.partner_departments, kept.inspection_level) == (
        "住房城乡建设部门", ("市场监管部门", "应急管理部门"), InspectionLevel.city
    )  # fmt: skip


def test_adopted_national_items_keep_their_joint_columns() -> None:
    draft, _ = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.national, province=None,
        effective_from=date(2026, 1, 1), latest=None, draft_exists=False, national=None,
    )  # fmt: skip
    national = [rules.add_item(draft, [], joint("N-J01"), uuid.uuid4())]
    _, items = rules.new_version(
        list_id=uuid.uuid4(), level=ListLevel.provincial, province="330000",
        effective_from=date(2026, 3, 1), latest=None, draft_exists=False,
        national=(rules.publish(draft, datetime.now(UTC)), national),
    )  # fmt: skip
    [adopted] = items
    assert adopted.origin is ItemOrigin.national
    assert adopted.content == joint("N-J01")
