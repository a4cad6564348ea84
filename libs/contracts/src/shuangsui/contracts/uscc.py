"""Unified Social Credit Code (统一社会信用代码, USCC) under GB 32100-2015 (DOMAIN R44).

The check character follows python-stdnum's ``stdnum.cn.uscc.calc_check_digit`` (a test
proves them equal); it is computed here on the already-canonical code because stdnum's own
cleaning costs more than the check itself, and bulk pushes check a million codes. Length and
charset are checked here first so that a rejection names the one rule that failed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "USCC_ALPHABET",
    "InvalidUscc",
    "Uscc",
    "UsccReason",
    "check_character",
    "is_valid_uscc",
    "validate_uscc",
]

USCC_LENGTH = 18
# GB 32100 drops I, O, Z, S and V so that no character can be misread as a digit.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_DIVISION = slice(2, 8)
_ALPHABET_SET = frozenset(USCC_ALPHABET)
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# GB 32100 weights: 3^i mod 31 for positions 1-17.
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

UsccReason = Literal["length", "charset", "check_character"]

_PATTERN = "^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$"


class InvalidUscc(ValueError):
    """A string that is not a valid USCC; ``reason`` names the rule it broke."""

    def __init__(self, value: str, reason: UsccReason, detail: str) -> None:
        self.value = value
        self.reason: UsccReason = reason
        self.detail = detail
        super().__init__(f"invalid USCC {value!r}: {detail}")


def validate_uscc(value: str) -> str:
    """Return the canonical USCC (stripped, upper-case) or raise :class:`InvalidUscc`.

    Positions 1-2 (registration authority and entity type) may be letters: GB 32100
    assigns letter codes such as ``N`` (agriculture: rural collective economic
    organisations, 农村集体经济组织) and ``Y`` (other). ``stdnum.cn.uscc.validate``
    demands digits there, so only its check-character rule is used.
    Positions 3-8 are the administrative division (GB/T 2260) at registration time;
    they are checked for digits only, because a code keeps the division it was
    issued under after that division is abolished, and central registrations use
    ``100000``, which is not a GB/T 2260 region.
    """
    if not isinstance(value, str):
        raise TypeError(f"a USCC must be a str, got {type(value).__name__}")
    code = value.strip().upper()
    if len(code) != USCC_LENGTH:
        raise InvalidUscc(code, "length", f"must have 18 characters, got {len(code)}")
    if not _ALPHABET_SET.issuperset(code):
        bad = [f"{c!r} at position {i}" for i, c in enumerate(code, 1) if c not in USCC_ALPHABET]
        raise InvalidUscc(
            code,
            "charset",
            f"characters outside {USCC_ALPHABET} (I, O, Z, S, V are never used): " + ", ".join(bad),
        )
    if not code[_DIVISION].isdigit():
        raise InvalidUscc(
            code,
            "charset",
            f"positions 3-8 are the administrative division code and must be digits, "
            f"got {code[_DIVISION]!r}",
        )
    expected = check_character(code[:-1])
    if code[-1] != expected:
        raise InvalidUscc(
            code,
            "check_character",
            f"check character (position 18) is {code[-1]!r}, the mod-31 check gives {expected!r}",
        )
    return code


def check_character(body: str) -> str:
    """The check character (position 18) of the canonical 17-character body."""
    total = sum(map(int.__mul__, map(_VALUE.__getitem__, body), _WEIGHTS))
    return USCC_ALPHABET[-total % 31]


def is_valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except InvalidUscc:
        return False
    return True


class _UsccAnnotation:
    """Pydantic hook: validates with :func:`validate_uscc`, errors typed ``uscc_<reason>``."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_validate_for_pydantic, handler(str))

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(
            minLength=USCC_LENGTH,
            maxLength=USCC_LENGTH,
            pattern=_PATTERN,
            description=(
                "Unified Social Credit Code (统一社会信用代码), GB 32100: 18 characters "
                "with a mod-31 check character."
            ),
            examples=["91350100M000100Y43"],
        )
        return json_schema


def _validate_for_pydantic(value: str) -> str:
    try:
        return validate_uscc(value)
    except InvalidUscc as exc:
        raise PydanticCustomError(
            f"uscc_{exc.reason}",
            "Invalid USCC: {detail}",
            {"detail": exc.detail, "reason": exc.reason},
        ) from None


Uscc = Annotated[str, _UsccAnnotation]
"""A USCC as a pydantic field type (``uscc: Uscc``); values are stored canonical."""
