"""A draw's exclusions at prepare (DRAW_SPEC §3.2, B.7): the department's named ones checked
against the population and the batch's policy, and the policy's own (`REGISTERED_RECENTLY`).
Any refused entry refuses the whole prepare, nothing stored, each entry with its field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.kernel import problems as p
from shuangsui.sampling.adapters.subjects import PopulationSubject
from shuangsui.sampling.domain import draw_exclusions as rules
from shuangsui.sampling.domain.draw_inputs import ExclusionRow
from shuangsui.sampling.service import draw_access as access


def exclusions_of(
    batch: BatchPublished, population: Sequence[PopulationSubject],
    named: Sequence[ExclusionRow], today: date,
) -> list[ExclusionRow]:  # fmt: skip
    """The exclusions the draw commits to (before `draw_inputs.exclusions` merges them)."""
    found = rules.breaches(batch, named, (r.uscc for r in population))
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise p.Problem(
            access.DRAW_REFUSED, f"{first.field}: {first.reason}{more}", rule=first.rule,
            field=first.field,
            errors=[p.FieldError(b.field, f"{b.rule}: {b.reason}") for b in found],
        )  # fmt: skip
    return [*rules.automatic(batch, population, today), *named]


def no_exclusions_for_teams(named: Sequence[ExclusionRow]) -> None:
    """A team draw has no exclusions (B.11): its subjects are the subject draw's selection."""
    if named:
        raise p.Problem(
            access.DRAW_REFUSED, "a team draw has no exclusions (B.11): exclude subjects in the "
            "batch's subject draw", rule="draw-exclusion-teams", field="exclusions",
            errors=[p.FieldError("exclusions", "draw-exclusion-teams: not for kind teams")],
        )  # fmt: skip
