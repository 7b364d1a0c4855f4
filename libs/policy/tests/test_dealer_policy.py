"""DealerPolicy defaults, overrides and quote helpers."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from dealerflow.policy import ClockMode, DealerPolicy, Weekday, policy_with_overrides


def test_defaults_are_the_domain_numbers() -> None:
    policy = DealerPolicy()
    assert policy.calendar.time_zone == "Asia/Shanghai"
    monday = policy.calendar.business_hours.for_weekday(Weekday.MON)
    assert [(i.opens, i.closes) for i in monday] == [(time(8, 30), time(18, 0))]
    assert policy.contact.quiet_hours_start == time(21, 0)
    assert policy.contact.quiet_hours_end == time(8, 0)
    assert policy.contact.marketing_cap == 2
    online = policy.leads.first_contact["online"]
    assert online.first_contact.duration == timedelta(minutes=15)
    assert online.first_contact.mode is ClockMode.BUSINESS_HOURS
    walk_in = policy.leads.first_contact["walk_in"]
    assert walk_in.thank_you_message is not None
    assert walk_in.thank_you_message.duration == timedelta(hours=2)
    assert walk_in.first_contact.duration == timedelta(hours=24)
    assert policy.leads.warn_at_fraction == 0.8
    assert policy.leads.reassign_after_breaches == 2
    assert {g: d.days for g, d in policy.leads.follow_up_every.items()} == {
        "H": 2,
        "A": 3,
        "B": 7,
        "C": 14,
    }
    assert policy.leads.hot_regrade_after == timedelta(days=7)
    assert policy.leads.appointment_reminders_before == [timedelta(hours=24), timedelta(hours=2)]
    care = policy.owner_care
    assert (care.callback_after_delivery, care.satisfaction_after_delivery) == (
        timedelta(hours=24),
        timedelta(days=7),
    )
    assert (care.first_maintenance_km, care.first_maintenance_months) == (5000, 6)
    assert care.first_maintenance_remind_before == timedelta(days=14)
    assert care.insurance_renewal_remind_before == timedelta(days=30)
    service = policy.service
    assert service.followup_after_handover == timedelta(days=3)
    assert service.unreachable_days_before_message == 5
    assert service.declined_item_followup_after == timedelta(days=30)
    assert (service.at_risk_after_months, service.lost_after_months) == (12, 24)
    complaints = policy.complaints
    assert complaints.sla["critical"].acknowledge.duration == timedelta(minutes=30)
    assert complaints.sla["critical"].resolve.duration == timedelta(hours=24)
    assert complaints.sla["high"].acknowledge.duration == timedelta(hours=2)
    assert complaints.sla["high"].resolve.duration == timedelta(days=3)
    assert complaints.sla["normal"].acknowledge.duration == timedelta(hours=24)
    assert complaints.sla["normal"].resolve.duration == timedelta(days=7)
    assert complaints.inform_customer.duration == timedelta(days=7)
    assert complaints.inform_customer.mode is ClockMode.WORKING_DAYS
    assert complaints.escalation_ladder == [
        "handler",
        "department_manager",
        "gm",
        "oem_region",
    ]
    assert complaints.survey_dissatisfied_max_score == 6
    assert complaints.repeat_repair_window == timedelta(days=30)
    assert policy.sales.purchase_tax_rate == Decimal("0.10")
    assert policy.sales.vat_rate == Decimal("0.13")


def test_overrides_merge_key_by_key_onto_defaults() -> None:
    policy = policy_with_overrides(
        {
            "calendar": {
                "time_zone": "Europe/Berlin",
                "holidays": ["2025-12-25"],
                "business_hours": {"sun": []},
            },
            "leads": {"follow_up_every": {"H": "P1D"}},
            "complaints": {"sla": {"high": {"acknowledge": {"duration": "PT1H"}}}},
        }
    )
    assert policy.calendar.time_zone == "Europe/Berlin"
    assert policy.calendar.holidays == frozenset({date(2025, 12, 25)})
    assert policy.calendar.business_hours.sun == []
    assert policy.calendar.business_hours.sat  # untouched weekday keeps its default
    assert policy.leads.follow_up_every["H"] == timedelta(days=1)
    assert policy.leads.follow_up_every["C"] == timedelta(days=14)
    high = policy.complaints.sla["high"]
    assert high.acknowledge.duration == timedelta(hours=1)
    assert high.acknowledge.mode is ClockMode.BUSINESS_HOURS  # sibling kept
    assert high.resolve.duration == timedelta(days=3)
    assert policy_with_overrides(None) == DealerPolicy()


def test_policy_round_trips_through_json() -> None:
    policy = policy_with_overrides({"calendar": {"holidays": ["2025-10-01", "2025-10-02"]}})
    assert DealerPolicy.model_validate_json(policy.model_dump_json()) == policy
    assert policy.model_dump(mode="json")["calendar"]["holidays"] == ["2025-10-01", "2025-10-02"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"contact": {"marketing_caps": 3}},
        {"calendar": {"time_zone": "Mars/Olympus"}},
        {"calendar": {"business_hours": {"mon": [{"opens": "18:00", "closes": "09:00"}]}}},
        {
            "calendar": {
                "business_hours": {
                    "mon": [
                        {"opens": "08:00", "closes": "12:00"},
                        {"opens": "11:00", "closes": "17:00"},
                    ]
                }
            }
        },
        {"complaints": {"inform_customer": {"duration": "PT36H", "mode": "working_days"}}},
        {"leads": {"warn_at_fraction": 1.5}},
        {"leads": {"follow_up_every": {"Z": "P1D"}}},
    ],
)
def test_invalid_overrides_are_rejected(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        policy_with_overrides(overrides)


def test_policy_is_immutable() -> None:
    policy = DealerPolicy()
    with pytest.raises(ValidationError):
        policy.contact = policy.contact  # type: ignore[misc]


def test_opening_interval_may_close_at_midnight() -> None:
    policy = policy_with_overrides(
        {"calendar": {"business_hours": {"fri": [{"opens": "20:00", "closes": "00:00"}]}}}
    )
    (evening,) = policy.calendar.business_hours.fri
    assert evening.closes_at_midnight


def test_lead_channels_map_to_first_contact_classes() -> None:
    leads = DealerPolicy().leads
    assert leads.class_of_channel("walk_in") == "walk_in"
    assert leads.class_of_channel("Walk-In") == "walk_in"
    assert leads.class_of_channel("inbound_call") == "phone"
    assert leads.class_of_channel("wechat") == "online"
    # A channel nobody configured gets the strictest SLA.
    assert leads.class_of_channel("carrier pigeon") == "online"
