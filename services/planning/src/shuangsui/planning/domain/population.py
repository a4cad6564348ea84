"""What a draw would take from a population: strata by risk class and their sample sizes.

The sample size is the draw's own rule (DRAW_SPEC §7.1, R12: the ceiling of ratio × stratum),
computed by the draw library itself, so the preview can never promise another number than the
draw will take. Ratios are written as the draw writes them (Appendix B.4: 3% is `3/100`,
2.5% is `1/40`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from shuangsui.drawspec.model import Ratio
from shuangsui.drawspec.phase_a import sample_size

RISK_CLASSES = ("A", "B", "C", "D")
UNCLASSIFIED = "unclassified"
# R11 / Q4: subjects the classifier has not classified yet are drawn as class B.
UNCLASSIFIED_DRAWN_AS = "B"

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,4})?)%")
_FRACTION = re.compile(r"(\d{1,9})/(\d{1,9})")


class RatioNotValid(ValueError):
    """A ratio that is not a share between 0% and 100%."""


def parse_ratio(text: str) -> Ratio:
    """`"3%"`, `"2.5%"` or `"a/b"` → the reduced fraction of Appendix B.4."""
    cleaned = text.strip()
    if (percent := _PERCENT.fullmatch(cleaned)) is not None:
        share = Fraction(percent[1]) / 100
    elif (fraction := _FRACTION.fullmatch(cleaned)) is not None:
        if int(fraction[2]) == 0:
            raise RatioNotValid(f"{text!r}: the denominator must not be 0")
        share = Fraction(int(fraction[1]), int(fraction[2]))
    else:
        raise RatioNotValid(f"{text!r}: write a percentage such as 5% or a fraction such as 1/20")
    if share > 1:
        raise RatioNotValid(f"{text!r}: a ratio cannot exceed 100%")
    return ratio_of(share)


def ratio_of(value: Fraction) -> Ratio:
    """An exact share written as Appendix B.4 writes it (Fraction keeps it reduced)."""
    return Ratio(str(value.numerator), str(value.denominator))


def share_of(ratio: Ratio) -> Fraction:
    """The exact value of a B.4 ratio (never a float)."""
    return Fraction(int(ratio.numerator), int(ratio.denominator))


@dataclass(frozen=True)
class StratumPreview:
    stratum: str
    population: int
    ratio: Ratio | None
    expected_sample: int | None


def strata_of(by_class: Mapping[str, int]) -> dict[str, int]:
    """The draw's strata: one per risk class, the unclassified counted in class B's."""
    strata = {risk_class: by_class.get(risk_class, 0) for risk_class in RISK_CLASSES}
    strata[UNCLASSIFIED_DRAWN_AS] += by_class.get(UNCLASSIFIED, 0)
    return strata


def preview_strata(
    by_class: Mapping[str, int], ratios: Mapping[str, Ratio]
) -> list[StratumPreview]:
    """Each stratum's population and, where a ratio is given, what the draw would take."""
    return [
        StratumPreview(
            stratum,
            population,
            ratios.get(stratum),
            sample_size(population, ratios[stratum]) if stratum in ratios else None,
        )
        for stratum, population in strata_of(by_class).items()
    ]
