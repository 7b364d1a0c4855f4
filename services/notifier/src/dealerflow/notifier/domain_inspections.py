"""The owner's annual vehicle inspection reminders (年检) and the driver's licence renewal
reminder (驾驶证换证), pure.

China's rules for private passenger cars since 2022: no on-site test for the first ten
years, but the inspection label is due in years 2, 4, 6 (on-site), 8 and 10 (on-site)
after registration, then every year (twice a year after year 15: not planned, one reminder
a year is enough to bring the owner in). The years are the dealer's policy
(``owner_care.inspection_due_years``, ``inspection_yearly_after_years``).

Choices:
- the registration date is the dealer-local delivery date (the notifier does not learn the
  plate registration date; a car is registered within days of its delivery);
- the inspection is due on the registration anniversary of its year; the reminder goes out
  ``owner_care.inspection_remind_before`` (30 days) earlier, at
  ``contact.reminder_send_time`` on that day, out of quiet hours;
- only the first reminder is planned at the delivery; each one falling due plans the next
  (as the insurance renewal does), so a policy change applies from the next one on;
- keyed by the delivery and the year (``delivery:<id>:inspection-<n>y``), about the
  contract when the delivery names one (its cancellation withdraws the reminder not sent
  yet), else about the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_deliveries import record_of_delivered_car
from dealerflow.notifier.domain_types import DeliveryFacts, PlannedReminder, RecordRef
from dealerflow.policy import BusinessCalendar, DealerPolicy, add_months

INSPECTION_KEY = ":inspection-"


def next_inspection_year(after: int, policy: DealerPolicy) -> int | None:
    """The first year after registration later than ``after`` in which the inspection is
    due (None: no further inspection per the policy)."""
    care = policy.owner_care
    candidates = [year for year in care.inspection_due_years if year > after]
    if care.inspection_yearly_after_years is not None:
        candidates.append(max(after, care.inspection_yearly_after_years) + 1)
    return min(candidates, default=None)


def _inspection(
    head: PlannedReminder | DeliveryFacts,
    key_base: str,
    related: RecordRef,
    registered_on: date,
    year: int,
    policy: DealerPolicy,
) -> PlannedReminder:
    calendar = BusinessCalendar(policy)
    due_on = add_months(registered_on, 12 * year)
    remind_on = due_on - policy.owner_care.inspection_remind_before
    return PlannedReminder(
        key=f"{key_base}{INSPECTION_KEY}{year}y",
        kind=ReminderKind.LICENCE_INSPECTION,
        dealer_id=head.dealer_id,
        customer_id=head.customer_id,
        send_at=calendar.next_allowed_send_time(
            calendar.at_local(remind_on, policy.contact.reminder_send_time)
        ),
        purpose=ConsentPurpose.SERVICE,
        related=related,
        params={"inspection_date": due_on.isoformat(), "registered_on": registered_on.isoformat()},
    )


def plan_first_inspection(delivery: DeliveryFacts, policy: DealerPolicy) -> list[PlannedReminder]:
    """The reminder of the first inspection after the delivery (none if the policy plans
    no inspection)."""
    year = next_inspection_year(0, policy)
    if year is None:
        return []
    registered_on = BusinessCalendar(policy).local(delivery.delivered_at.astimezone(UTC)).date()
    base = f"delivery:{delivery.delivery_id}"
    related = record_of_delivered_car(delivery)
    return [_inspection(delivery, base, related, registered_on, year, policy)]


def next_inspection(current: PlannedReminder, policy: DealerPolicy) -> PlannedReminder | None:
    """The reminder of the inspection after ``current``'s (planned when ``current`` falls
    due): the next due year per the policy, the same record, purpose and registration
    date. None for a reminder of another kind, without a registration date, or when the
    policy plans no further inspection."""
    registered = current.params.get("registered_on")
    base, sep, years = current.key.rpartition(INSPECTION_KEY)
    count = years.removesuffix("y")
    if (
        current.kind is not ReminderKind.LICENCE_INSPECTION
        or registered is None
        or not sep
        or not count.isdigit()
    ):
        return None
    year = next_inspection_year(int(count), policy)
    if year is None:
        return None
    return _inspection(current, base, current.related, date.fromisoformat(registered), year, policy)


# -- driving licence -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    """A driver's licence expiry, checked on the day of a test drive (TestDriveCompleted)."""

    dealer_id: str
    customer_id: UUID
    valid_until: date


def licence_renewal_prefix(customer_id: UUID) -> str:
    """Key prefix of the customer's licence-renewal reminders (one per expiry date)."""
    return f"customer:{customer_id}:licence-renewal@"


def plan_licence_renewal(
    licence: LicenceFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The driving-licence renewal reminder (驾驶证换证, renewable within 90 days before
    expiry): ``owner_care.licence_remind_before`` before the expiry at
    ``contact.reminder_send_time``, at once (out of quiet hours) when that moment has
    passed; none for a licence expired already. Keyed by the customer and the expiry: a
    later drive with the same licence plans nothing more, a renewed licence a new one."""
    calendar = BusinessCalendar(policy)
    if licence.valid_until < calendar.local(now).date():
        return []
    remind_on = licence.valid_until - policy.owner_care.licence_remind_before
    send_at = max(calendar.at_local(remind_on, policy.contact.reminder_send_time), now)
    return [
        PlannedReminder(
            key=f"{licence_renewal_prefix(licence.customer_id)}{licence.valid_until.isoformat()}",
            kind=ReminderKind.LICENCE_RENEWAL,
            dealer_id=licence.dealer_id,
            customer_id=licence.customer_id,
            send_at=calendar.next_allowed_send_time(send_at),
            purpose=ConsentPurpose.SERVICE,
            related=RecordRef(RecordKind.CUSTOMER, str(licence.customer_id)),
            params={"licence_valid_until": licence.valid_until.isoformat()},
        )
    ]
