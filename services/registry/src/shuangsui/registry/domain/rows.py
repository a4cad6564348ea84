"""Reading one pushed row field by field, collecting every problem instead of stopping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from shuangsui.contracts.batches import RowError
from shuangsui.contracts.regions import InvalidRegionCode, validate_region_code
from shuangsui.contracts.uscc import InvalidUscc, validate_uscc

CLOCK_SKEW = timedelta(minutes=5)
MAX_TEXT = 2000


class RowReader:
    """Reads fields of one row, collecting an error per bad field instead of stopping."""

    def __init__(self, raw: Mapping[str, Any], line: int) -> None:
        self.raw = raw
        self.line = line
        self.errors: list[RowError] = []
        self._uscc: str | None = None

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(RowError(self.line, name, reason, self._uscc))

    def uscc(self) -> str | None:
        value = self.raw.get("uscc")
        if not isinstance(value, str) or not value.strip():
            self.fail("uscc", "required: the 18-character unified social credit code")
            return None
        try:
            self._uscc = validate_uscc(value)
        except InvalidUscc as exc:
            self._uscc = value.strip()
            self.fail("uscc", str(exc))
        return self._uscc

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw.get(name)
        # The usual case first (a million rows pass here thirteen times each).
        if type(value) is str and len(value) <= MAX_TEXT and "\x00" not in value:
            stripped = value.strip()
            if stripped:
                return stripped
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "required")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be text")
            return None
        if len(value) > MAX_TEXT:
            self.fail(name, f"longer than {MAX_TEXT} characters")
            return None
        if "\x00" in value:
            self.fail(name, "contains a NUL character, which text cannot hold")
            return None
        return value.strip()

    def choice(self, name: str, kind: type[StrEnum], default: Any) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        member = kind._value2member_map_.get(value) if type(value) is str else None
        if member is not None:
            return member  # what kind(value) gives, without the enum machinery
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            self.fail(name, f"unknown value {value!r}; one of: {allowed}")
            return default

    def region(self, name: str, scope_prefix: str) -> str:
        value = self.text(name, required=True)
        if value is None:
            return ""
        try:
            code = validate_region_code(value)
        except InvalidRegionCode as exc:
            self.fail(name, str(exc))
            return value
        if not code.startswith(scope_prefix):
            self.fail(
                name, f"{code} is outside your region ({scope_prefix or 'all'}*): push it there"
            )
        return code

    def instant(self, name: str, now: datetime) -> datetime:
        value = self.text(name, required=True)
        if value is None:
            return now
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(name, "not an RFC 3339 date-time")
            return now
        if moment.tzinfo is None:
            self.fail(name, "needs a UTC offset, e.g. 2025-03-01T08:00:00+08:00")
            return now
        if moment > now + CLOCK_SKEW:
            self.fail(name, "in the future")
        return moment

    def day(self, name: str, now: datetime) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(name, "not a date (YYYY-MM-DD)")
            return None
        if day > (now + CLOCK_SKEW).date():
            self.fail(name, "in the future")
        return day

    def decimal(self, name: str) -> Decimal | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(name, "not a decimal number (万元)")
            return None
        if not number.is_finite() or number < 0:
            self.fail(name, "must be a non-negative number")
            return None
        return number

    def industry_code(self) -> str | None:
        value = self.text("industry_code")
        # GB/T 4754: a section letter, or a letter followed by 2-4 digits (A, A01, A011, A0111).
        if value is not None and not (
            value[:1].isalpha() and value[:1].isupper() and value[1:].isdigit() and len(value) <= 5
        ):
            self.fail("industry_code", "not a GB/T 4754 code such as C1311")
            return None
        return value

    def registration_no(self) -> str | None:
        """The legacy 15-digit registration number (注册号) issued before the USCC."""
        value = self.text("registration_no")
        if value is not None and not (len(value) == 15 and value.isascii() and value.isdigit()):
            self.fail("registration_no", "a legacy registration number (注册号) has 15 digits")
            return None
        return value

    def licences(self) -> tuple[dict[str, Any], ...]:
        value = self.raw.get("licences")
        if value in (None, ""):
            return ()
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail("licences", "must be a list of {type, number, valid_until}")
            return ()
        for index, licence in enumerate(value):
            if not isinstance(licence.get("type"), str) or not licence.get("type"):
                self.fail(f"licences[{index}].type", "required")
            valid_until = licence.get("valid_until")
            if valid_until is not None:
                try:
                    date.fromisoformat(str(valid_until))
                except ValueError:
                    self.fail(f"licences[{index}].valid_until", "not a date (YYYY-MM-DD)")
        return tuple(value)

    def urls(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name)
        if value in (None, ""):
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "must be a list of URLs")
            return ()
        for url in value:
            if not url.startswith(("http://", "https://")):
                self.fail(name, f"not an http(s) URL: {url[:80]}")
        return tuple(value)
