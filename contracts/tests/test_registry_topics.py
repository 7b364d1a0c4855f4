"""Event registry and topic names."""

from __future__ import annotations

import pytest

from dealerflow.contracts.events import ALL_EVENTS, EVENTS_BY_CONTEXT, VehicleDelivered
from dealerflow.contracts.examples import EXAMPLES
from dealerflow.contracts.registry import EVENT_TYPES, event_class
from dealerflow.contracts.topics import (
    CONTEXTS,
    DEFAULT_PARTITIONS,
    TOPIC_CONFIGS,
    TopicRegistry,
    topic_config,
    topic_key,
)

CATALOGUE = {
    "leads": "LeadCreated LeadUpdated LeadGraded LeadAssigned LeadContacted AppointmentScheduled "
    "AppointmentRescheduled AppointmentCancelled AppointmentAttended AppointmentNoShow "
    "InvitationDeclined LeadLost LeadConverted LeadMerged LeadLostReviewed "
    "CustomerErasureRequested",
    "sales": "ShowroomVisitRecorded TestDriveScheduled TestDriveCompleted TestDriveCancelled "
    "QuoteIssued DiscountApprovalRequested DiscountApprovalDecided ContractSigned "
    "ContractAmended ContractCancelled "
    "PaymentReceived PaymentConfirmed LoanDecided RefundIssued InvoiceIssued DeliveryScheduled "
    "VehicleDelivered",
    "service": "ServiceAppointmentBooked ServiceAppointmentCancelled RepairOrderOpened "
    "DiagnosisCompleted RepairQuoted RepairApproved RepairItemDeclined PartsReserved "
    "PartStockLow PartStockReplenished RepairCompleted QualityCheckPassed QualityCheckFailed "
    "VehicleHandedOver "
    "MaintenanceDue CustomerAtRisk ServiceTierChanged",
    "complaints": "ComplaintOpened ComplaintAcknowledged ComplaintAssigned ComplaintEscalated "
    "ComplaintSlaBreached ComplaintResolved ComplaintReopened ComplaintClosed",
    "notifier": "TaskScheduled TaskDue TaskCompleted TaskCancelled ReminderScheduled "
    "NotificationSent NotificationFailed NotificationSuppressed SurveyResponded ConsentChanged "
    "CustomerTierChanged",
    "dealers": "DealerConfigured",
}


def test_registry_holds_exactly_the_catalogue() -> None:
    expected = {
        f"dealerflow.{context}.{name}.v1"
        for context, names in CATALOGUE.items()
        for name in names.split()
    }
    assert set(EVENT_TYPES) == expected
    assert len(ALL_EVENTS) == len(expected) == 70
    for context, names in CATALOGUE.items():
        assert [c.event_name for c in EVENTS_BY_CONTEXT[context]] == names.split()


def test_event_class_lookup() -> None:
    assert event_class("dealerflow.sales.VehicleDelivered.v1") is VehicleDelivered
    with pytest.raises(KeyError, match="unknown event type"):
        event_class("dealerflow.sales.VehicleDelivered.v2")


def test_topic_names() -> None:
    topics = TopicRegistry()
    assert CONTEXTS == ("leads", "sales", "service", "complaints", "notifier", "dealers")
    assert topics.name("sales") == "dealerflow.sales"
    assert topics.name("inbound.leads") == "dealerflow.inbound.leads"
    assert topics.dlq("dealerflow.sales") == "dealerflow.sales.dlq"
    assert topics.for_event(VehicleDelivered) == "dealerflow.sales"
    assert topics.for_event(EXAMPLES[VehicleDelivered]) == "dealerflow.sales"
    assert topics.all(include_dlq=False) == [
        "dealerflow.leads",
        "dealerflow.sales",
        "dealerflow.service",
        "dealerflow.complaints",
        "dealerflow.notifier",
        "dealerflow.dealers",
        "dealerflow.inbound.leads",
    ]
    assert len(topics.all()) == 14
    assert "dealerflow.inbound.leads.dlq" in topics.all()
    assert DEFAULT_PARTITIONS == 6
    with pytest.raises(ValueError, match="unknown context"):
        topics.name("billing")


def test_topic_prefix_is_configurable() -> None:
    topics = TopicRegistry("t1a2b3c4d.dealerflow.")
    assert topics.name("leads") == "t1a2b3c4d.dealerflow.leads"
    assert topics.context_of("t1a2b3c4d.dealerflow.inbound.leads") == "inbound.leads"
    with pytest.raises(ValueError, match="not a topic"):
        topics.context_of("dealerflow.leads")
    with pytest.raises(ValueError, match="illegal"):
        TopicRegistry("bad prefix ")


def test_only_the_dealers_topic_is_compacted() -> None:
    topics = TopicRegistry("t1.")
    assert set(TOPIC_CONFIGS) == {"dealers"}
    dealers = topics.config("t1.dealers")
    assert dealers["cleanup.policy"] == "compact"
    assert int(dealers["min.compaction.lag.ms"]) <= int(dealers["segment.ms"])
    assert "retention.ms" not in dealers  # compaction keeps every dealer's latest
    week, fortnight = str(7 * 24 * 3600 * 1000), str(14 * 24 * 3600 * 1000)
    # events and dead letters go after a stated time, not the broker's default
    assert topics.config("t1.dealers.dlq") == {"retention.ms": fortnight}
    assert topics.config("t1.sales") == topic_config("sales") == {"retention.ms": week}
    assert topics.config("t1.inbound.leads") == {"retention.ms": week}
    assert topics.config("t1.sales.dlq") == {"retention.ms": fortnight}
    configs = topics.configs()
    assert set(configs) == set(topics.all())
    assert configs["t1.dealers"] == dealers
    with pytest.raises(ValueError, match="not a topic"):
        topics.config("other.dealers")
    with pytest.raises(ValueError, match="unknown context"):
        topic_config("billing")


def test_the_dealers_topic_is_keyed_by_dealer_every_other_by_customer() -> None:
    for context, classes in EVENTS_BY_CONTEXT.items():
        expected = "dealer_id" if context == "dealers" else "customer_id"
        assert {cls.key_field for cls in classes} == {expected}, context
        assert topic_key(context) == expected
    with pytest.raises(ValueError, match="unknown context"):
        topic_key("inbound.leads")
