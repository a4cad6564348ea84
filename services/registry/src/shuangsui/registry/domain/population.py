"""Counting the population (R15) without scanning it: what each subject adds to the counts.

The counts are kept per (item, county region, tag set, risk-class domain, risk class). Each
active subject adds one to the `*`/`*` total of every item it falls under, and one to the row of
each risk class it holds in a domain. "Unclassified" in a domain is the total minus the classes
held there, so a subject without any class costs no extra row. A change of a subject is the
difference between what it added before and what it adds now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ALL = "*"
RISK_CLASSES = ("A", "B", "C", "D")

# item_key, region_code, tags, domain, risk_class
CountKey = tuple[int, str, tuple[str, ...], str, str]


@dataclass(frozen=True)
class Placement:
    """What of a subject the counts see."""

    active: bool
    region_code: str
    tags: tuple[str, ...]
    item_keys: tuple[int, ...]
    classes: Mapping[str, str] = field(default_factory=dict)  # domain → A…D

    def keys(self) -> list[CountKey]:
        if not self.active:
            return []
        keys: list[CountKey] = []
        for item in self.item_keys:
            keys.append((item, self.region_code, self.tags, ALL, ALL))
            keys.extend(
                (item, self.region_code, self.tags, domain, risk_class)
                for domain, risk_class in self.classes.items()
            )
        return keys


def count_changes(
    before: Placement | None, after: Placement | None, into: Counter[CountKey]
) -> None:
    """Add to `into` what moving a subject from `before` to `after` changes (None = absent)."""
    if before == after:
        return
    if before is not None:
        into.subtract(before.keys())
    if after is not None:
        into.update(after.keys())


def count_arrivals(
    arrivals: Mapping[tuple[str, tuple[str, ...], tuple[int, ...]], int], into: Counter[CountKey]
) -> None:
    """Add new active subjects without risk classes, grouped by (region, tags, item keys) with
    how many share each placement: a bulk load adds a million subjects in a few hundred groups."""
    for (region_code, tags, item_keys), n in arrivals.items():
        placed = Placement(True, region_code, tags, item_keys)
        for key in placed.keys():  # noqa: SIM118 - a Placement, not a dict
            into[key] += n


def nonzero(changes: Counter[CountKey]) -> list[tuple[CountKey, int]]:
    return [(key, n) for key, n in changes.items() if n]


def by_risk_class(rows: Iterable[tuple[str, str, int]], domain: str) -> dict[str, int]:
    """Summed count rows (domain, risk_class, n) → A…D and unclassified within `domain`."""
    total = 0
    classes = dict.fromkeys(RISK_CLASSES, 0)
    for row_domain, risk_class, n in rows:
        if row_domain == ALL:
            total += n
        elif row_domain == domain and risk_class in classes:
            classes[risk_class] += n
    return {**classes, "unclassified": total - sum(classes.values())}
