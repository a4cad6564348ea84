"""The bulk path writes subject events and canonical content as JSON itself: held here to the
event contract and to one canonical form (no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from asyncpg.pgproto.pgproto import UUID as PgUUID
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.batches import ChangeKind
from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.registry.domain.classification import Classifier, ItemScope, Verdict
from shuangsui.registry.domain.subjects import Change, canonical_json, read_row
from shuangsui.registry.domain.tags import TagRules
from shuangsui.registry.service.subjects import VerdictsAsJson, upserted_payload

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ITEM = uuid.uuid4()
CLASSIFIER = Classifier(
    version=4,
    rules=TagRules(version=2),
    items=(ItemScope(ITEM, "X", frozenset({"enterprise"})),),
    item_keys={ITEM: 9},
)


def subject(**fields):
    body = "91330106000000001"
    row = {
        "uscc": body + stdnum_uscc.calc_check_digit(body),
        "name": '杭州"西溪"食品有限公司',
        "region_code": "330106",
        "source": "zj-aic",
        "source_updated_at": "2025-03-01T08:00:00.123456+08:00",
        **fields,
    }
    read = read_row(row, 1, NOW, "33")
    assert not isinstance(read, list), read
    return read


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {
            "registered_on": "2015-06-01", "unit_code": "330106-01", "industry_code": "H6210",
            "registered_address": "住所 \u2028 line", "business_address": "经营场所",
            "source_updated_at": "2025-03-01T00:00:00Z",
        },
    ],
)  # fmt: skip
def test_the_prepared_event_is_exactly_what_the_contract_accepts(fields):
    change = Change(ChangeKind.updated, subject(**fields), 1, 3)
    verdict = Verdict(tags=("carrier:网络", "format:餐饮服务"), item_keys=(9,))
    # The database hands back asyncpg's own UUID type.
    subject_id = PgUUID(str(uuid.uuid4()))
    payload = upserted_payload(change, subject_id, verdict, VerdictsAsJson(CLASSIFIER))
    assert payload.event_type == SubjectUpserted.event_type
    model = SubjectUpserted.model_validate_json(payload.json)  # extra keys would be refused
    assert orjson.loads(payload.json) == model.model_dump(mode="json")
    assert model.applicable_item_ids == [ITEM]
    assert str(model.subject_id) == str(subject_id)
    assert model.tags["format"] == ["餐饮服务"]


def test_content_has_one_canonical_form_sorted_and_compact():
    content = {"b": [1, {"z": "值", "a": None}], "a": 'x\n"y"'}
    text = canonical_json(content)
    assert text == json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    huge = {"extra": {"n": 2**70}}
    assert json.loads(canonical_json(huge)) == huge, "integers beyond 64 bits are kept"


def test_equal_content_hashes_equally_whatever_the_key_order():
    one = subject(extra={"a": 1, "b": 2})
    other = subject(extra={"b": 2, "a": 1})
    assert one.content_hash == other.content_hash
