"""An Idempotency-Key retry is recognised by the request body's meaning, not its spelling."""

from pydantic import BaseModel

from shuangsui.kernel.idempotency import request_fingerprint


class Subject(BaseModel):
    uscc: str
    name: str
    region_code: str


def test_same_body_with_keys_in_another_order_has_the_same_fingerprint():
    first = {"uscc": "91330106MA2KXXXX0X", "name": "西湖茶叶有限公司", "region_code": "330106"}
    reordered = {"region_code": "330106", "name": "西湖茶叶有限公司", "uscc": "91330106MA2KXXXX0X"}

    assert request_fingerprint(first) == request_fingerprint(reordered)


def test_nested_key_order_does_not_matter_either():
    first = {"items": [{"uscc": "A", "tags": {"risk": "high", "kind": "food"}}], "mode": "atomic"}
    reordered = {
        "mode": "atomic",
        "items": [{"tags": {"kind": "food", "risk": "high"}, "uscc": "A"}],
    }

    assert request_fingerprint(first) == request_fingerprint(reordered)


def test_different_value_gives_a_different_fingerprint():
    assert request_fingerprint({"name": "西湖茶叶"}) != request_fingerprint({"name": "西湖茶業"})


def test_list_order_is_meaningful():
    assert request_fingerprint({"items": ["A", "B"]}) != request_fingerprint({"items": ["B", "A"]})


def test_model_has_the_fingerprint_of_its_json_body():
    subject = Subject(uscc="91330106MA2KXXXX0X", name="西湖茶叶有限公司", region_code="330106")
    body = {"region_code": "330106", "uscc": "91330106MA2KXXXX0X", "name": "西湖茶叶有限公司"}

    assert request_fingerprint(subject) == request_fingerprint(body)
