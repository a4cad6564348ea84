"""Which tags a subject carries and which items it falls under (事项-对象 对应): one verdict.

A classification is numbered. Every time the tag rules or the items in force change, a new
number is issued and every subject classified under an older one is classified again in the
background; a push classifies what it writes under the current number. DOMAIN.md R2, R15.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from uuid import UUID

from shuangsui.registry.domain.tag_corrections import Correction
from shuangsui.registry.domain.tags import TagInput, TagRules


@dataclass(frozen=True)
class ItemScope:
    """Which subjects an item applies to: a subject type it names, and, for every tag
    dimension the item names, at least one of the item's tags in that dimension."""

    item_id: UUID
    code: str
    subject_types: frozenset[str]
    subject_tags: frozenset[str] = frozenset()
    # Worked out once: asked per subject per item on the push path.
    tag_groups: tuple[frozenset[str], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_dimension: dict[str, set[str]] = {}
        for tag in self.subject_tags:
            by_dimension.setdefault(tag.partition(":")[0], set()).add(tag)
        groups = tuple(frozenset(group) for _, group in sorted(by_dimension.items()))
        object.__setattr__(self, "tag_groups", groups)

    def covers(self, subject_type: str, tags: frozenset[str]) -> bool:
        return subject_type in self.subject_types and all(
            not group.isdisjoint(tags) for group in self.tag_groups
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "item_id": str(self.item_id),
            "code": self.code,
            "subject_types": sorted(self.subject_types),
            "subject_tags": sorted(self.subject_tags),
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> ItemScope:
        return cls(
            item_id=UUID(str(data["item_id"])),
            code=str(data["code"]),
            subject_types=frozenset(data["subject_types"]),
            subject_tags=frozenset(data.get("subject_tags", ())),
        )


def same_items(a: Iterable[ItemScope], b: Iterable[ItemScope]) -> bool:
    return set(a) == set(b)


@dataclass(frozen=True)
class Verdict:
    tags: tuple[str, ...]
    item_keys: tuple[int, ...]


@dataclass(frozen=True)
class Classifier:
    """Tag rules and item scopes under one classification number, and the approved tag
    corrections in force (by USCC), so that pushes, passes and approvals all tag alike.

    `item_keys` numbers each item (the small integers the subject rows and counts store)."""

    version: int
    rules: TagRules
    items: tuple[ItemScope, ...] = ()
    item_keys: Mapping[UUID, int] = field(default_factory=dict)
    corrections: Mapping[str, Correction] = field(default_factory=dict)
    # The items of each (subject type, tags) met so far: a million subjects fall into a few
    # hundred of them. Not passed on by `replace`, so a classifier with other items starts afresh.
    _keys_seen: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def classify(self, subject: TagInput) -> Verdict:
        tags = self.rules.tags_of(subject)
        # One lookup for the many subjects without a correction: a bulk push asks per row.
        correction = self.corrections.get(subject.uscc)
        if correction is not None:
            tags = correction.applied_to(tags)
        placement = (subject.subject_type, tags)
        keys = self._keys_seen.get(placement)
        if keys is None:
            keys = self._keys_seen[placement] = self._item_keys_of(subject.subject_type, tags)
        return Verdict(tags, keys)

    def _item_keys_of(self, subject_type: str, tags: tuple[str, ...]) -> tuple[int, ...]:
        present = frozenset(tags)
        return tuple(
            sorted(
                self.item_keys[item.item_id]
                for item in self.items
                if item.covers(subject_type, present)
            )
        )

    def item_ids(self, keys: Sequence[int]) -> list[UUID]:
        by_key = self._ids_by_key
        return [by_key[key] for key in keys if key in by_key]

    @cached_property
    def _ids_by_key(self) -> dict[int, UUID]:
        return {key: item_id for item_id, key in self.item_keys.items()}

    def key_of(self, item_id: UUID) -> int | None:
        return self.item_keys.get(item_id)

    def refreshed(self, usccs: Iterable[str], fresh: Mapping[str, Correction]) -> Classifier:
        """The same classifier with the corrections of `usccs` as `fresh` holds them now (one
        approved or lifted while a long push was running)."""
        named = set(usccs)
        if all(self.corrections.get(uscc) == fresh.get(uscc) for uscc in named):
            return self
        kept = {k: v for k, v in self.corrections.items() if k not in named}
        return replace(self, corrections={**kept, **fresh})

    def correcting(self, uscc: str, correction: Correction | None) -> Classifier:
        """The same classifier with `correction` in force for one subject (None: none)."""
        corrections = {k: v for k, v in self.corrections.items() if k != uscc}
        if correction is not None:
            corrections[uscc] = correction
        return replace(self, corrections=corrections)


UNCLASSIFIED = Classifier(version=0, rules=TagRules(version=0))
