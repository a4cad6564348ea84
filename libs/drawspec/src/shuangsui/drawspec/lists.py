"""The four committed input lists (DRAW_SPEC §3): entry shapes and list hashes."""

from __future__ import annotations

from collections.abc import Iterable

from . import schema
from .encoding import StreamHash, dec
from .jsontext import JsonValue, has_unpaired_surrogate
from .model import Conflict, Exclusion, Inspector, Recusal, Subject

MAX_WEIGHT = 1000


# --- entry shapes (step 1) -------------------------------------------------------------


def read_subject(value: JsonValue, path: str) -> Subject:
    """A manifest entry; `unit` defaults to "" and `weight` to 1 (§3.1)."""
    entry = schema.obj(value, path, ("subject_id", "stratum"), ("unit", "weight"))
    unit = entry.get("unit", "")
    weight = entry.get("weight", 1)
    return Subject(
        subject_id=schema.string(entry["subject_id"], f"{path}.subject_id", non_empty=True),
        stratum=schema.string(entry["stratum"], f"{path}.stratum", non_empty=True),
        unit=schema.string(unit, f"{path}.unit"),
        weight=schema.integer(weight, f"{path}.weight", 1, MAX_WEIGHT),
    )


def read_exclusion(value: JsonValue, path: str) -> Exclusion:
    """An exclusion; the reason is free text but not empty (§3.2)."""
    entry = schema.obj(value, path, ("subject_id", "reason"))
    return Exclusion(
        subject_id=schema.string(entry["subject_id"], f"{path}.subject_id"),
        reason=schema.string(entry["reason"], f"{path}.reason", non_empty=True),
    )


def read_inspector(value: JsonValue, path: str) -> Inspector:
    """An inspector; `unit` is required here, unlike in the manifest (§3.3)."""
    entry = schema.obj(value, path, ("inspector_id", "unit", "expertise", "cert_valid_until"))
    return Inspector(
        inspector_id=schema.string(entry["inspector_id"], f"{path}.inspector_id"),
        unit=schema.string(entry["unit"], f"{path}.unit"),
        expertise=schema.items(entry["expertise"], f"{path}.expertise", schema.tag),
        cert_valid_until=schema.date(entry["cert_valid_until"], f"{path}.cert_valid_until"),
    )


def read_conflict(value: JsonValue, path: str) -> Conflict:
    """A conflict pair (§3.4); ids need not exist in the manifests."""
    entry = schema.obj(value, path, ("subject_id", "inspector_id"))
    return Conflict(
        subject_id=schema.string(entry["subject_id"], f"{path}.subject_id"),
        inspector_id=schema.string(entry["inspector_id"], f"{path}.inspector_id"),
    )


def read_recusal(value: JsonValue, path: str) -> Recusal:
    """A recusal (§10.1): non-empty ids, optional string reason (`""` allowed, null not)."""
    entry = schema.obj(value, path, ("subject_id", "inspector_id"), ("reason",))
    reason = entry.get("reason")
    return Recusal(
        subject_id=schema.string(entry["subject_id"], f"{path}.subject_id", non_empty=True),
        inspector_id=schema.string(entry["inspector_id"], f"{path}.inspector_id", non_empty=True),
        reason=schema.string(reason, f"{path}.reason") if "reason" in entry else None,
    )


# --- whole lists (step 1), the common case proved at once -------------------------------

_SUBJECT_KEYS = frozenset(("subject_id", "stratum", "unit", "weight"))
_CONFLICT_KEYS = frozenset(("subject_id", "inspector_id"))


