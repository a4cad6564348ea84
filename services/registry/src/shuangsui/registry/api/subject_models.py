"""Request and response shapes of the subject directory API, with the terms offices use."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.kernel.pagination import Page

EXAMPLE_SUBJECT: dict[str, Any] = {
    "uscc": "91330106MA2GXXXX0D",
    "name": "杭州西溪食品有限公司",
    "subject_type": "enterprise",
    "status": "active",
    "region_code": "330106",
    "registered_address": "浙江省杭州市西湖区文三路 100 号",
    "legal_representative": "张三",
    "industry_code": "C1419",
    "licences": [
        {"type": "food_production", "number": "SC10633010600123", "valid_until": "2028-05-31"}
    ],
    "online_shops": ["https://shop.example.cn/xixi"],
    "registered_capital_wan": "500",
    "unit_code": "330106-XH",
    "registered_on": "2019-04-12",
    "source": "zj-aic",
    "source_updated_at": "2025-03-01T08:00:00+08:00",
}
BULK_EXAMPLES = {
    "application/x-ndjson": {
        "two subjects": {
            "value": '{"uscc":"91330106MA2GXXXX0D","name":"杭州西溪食品有限公司","region_code":"330106",'
            '"source":"zj-aic","source_updated_at":"2025-03-01T08:00:00+08:00"}\n'
            '{"uscc":"92330106MA2HYYYY1M","name":"西湖区小王面馆","subject_type":"individual",'
            '"region_code":"330106","source":"zj-aic","source_updated_at":"2025-03-01T08:00:00+08:00"}\n'
        }
    },
    "text/csv": {
        "two subjects": {
            "value": "uscc,name,subject_type,region_code,online_shops,source,source_updated_at\n"
            "91330106MA2GXXXX0D,杭州西溪食品有限公司,enterprise,330106,"
            '"[""https://shop.example.cn/xixi""]",zj-aic,2025-03-01T08:00:00+08:00\n'
        }
    },
}

RISK_EXAMPLES = {
    "application/x-ndjson": {
        "two classes": {
            "value": '{"uscc":"91330106MA2GXXXX0D","risk_class":"C","domain":"general",'
            '"source":"zj-credit","as_of":"2025-02-01T00:00:00+08:00"}\n'
            '{"uscc":"91330106MA2GXXXX0D","risk_class":"B","domain":"food",'
            '"source":"zj-credit","as_of":"2025-02-01T00:00:00+08:00"}\n'
        }
    },
    "text/csv": {
        "one class": {
            "value": "uscc,risk_class,domain,source,as_of\n"
            "91330106MA2GXXXX0D,C,general,zj-credit,2025-02-01T00:00:00+08:00\n"
        }
    },
}


class SubjectIn(BaseModel):
    """One subject as a registration or permit system pushes it (the USCC is in the path)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_SUBJECT]})

    name: str = Field(description="名称")
    subject_type: str | None = Field(
        None,
        description="enterprise 企业 / individual 个体工商户 / cooperative 农民专业合作社 / other 其他",
    )
    status: str | None = Field(
        None, description="active 存续 / cancelled 注销 / revoked 吊销 / suspended 停业"
    )
    region_code: str = Field(description="GB/T 2260 行政区划代码, 6 digits")
    registered_address: str | None = Field(None, description="住所")
    business_address: str | None = Field(None, description="经营场所")
    legal_representative: str | None = Field(None, description="法定代表人 (personal data)")
    industry_code: str | None = Field(None, description="GB/T 4754 行业代码, e.g. C1419")
    business_scope: str | None = Field(None, description="经营范围")
    licences: list[dict[str, Any]] | None = Field(
        None, description="许可证: [{type, number, valid_until}]"
    )
    online_shops: list[str] | None = Field(None, description="网店 URLs")
    registered_capital_wan: str | None = Field(None, description="注册资本 (万元), decimal string")
    employee_band: str | None = Field(None, description="从业人数区间")
    unit_code: str | None = Field(None, description="监管所 code")
    registered_on: str | None = Field(None, description="成立日期 YYYY-MM-DD")
    registration_no: str | None = Field(
        None, description="Legacy 15-digit registration number · 注册号"
    )
    source: str = Field(description="The pushing system (数据来源)")
    source_updated_at: str = Field(description="RFC 3339 time of the change at its source")


class _SubjectOutBase(BaseModel):
    """What the list and the single read share; each shows the risk classes its own way."""

    uscc: str = Field(description="统一社会信用代码")
    subject_id: UUID
    name: str = Field(description="名称")
    subject_type: str
    status: str
    region_code: str = Field(description="行政区划代码")
    unit_code: str | None = Field(description="监管所")
    industry_code: str | None = Field(description="行业代码")
    tags: dict[str, list[str]] = Field(
        description="Automatic tags by dimension: format 业态, category 品类, carrier 载体, "
        "scale 规模 (标签)",
        examples=[{"format": ["餐饮服务"], "category": ["食品"], "carrier": ["实体"], "scale": []}],
    )
    applicable_item_ids: list[UUID] = Field(
        description="Items in force whose scope it falls in (适用抽查事项)"
    )
    classification: int = Field(description="The classification its tags and items come from")
    version: int


