"""The stage rows the bulk push copies: every column in its place (no I/O)."""

import json
import uuid
from datetime import UTC, datetime

from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.adapters.subjects import (
    _MERGED,
    _STAGE_COLUMNS,
    _new_ids,
    _stage_record,
    subjects,
)
from shuangsui.registry.domain.classification import Verdict
from shuangsui.registry.domain.subjects import Change, read_row

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
VERDICT = Verdict(tags=("carrier:网络", "format:餐饮服务"), item_keys=(3, 9))


def full_subject():
    body = "91330106000000001"
    subject = read_row(
        {
            "uscc": body + stdnum_uscc.calc_check_digit(body),
            "name": "杭州西溪食品有限公司",
            "subject_type": "individual",
            "status": "suspended",
            "region_code": "330106",
            "registered_address": "住所",
            "business_address": "经营场所",
            "legal_representative": "张三",
            "industry_code": "C1419",
            "business_scope": "食品销售",
            "licences": [{"type": "食品经营许可证", "number": "JY1", "valid_until": "2030-01-01"}],
            "online_shops": ["https://shop.example.cn/1"],
            "registered_capital_wan": "12.50",
            "employee_band": "10-49",
            "unit_code": "330106-01",
            "registered_on": "2015-06-01",
            "registration_no": "330106000000001",
            "source": "zj-aic",
            "source_updated_at": "2025-03-01T08:00:00+08:00",
            "网店数": 2,
        },
        1,
        NOW,
        "33",
    )
    assert not isinstance(subject, list), subject
    return subject


def test_every_stage_column_holds_the_subjects_value():
    subject = full_subject()
    subject_id = uuid.uuid4()
    record = dict(
        zip(
            _STAGE_COLUMNS,
            _stage_record(Change(ChangeKind.updated, subject, 1, 4), subject_id, VERDICT),
            strict=True,
        )
    )
    assert record.pop("subject_id") == subject_id
    assert (record.pop("tags"), record.pop("item_keys")) == (list(VERDICT.tags), [3, 9])
    assert record.pop("version") == 4
    assert record.pop("content_hash") == subject.content_hash
    content = json.loads(record.pop("content"))
    assert content == subject.content() | {
        "subject_type": "individual", "status": "suspended", "extra": {"网店数": 2},
    }  # fmt: skip
    assert content["registered_capital_wan"] == "12.50", "the decimal as sent, scale kept"
    for column, value in record.items():
        assert value == getattr(subject, column), column


def test_the_merge_fills_every_column_of_the_directory():
    """Every column of `subjects` is written by the merge, from the stage or a parameter."""
    assert set(_MERGED) == {column.name for column in subjects.columns}


def test_new_ids_are_distinct_version_4_uuids():
    ids = _new_ids(1000)
    assert len(set(ids)) == 1000
    assert {i.version for i in ids} == {4}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
