"""A published batch read as the draw's team phases (B.5, B.9, B.11) and its status rules."""

from datetime import date

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.sampling.domain.batches import (
    BatchStatus,
    is_open_on,
    lead_phase,
    status_after_draws,
    team_phases,
)
from shuangsui.sampling.domain.draws import DrawKind, DrawStatus, DrawSummary
from shuangsui.sampling.domain.inspectors import SelectionMode

EXAMPLE = BatchPublished.model_config["json_schema_extra"]["examples"][0]


def published(**changes):
    return BatchPublished.model_validate({**EXAMPLE, **changes})


def test_the_lead_phase_is_the_batchs_own_terms():
    lead = lead_phase(published())

    assert lead.org_code == "330106"
    assert lead.selection_mode is SelectionMode.station_group
    assert lead.station_group == ("330106-01", "330106-02")
    assert (lead.team_size, lead.lead_expertise) == (2, "food_safety")
    assert lead.task_date == date(2026, 6, 30)  # B.5: the window end


def test_a_cross_department_batch_has_one_phase_per_department_in_the_batchs_order():
    phases = team_phases(published())

    assert [(p.org_code, p.department_type) for p in phases] == [
        ("330106", "market_supervision"), ("330106-WJ", "health"),
    ]  # fmt: skip
    assert phases[1].lead_expertise is None


def test_an_internal_joint_batch_has_the_lead_phase_only():
    batch = published(joint_kind="internal", participants=[])

    assert [p.org_code for p in team_phases(batch)] == ["330106"]


def test_a_batch_is_open_for_a_draw_through_its_window_end():
    batch = published()

    assert is_open_on(batch, date(2026, 6, 30))
    assert not is_open_on(batch, date(2026, 7, 1))


def _draws(*statuses):
    return [DrawSummary(f"330106202603150001-{n:02d}", DrawKind.combined, s)
            for n, s in enumerate(statuses, start=1)]  # fmt: skip


def test_a_batch_is_drawing_from_its_first_commit_and_drawn_with_its_completed_draw():
    S = DrawStatus
    assert status_after_draws(False, [], _draws()) is BatchStatus.published
    assert status_after_draws(False, [], _draws(S.prepared)) is BatchStatus.published
    for live in (S.committed, S.revealed, S.computed):
        assert status_after_draws(False, [], _draws(S.failed, live)) is BatchStatus.drawing
    assert status_after_draws(False, [], _draws(S.failed, S.completed)) is BatchStatus.drawn


def test_a_batch_whose_draws_all_failed_or_were_voided_is_published_again():
    S = DrawStatus
    after = status_after_draws(False, [], _draws(S.failed, S.voided, S.prepared))
    assert after is BatchStatus.published
