"""The risk-class tables, and the clauses a subject query uses to show or filter classes.

Apart from the risk-class adapter so that the subject adapter can use the clauses without the
two modules importing each other.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# Migration 0005 made these tables.
risk_classes = sa.Table(
    "subject_risk_classes",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("domain", sa.String(40), primary_key=True),
    sa.Column("risk_class", sa.String(1), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
risk_class_history = sa.Table(
    "risk_class_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False, index=True),
    sa.Column("domain", sa.String(40), nullable=False),
    sa.Column("old_class", sa.String(1)),
    sa.Column("new_class", sa.String(1), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
)

UNCLASSIFIED = "unclassified"  # the stratum of subjects without a class in a domain


def held_classes(uscc: Any) -> Any:
    """The {domain: class} a subject holds, as a sub-select beside each row of a subject query
    (the primary key finds them; no class at all is `{}`)."""
    held = risk_classes.alias("held")
    classes = (
        sa.select(sa.func.jsonb_object_agg(held.c.domain, held.c.risk_class))
        .where(held.c.uscc == uscc)
        .scalar_subquery()
    )
    return sa.func.coalesce(classes, sa.text("'{}'::jsonb"), type_=JSONB)


def in_risk_stratum(uscc: Any, domain: str, stratum: str) -> Any:
    """A subject's class in `domain` is `stratum` (A–D), or it has none there (`unclassified`).

    An alias of its own, so the clause stays correlated to the subject when the enclosing query
    joins the risk classes too (`count_population`)."""
    held = risk_classes.alias("held_in_domain")
    in_domain = [held.c.uscc == uscc, held.c.domain == domain]
    if stratum == UNCLASSIFIED:
        return ~sa.exists().where(*in_domain)
    return sa.exists().where(*in_domain, held.c.risk_class == stratum)
