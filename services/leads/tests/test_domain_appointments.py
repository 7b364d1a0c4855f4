"""The steps on a booked appointment as pure rules (domain_appointments)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.leads.domain import Grade, LeadSnapshot, LeadSource
from dealerflow.leads.domain_appointments import (
    AppointmentEnded,
    AppointmentRefused,
    AppointmentState,
    AppointmentStatus,
    may_end,
    may_reschedule,
    visit_reengages,
)

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
STARTS = NOW + timedelta(days=1)
SCHEDULED = AppointmentState("ap-1", AppointmentStatus.SCHEDULED, STARTS)
ENDINGS = [AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW]


def ended(status: AppointmentStatus) -> AppointmentState:
    return AppointmentState("ap-1", status, STARTS)


def test_a_scheduled_appointment_moves_to_a_new_time() -> None:
    assert may_reschedule(SCHEDULED, STARTS + timedelta(days=1), NOW, SKEW) is True
    # a little in the past is clock skew, not a refusal
    assert may_reschedule(SCHEDULED, NOW - timedelta(minutes=4), NOW, SKEW) is True


def test_moving_it_to_the_time_it_has_changes_nothing() -> None:
    assert may_reschedule(SCHEDULED, STARTS, NOW, SKEW) is False


def test_a_new_time_in_the_past_is_refused() -> None:
    with pytest.raises(AppointmentRefused, match="in the past"):
        may_reschedule(SCHEDULED, NOW - timedelta(hours=1), NOW, SKEW)


@pytest.mark.parametrize("status", ENDINGS)
def test_an_ended_appointment_does_not_move(status: AppointmentStatus) -> None:
    with pytest.raises(AppointmentEnded, match=status.value) as refused:
        may_reschedule(ended(status), STARTS + timedelta(days=1), NOW, SKEW)
    assert refused.value.status is status


def test_cancelled_or_attended_before_its_time() -> None:
    assert may_end(SCHEDULED, AppointmentStatus.CANCELLED, NOW, NOW, SKEW) is True
    # the customer came a day early
    assert may_end(SCHEDULED, AppointmentStatus.ATTENDED, NOW, NOW, SKEW) is True


def test_no_show_only_once_its_time_came() -> None:
    with pytest.raises(AppointmentRefused, match="no no-show before it"):
        may_end(SCHEDULED, AppointmentStatus.NO_SHOW, NOW, NOW, SKEW)
    assert may_end(SCHEDULED, AppointmentStatus.NO_SHOW, STARTS, STARTS, SKEW) is True


def test_an_arrival_in_the_future_is_refused() -> None:
    later = NOW + timedelta(hours=1)
    with pytest.raises(AppointmentRefused, match="future"):
        may_end(SCHEDULED, AppointmentStatus.ATTENDED, later, NOW, SKEW)
    assert may_end(SCHEDULED, AppointmentStatus.ATTENDED, NOW + timedelta(minutes=4), NOW, SKEW)


@pytest.mark.parametrize("status", ENDINGS)
def test_the_same_ending_again_changes_nothing(status: AppointmentStatus) -> None:
    assert may_end(ended(status), status, STARTS, STARTS, SKEW) is False


@pytest.mark.parametrize("status", ENDINGS)
@pytest.mark.parametrize("other", ENDINGS)
def test_another_ending_after_one_is_a_conflict(
    status: AppointmentStatus, other: AppointmentStatus
) -> None:
    if other is status:
        return
    with pytest.raises(AppointmentEnded):
        may_end(ended(status), other, STARTS, STARTS, SKEW)


def test_scheduled_is_not_an_ending() -> None:
    with pytest.raises(ValueError, match="does not end"):
        may_end(SCHEDULED, AppointmentStatus.SCHEDULED, NOW, NOW, SKEW)


def lead(declined_at: datetime | None = None, reengaged_at: datetime | None = None) -> LeadSnapshot:
    return LeadSnapshot(
        lead_id=uuid.uuid4(),
        dealer_id="D001",
        phone_e164="+8613500001111",
        grade=Grade.A,
        source=LeadSource.WEBSITE,
        created_at=NOW - timedelta(days=10),
        invitation_declined_at=declined_at,
        reengaged_at=reengaged_at,
    )


def test_a_visit_after_a_declined_invitation_re_engages() -> None:
    declined = NOW - timedelta(days=2)
    assert visit_reengages(lead(declined), NOW) is True
    # a visit recorded as before the decline does not lift it
    assert visit_reengages(lead(declined), declined - timedelta(hours=1)) is False


def test_a_visit_without_a_standing_decline_is_a_plain_touch() -> None:
    assert visit_reengages(lead(), NOW) is False
    declined = NOW - timedelta(days=2)
    lifted = lead(declined, reengaged_at=declined + timedelta(days=1))
    assert visit_reengages(lifted, NOW) is False
