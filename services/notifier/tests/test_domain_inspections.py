"""Annual vehicle inspection reminders (年检): years 2, 4, 6, 8, 10, then yearly; the
driving-licence renewal reminder (驾驶证换证) 90 days before its expiry."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_inspections import (
    LicenceFacts,
    licence_renewal_prefix,
    next_inspection,
    next_inspection_year,
    plan_first_inspection,
    plan_licence_renewal,
)
from dealerflow.notifier.domain_types import DeliveryFacts, PlannedReminder, RecordRef
from dealerflow.policy import DealerPolicy, policy_with_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = DealerPolicy()
CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000001")
# 3 March 2025 00:30 in Shanghai: the registration date is the dealer-local date
DELIVERED = datetime(2025, 3, 2, 16, 30, tzinfo=UTC)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def delivery(contract_id: str | None = "C9") -> DeliveryFacts:
    return DeliveryFacts("d1", CUSTOMER, "DL5", DELIVERED, "c7", contract_id=contract_id)


def chain(first: PlannedReminder, policy: DealerPolicy, count: int) -> list[PlannedReminder]:
    reminders = [first]
    while len(reminders) < count:
        following = next_inspection(reminders[-1], policy)
        if following is None:
            break
        reminders.append(following)
    return reminders


def test_the_first_inspection_is_due_two_years_after_the_delivery() -> None:
    [first] = plan_first_inspection(delivery(), POLICY)
    assert first.key == "delivery:DL5:inspection-2y"
    assert first.kind is ReminderKind.LICENCE_INSPECTION
    assert first.purpose is ConsentPurpose.SERVICE
    assert first.related == RecordRef(RecordKind.CONTRACT, "C9")  # its cancellation finds it
    assert first.params == {"inspection_date": "2027-03-03", "registered_on": "2025-03-03"}
    assert first.send_at == sh(2027, 2, 1, 10, 0)  # 30 days before, at 10:00 local
    without_contract = plan_first_inspection(delivery(contract_id=None), POLICY)[0]
    assert without_contract.related == RecordRef(RecordKind.DELIVERY, "DL5")


def test_years_2_4_6_8_10_then_every_year() -> None:
    [first] = plan_first_inspection(delivery(), POLICY)
    reminders = chain(first, POLICY, 8)
    assert [r.key.rsplit("-", 1)[1] for r in reminders] == [
        "2y",
        "4y",
        "6y",
        "8y",
        "10y",
        "11y",
        "12y",
        "13y",
    ]
    assert [r.params["inspection_date"] for r in reminders[4:6]] == ["2035-03-03", "2036-03-03"]
    assert reminders[5].send_at == sh(2036, 2, 2, 10, 0)  # 2036 is a leap year
    assert {(r.related, r.params["registered_on"]) for r in reminders} == {
        (first.related, "2025-03-03")
    }


def test_the_years_and_lead_time_come_from_the_policy() -> None:
    policy = policy_with_overrides(
        {
            "owner_care": {
                "inspection_due_years": [6],
                "inspection_yearly_after_years": None,
                "inspection_remind_before": "P10D",
            },
            "contact": {"reminder_send_time": "09:30"},
        }
    )
    [first] = plan_first_inspection(delivery(), policy)
    assert first.key == "delivery:DL5:inspection-6y"
    assert first.send_at == sh(2031, 2, 21, 9, 30)
    assert next_inspection(first, policy) is None  # no further year planned
    assert next_inspection_year(3, POLICY) == 4
    assert next_inspection_year(10, POLICY) == 11
    none = policy_with_overrides(
        {"owner_care": {"inspection_due_years": [], "inspection_yearly_after_years": None}}
    )
    assert plan_first_inspection(delivery(), none) == []


def test_only_an_inspection_reminder_with_its_registration_date_plans_the_next() -> None:
    [first] = plan_first_inspection(delivery(), POLICY)
    assert next_inspection(replace(first, kind=ReminderKind.INSURANCE_RENEWAL), POLICY) is None
    assert next_inspection(replace(first, params={}), POLICY) is None
    assert next_inspection(replace(first, key="delivery:DL5:inspection-xy"), POLICY) is None


# -- driving licence -----------------------------------------------------------------------


def test_the_licence_renewal_reminder_comes_90_days_before_the_expiry() -> None:
    now = sh(2025, 3, 3, 11, 0)
    [reminder] = plan_licence_renewal(LicenceFacts("d1", CUSTOMER, date(2030, 1, 1)), POLICY, now)
    assert reminder.key == f"customer:{CUSTOMER}:licence-renewal@2030-01-01"
    assert reminder.key.startswith(licence_renewal_prefix(CUSTOMER))
    assert reminder.kind is ReminderKind.LICENCE_RENEWAL
    assert reminder.purpose is ConsentPurpose.SERVICE
    assert reminder.related == RecordRef(RecordKind.CUSTOMER, str(CUSTOMER))
    assert reminder.params == {"licence_valid_until": "2030-01-01"}
    assert reminder.send_at == sh(2029, 10, 3, 10, 0)  # 90 days before, 10:00 local


def test_a_licence_expiring_soon_is_reminded_now_an_expired_one_not_at_all() -> None:
    late_evening = sh(2025, 3, 3, 22, 30)  # in the quiet hours
    soon = LicenceFacts("d1", CUSTOMER, date(2025, 4, 1))
    [reminder] = plan_licence_renewal(soon, POLICY, late_evening)
    assert reminder.send_at == sh(2025, 3, 4, 8, 0)  # the end of the quiet hours
    expired = LicenceFacts("d1", CUSTOMER, date(2025, 3, 2))
    assert plan_licence_renewal(expired, POLICY, late_evening) == []
    policy = policy_with_overrides({"owner_care": {"licence_remind_before": "P30D"}})
    [later] = plan_licence_renewal(
        LicenceFacts("d1", CUSTOMER, date(2030, 1, 1)), policy, sh(2025, 3, 3)
    )
    assert later.send_at == sh(2029, 12, 2, 10, 0)