def read_subjects(value: JsonValue, path: str) -> tuple[Subject, ...]:
    """`schema.items(value, path, read_subject)`: the manifest. Entries written explicitly
    (all four keys, plain `str` and `int` values in range, as `subject_json` writes them) are
    read in one pass and their strings searched for lone surrogates at once; on anything else
    the list is read entry by entry, so the result and the first error are exactly
    `read_subject`'s."""
    entries = schema.array(value, path)
    out: list[Subject] = []
    texts: list[str] = []
    for entry in entries:
        if type(entry) is not dict or entry.keys() != _SUBJECT_KEYS:
            return schema.items(entries, path, read_subject)
        subject_id, stratum, unit, weight = (
            entry["subject_id"], entry["stratum"], entry["unit"], entry["weight"]
        )  # fmt: skip
        if not (
            type(subject_id) is str and subject_id and type(stratum) is str and stratum
            and type(unit) is str and type(weight) is int and 1 <= weight <= MAX_WEIGHT
        ):  # fmt: skip
            return schema.items(entries, path, read_subject)
        texts += (subject_id, stratum, unit)
        out.append(Subject(subject_id, stratum, unit, weight))
    if has_unpaired_surrogate("".join(texts)):
        return schema.items(entries, path, read_subject)
    return tuple(out)


def read_conflicts(value: JsonValue, path: str) -> tuple[Conflict, ...]:
    """`schema.items(value, path, read_conflict)`, proved at once like `read_subjects`."""
    entries = schema.array(value, path)
    out: list[Conflict] = []
    texts: list[str] = []
    for entry in entries:
        if type(entry) is not dict or entry.keys() != _CONFLICT_KEYS:
            return schema.items(entries, path, read_conflict)
        subject_id, inspector_id = entry["subject_id"], entry["inspector_id"]
        if type(subject_id) is not str or type(inspector_id) is not str:
            return schema.items(entries, path, read_conflict)
        texts += (subject_id, inspector_id)
        out.append(Conflict(subject_id, inspector_id))
    if has_unpaired_surrogate("".join(texts)):
        return schema.items(entries, path, read_conflict)
    return tuple(out)


# --- list hashes (step 3) --------------------------------------------------------------


def manifest_hash(entries: Iterable[Subject]) -> str:
    """`manifest_sha256`: id, stratum, effective unit, dec(effective weight)."""
    h = StreamHash("manifest")
    h.add_text_rows((s.subject_id, s.stratum, s.unit, dec(s.weight)) for s in entries)
    return h.hexdigest()


def exclusions_hash(entries: Iterable[Exclusion]) -> str:
    """`exclusions_sha256`: id, reason."""
    h = StreamHash("exclusions")
    h.add_text_rows((e.subject_id, e.reason) for e in entries)
    return h.hexdigest()


def inspectors_hash(entries: Iterable[Inspector]) -> str:
    """`inspectors_sha256`: id, unit, expertise joined with ",", cert_valid_until."""
    h = StreamHash("inspectors")
    for i in entries:
        h.add_text(i.inspector_id, i.unit, ",".join(i.expertise), i.cert_valid_until)
    return h.hexdigest()


def conflicts_hash(entries: Iterable[Conflict]) -> str:
    """`conflicts_sha256`: subject_id, inspector_id."""
    h = StreamHash("conflicts")
    h.add_text_rows((c.subject_id, c.inspector_id) for c in entries)
    return h.hexdigest()


# --- JSON form, for operators building bundles -----------------------------------------


def subject_json(s: Subject) -> dict[str, JsonValue]:
    """The explicit JSON entry (unit and weight always written)."""
    return {"subject_id": s.subject_id, "stratum": s.stratum, "unit": s.unit, "weight": s.weight}


def exclusion_json(e: Exclusion) -> dict[str, JsonValue]:
    """The JSON entry of an exclusion."""
    return {"subject_id": e.subject_id, "reason": e.reason}


def inspector_json(i: Inspector) -> dict[str, JsonValue]:
    """The JSON entry of an inspector."""
    return {
        "inspector_id": i.inspector_id,
        "unit": i.unit,
        "expertise": list(i.expertise),
        "cert_valid_until": i.cert_valid_until,
    }


def conflict_json(c: Conflict) -> dict[str, JsonValue]:
    """The JSON entry of a conflict."""
    return {"subject_id": c.subject_id, "inspector_id": c.inspector_id}


def recusal_json(r: Recusal) -> dict[str, JsonValue]:
    """The JSON entry of a recusal (reason only when given)."""
    entry: dict[str, JsonValue] = {"subject_id": r.subject_id, "inspector_id": r.inspector_id}
    if r.reason is not None:
        entry["reason"] = r.reason
    return entry