class SubjectSummaryOut(_SubjectOutBase):
    risk_classes: dict[str, str] = Field(
        description="Credit risk class A–D by domain (`general`, `food`, …); a domain without "
        "one is absent · 信用风险分类",
        examples=[{"general": "B", "food": "C"}],
    )


class RiskStratum(StrEnum):
    """A stratum of a population by credit risk class (按信用风险分类分层)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    unclassified = "unclassified"  # no class in the domain asked about (未分类)


class RiskClassOut(BaseModel):
    risk_class: str = Field(description="A–D (信用风险分类)")
    source: str = Field(description="The classification system")
    as_of: datetime = Field(description="When it was decided")


class TagCorrectionInForceOut(BaseModel):
    """The approved station correction its tags follow: (rule tags − remove) ∪ add."""

    correction_id: UUID = Field(description="标签纠正编号")
    add: list[str] = Field(description="增加的标签", examples=[["format:餐饮服务"]])
    remove: list[str] = Field(description="去除的标签", examples=[["format:食品销售"]])
    reason: str = Field(description="纠正理由")
    proposed_by: str = Field(description="提出人")
    approved_by: str = Field(description="审核人")
    approved_at: datetime = Field(description="审核通过时间")


class SubjectOut(_SubjectOutBase):
    registered_address: str | None
    business_address: str | None
    legal_representative: str | None = Field(
        description="法定代表人; null unless your role needs it"
    )
    business_scope: str | None
    licences: list[dict[str, Any]]
    online_shops: list[str]
    registered_capital_wan: str | None
    employee_band: str | None
    registered_on: date | None
    registration_no: str | None
    extra: dict[str, Any] = Field(description="Keys the pushing system sent beyond ours")
    risk_classes: dict[str, RiskClassOut] = Field(
        description="Credit risk class per domain (`general`, `food`, …) · 信用风险分类"
    )
    source: str
    source_updated_at: datetime
    updated_at: datetime
    tag_correction: TagCorrectionInForceOut | None = Field(
        None, description="The station's tag correction in force, if any · 生效的标签纠正"
    )


class RiskClassChangeOut(BaseModel):
    domain: str = Field(description="`general` or a field such as `food` · 分类领域")
    old_class: str | None = Field(description="Class before; null for the first · 变更前分类")
    new_class: str = Field(description="Class after · 变更后分类")
    source: str = Field(description="The classification system · 数据来源")
    as_of: datetime = Field(description="When the classifier decided it · 分类时间")
    recorded_at: datetime = Field(description="When the registry recorded it · 记录时间")
    actor: str = Field(description="Who pushed it (token subject) · 推送方")


EXAMPLE_RISK_HISTORY: dict[str, Any] = {
    "items": [
        {
            "domain": "general", "old_class": "B", "new_class": "C", "source": "zj-credit",
            "as_of": "2025-05-01T00:00:00Z", "recorded_at": "2025-05-01T02:13:08.412Z",
            "actor": "zj-credit",
        },
        {
            "domain": "general", "old_class": None, "new_class": "B", "source": "zj-credit",
            "as_of": "2025-02-01T00:00:00Z", "recorded_at": "2025-02-01T02:10:51.027Z",
            "actor": "zj-credit",
        },
    ],
    "next_cursor": None,
    "uscc": "91330106MA2GXXXX0D",
    "risk_classes": {
        "general": {"risk_class": "C", "source": "zj-credit", "as_of": "2025-05-01T00:00:00Z"}
    },
}  # fmt: skip


class RiskClassHistoryOut(Page[RiskClassChangeOut]):
    """风险分类历史 · A subject's credit risk classes in force, and this page of their changes
    (`items`, newest first)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RISK_HISTORY]})

    uscc: str = Field(description="统一社会信用代码")
    risk_classes: dict[str, RiskClassOut] = Field(
        description="The class in force per domain · 现行信用风险分类"
    )


class HistoryEntryOut(BaseModel):
    version: int
    changed_at: datetime
    source: str
    source_updated_at: datetime
    actor: str = Field(description="Who pushed it (token subject)")
    content: dict[str, Any]

    @classmethod
    def of(cls, entry: dict[str, Any], personal_data: bool) -> HistoryEntryOut:
        content = dict(entry["content"])
        if not personal_data:
            content["legal_representative"] = None
        return cls(**{**entry, "content": content})


def subject_out(row: dict[str, Any], personal_data: bool) -> SubjectOut:
    values = dict(row)
    if values.get("registered_capital_wan") is not None:
        values["registered_capital_wan"] = str(values["registered_capital_wan"])
    if not personal_data:
        values["legal_representative"] = None
    return SubjectOut.model_validate(values)


class PopulationOut(BaseModel):
    total: int = Field(description="Subjects matching · 合计")
    by_risk_class: dict[str, int] = Field(
        description="By credit risk class A–D and `unclassified` · 按信用风险分类",
        examples=[{"A": 1200, "B": 8400, "C": 2100, "D": 300, "unclassified": 950}],
    )
    method: str = Field(
        description="`index`: from the counts kept per item (item + region + tags); `scan`: "
        "counted over the directory (any other filter) · 计数方式"
    )
    classification: int = Field(description="Current classification number (分类版本)")
    reclassifying: bool = Field(
        description="A re-classification pass is under way; tags and items may still move"
    )
