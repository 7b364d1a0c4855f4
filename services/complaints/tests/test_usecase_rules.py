"""Unit tests of the use-case logic outside domain.py: planning an opening and a breach,
trigger mapping, consent refresh, policy layering, fingerprints. No I/O.
(Cursors: libs/runtime/tests/test_pagination.py.)"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dealerflow.complaints.domain import (
    ComplaintAction,
    ComplaintStatus,
    IllegalTransition,
    PreviousRepair,
)
from dealerflow.complaints.problems import PROBLEMS
from dealerflow.complaints.records import ClockRecord, ClockStatus
from dealerflow.complaints.schemas import ComplaintIn
from dealerflow.complaints.usecases import NewComplaint, plan_opening, reopened_resolve_clock
from dealerflow.complaints.usecases_actions import HANDLING
from dealerflow.complaints.usecases_breach import plan_breach
from dealerflow.complaints.usecases_repairs import concerns_of, repeat_of
from dealerflow.complaints.usecases_triggers import (
    category_for_survey,
    category_for_task,
    department_for,
    origin_links,
    summary_text,
    verified_complaint,
)
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    Department,
    RecordKind,
    SlaClock,
    SurveyKind,
    TaskKind,
)
from dealerflow.contracts.contact import (
    ConsentSnapshot,
    ContactSnapshot,
    RelatedRecord,
    with_consent_change,
)
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.contracts.events.complaints import (
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintOrigin,
    ComplaintSlaBreached,
)
from dealerflow.contracts.events.service import RepairOrderOpened
from dealerflow.contracts.examples import example_for
from dealerflow.policy import (
    DealerPolicy,
    DealerSettings,
    merge_overrides,
    policy_with_overrides,
    settings_with_overrides,
)
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.idempotency import request_fingerprint

NOW = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)  # Wed 10:00 Shanghai
CID = str(uuid.UUID(int=7))
POLICY = DealerPolicy()
DEALER = DealerSettings(policy=POLICY)
CONTACT = ContactSnapshot(
    name="张伟", phone="+8613800138000", consent=ConsentSnapshot(service=True, marketing=False)
)


def new(**changes: object) -> NewComplaint:
    base = NewComplaint(
        dealer_id="sh-pudong-01",
        customer_id=uuid.UUID(int=7),
        channel=ComplaintChannel.HOTLINE,
        category=ComplaintCategory.AFTER_SALES_SERVICE,
        summary="Brake noise",
        contact=CONTACT,
        origin=ComplaintOrigin(kind=ComplaintOriginKind.MANUAL),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- opening -------------------------------------------------------------------------------


def test_opening_plans_four_clocks_and_an_event_with_their_deadlines() -> None:
    complaint, clocks, event = plan_opening(new(), NOW, POLICY, "cr:sh-pudong-01")
    assert complaint.severity == "normal"
    assert complaint.handler_id == "cr:sh-pudong-01"
    assert [c.kind for c in clocks] == [
        SlaClock.ACKNOWLEDGE,
        SlaClock.FIRST_UPDATE,
        SlaClock.RESOLVE,
        SlaClock.INFORM,
    ]
    assert all(c.status == ClockStatus.RUNNING for c in clocks)
    assert [c.timer_key for c in clocks] == [
        f"complaint:{complaint.id}:clock:{kind}:0.0"
        for kind in ("acknowledge", "first_update", "resolve", "inform")
    ]
    assert isinstance(event, ComplaintOpened)
    assert event.acknowledge_due_at == clocks[0].due_at
    assert event.first_update_due_at == clocks[1].due_at
    assert event.resolve_due_at == clocks[2].due_at
    assert event.complaint_id == str(complaint.id)
    assert event.contact == CONTACT
    assert event.opened_at == NOW


def test_opening_takes_media_channel_or_safety_as_critical_and_keeps_a_client_id() -> None:
    client_id = uuid.uuid4()
    complaint, clocks, _ = plan_opening(
        new(channel=ComplaintChannel.MEDIA, complaint_id=client_id), NOW, POLICY, "h"
    )
    assert complaint.id == client_id
    assert complaint.severity == "critical"
    assert clocks[0].due_at == NOW + timedelta(minutes=30)
    safety, _, _ = plan_opening(new(safety=True), NOW, POLICY, "h")
    assert safety.severity == "critical"
    chosen, _, _ = plan_opening(new(severity="high", safety=False), NOW, POLICY, "h")
    assert chosen.severity == "high"


# -- breach --------------------------------------------------------------------------------


def _planned(severity: str = "critical") -> tuple[object, list[ClockRecord]]:
    complaint, clocks, _ = plan_opening(new(severity=severity), NOW, POLICY, "h")
    return complaint, clocks


def test_first_breach_escalates_to_the_department_manager_and_rearms() -> None:
    complaint, clocks = _planned()
    ack = clocks[0]
    at = NOW + timedelta(minutes=31)
    plan = plan_breach(complaint, ack, at, DEALER)  # type: ignore[arg-type]
    breached, escalated = plan.events
    assert isinstance(breached, ComplaintSlaBreached)
    assert breached.due_at == ack.due_at
    assert breached.breached_at == at
    assert isinstance(escalated, ComplaintEscalated)
    assert (escalated.level, escalated.to_role) == (1, "department_manager")
    assert escalated.to_staff_id == "department-manager:sh-pudong-01"  # nobody configured
    assert plan.escalation_level == 1
    assert plan.rearmed
    assert plan.clock.status == ClockStatus.RUNNING
    assert plan.clock.attempt == 1
    assert plan.clock.due_at == at + timedelta(minutes=30)
    assert plan.clock.timer_key == f"complaint:{complaint.id}:clock:acknowledge:0.1"  # type: ignore[attr-defined]
    assert plan.clock.first_due_at == ack.first_due_at
    assert plan.clock.breaches == 1


def test_breach_at_the_top_of_the_ladder_leaves_the_clock_overdue() -> None:
    complaint, clocks = _planned()
    at_gm = replace(complaint, escalation_level=2)  # type: ignore[type-var]
    plan = plan_breach(at_gm, clocks[1], NOW + timedelta(days=2), DEALER)
    assert [type(e).__name__ for e in plan.events] == ["ComplaintSlaBreached", "ComplaintEscalated"]
    assert plan.escalation_level == 3
    assert not plan.rearmed
    assert plan.clock.status == ClockStatus.OVERDUE
    assert plan.clock.timer_key is None

    at_top = replace(complaint, escalation_level=3)  # type: ignore[type-var]
    plan = plan_breach(at_top, clocks[2], NOW + timedelta(days=20), DEALER)
    assert [type(e).__name__ for e in plan.events] == ["ComplaintSlaBreached"]
    assert plan.escalation_level == 3


def test_a_short_dealer_ladder_stops_escalating_earlier() -> None:
    short = {"complaints": {"escalation_ladder": ["handler", "department_manager"]}}
    dealer = settings_with_overrides({"policy": short})
    complaint, clocks = _planned()
    plan = plan_breach(complaint, clocks[0], NOW + timedelta(hours=1), dealer)  # type: ignore[arg-type]
    assert plan.escalation_level == 1
    assert not plan.rearmed  # no rung left above the department manager


def test_an_escalation_goes_to_the_dealer_s_person_of_that_rung() -> None:
    complaint, clocks = _planned()
    at_manager = replace(complaint, escalation_level=1)  # type: ignore[type-var]
    staffed = settings_with_overrides(
        {"people": {"staff": [{"staff_id": "gm-zhang", "roles": ["gm"]}]}}
    )
    (_, to_gm) = plan_breach(at_manager, clocks[0], NOW + timedelta(hours=1), staffed).events
    assert isinstance(to_gm, ComplaintEscalated)
    assert (to_gm.to_role, to_gm.to_staff_id) == ("gm", "gm-zhang")
    (_, to_nobody) = plan_breach(at_manager, clocks[0], NOW + timedelta(hours=1), DEALER).events
    assert isinstance(to_nobody, ComplaintEscalated)
    assert to_nobody.to_staff_id == "gm:sh-pudong-01"


def test_reopening_arms_a_resolve_clock_with_its_own_key() -> None:
    complaint, _ = _planned("normal")
    reopened = replace(complaint, reopen_count=1)  # type: ignore[type-var]
    clock = reopened_resolve_clock(reopened, NOW, POLICY)
    assert clock.kind == SlaClock.RESOLVE
    assert clock.reopen_count == 2
    assert clock.timer_key == f"complaint:{complaint.id}:clock:resolve:2.0"  # type: ignore[attr-defined]
    assert clock.timer_prefix == f"complaint:{complaint.id}:clock:resolve:2."  # type: ignore[attr-defined]


# -- triggers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "related", "expected"),
    [
        (TaskKind.DELIVERY_CALLBACK, None, ComplaintCategory.SALES_SERVICE),
        (TaskKind.SERVICE_CALLBACK, None, ComplaintCategory.AFTER_SALES_SERVICE),
        (
            TaskKind.OTHER,
            RelatedRecord(kind=RecordKind.REPAIR_ORDER, id="ro-1"),
            ComplaintCategory.AFTER_SALES_SERVICE,
        ),
        (TaskKind.OTHER, None, ComplaintCategory.OTHER),
    ],
)
def test_category_of_a_dissatisfied_task(
    kind: TaskKind, related: RelatedRecord | None, expected: ComplaintCategory
) -> None:
    assert category_for_task(kind, related) is expected


def test_category_of_a_survey_and_departments() -> None:
    assert category_for_survey(SurveyKind.SERVICE_SATISFACTION) is (
        ComplaintCategory.AFTER_SALES_SERVICE
    )
    contract = RelatedRecord(kind=RecordKind.CONTRACT, id="ct-1")
    assert category_for_survey(SurveyKind.OTHER, contract) is ComplaintCategory.SALES_SERVICE
    assert department_for(ComplaintCategory.OTHER) is Department.CUSTOMER_RELATIONS
    assert origin_links(contract) == {"contract_id": "ct-1"}
    assert origin_links(RelatedRecord(kind=RecordKind.DELIVERY, id="d")) == {}


def test_only_verifications_about_a_complaint_point_at_one() -> None:
    cid = uuid.uuid4()
    about = RelatedRecord(kind=RecordKind.COMPLAINT, id=str(cid))
    assert verified_complaint(True, about) == cid
    assert verified_complaint(False, about) is None
    assert verified_complaint(True, RelatedRecord(kind=RecordKind.COMPLAINT, id="x")) is None
    assert verified_complaint(True, RelatedRecord(kind=RecordKind.LEAD, id=str(cid))) is None


def test_consent_changes_on_a_stored_snapshot() -> None:
    stored = CONTACT
    service, marketing, sms = ConsentPurpose.SERVICE, ConsentPurpose.MARKETING, MessageChannel.SMS
    no_marketing = with_consent_change(stored, purpose=service, channel=None, granted=False)
    assert no_marketing.consent.service is False
    no_sms = with_consent_change(stored, purpose=marketing, channel=sms, granted=False)
    assert no_sms.consent.opted_out_channels == ["sms"]
    assert no_sms.consent.marketing is False
    sms_again = with_consent_change(no_sms, purpose=marketing, channel=sms, granted=True)
    assert sms_again.consent.opted_out_channels == []
    assert sms_again.consent.marketing is True
    ContactSnapshot.model_validate(sms_again.model_dump())  # still a valid snapshot
    assert stored.consent.service is True  # input untouched


def test_summary_is_cut_to_the_contract_length() -> None:
    assert summary_text("a  b\n c") == "a b c"
    long = summary_text("x" * 600)
    assert len(long) == 500
    assert long.endswith("…")


# -- policy, cursors, fingerprints ---------------------------------------------------------


def test_policy_layers_merge_deeply_and_later_wins() -> None:
    env = {"complaints": {"survey_dissatisfied_max_score": 5, "inform_clock_pausable": True}}
    dealer = {"complaints": {"survey_dissatisfied_max_score": 4}}
    policy = settings_with_overrides({"policy": env}, {"policy": dealer}).policy
    assert policy.complaints.survey_dissatisfied_max_score == 4
    assert policy.complaints.inform_clock_pausable is True
    assert merge_overrides({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


@pytest.mark.parametrize(
    "overrides",
    [
        {"complaints": {"unknown": 1}},
        {"complaints": {"escalation_ladder": ["handler", "gm"]}},
        {"complaints": {"escalation_ladder": ["handler", "department_manager", "ceo"]}},
    ],
)
def test_invalid_policies_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        policy_with_overrides(overrides)


def test_fingerprint_ignores_key_order_only() -> None:
    body = {"dealer_id": "d-1", "channel": "hotline", "category": "other", "summary": "a"}
    reordered = dict(reversed(body.items()))

    def fingerprint(raw: dict[str, object]) -> str:
        return request_fingerprint(ComplaintIn.model_validate({**raw, "customer_id": CID}))

    assert fingerprint(body) == fingerprint(reordered)
    assert fingerprint(body) != fingerprint({**body, "summary": "b"})


def test_invalid_service_wide_overrides_fail_at_start_up() -> None:
    with pytest.raises(ValidationError):
        EnvironmentDealerConfiguration({"complaints": {"escalation_ladder": ["handler", "gm"]}})
    EnvironmentDealerConfiguration({"complaints": {"survey_dissatisfied_max_score": 5}})


def test_an_illegal_transition_is_a_409_naming_status_and_action() -> None:
    exc = IllegalTransition(ComplaintStatus.OPENED, ComplaintAction.RESOLVE)
    body = PROBLEMS[IllegalTransition].problem(exc).to_body()
    assert body["status"] == 409
    assert body["type"].endswith("/illegal-transition")
    assert body["action"] == "resolve"
    assert body["detail"].startswith("cannot resolve a complaint that is opened")


def test_handling_statuses() -> None:
    assert {s.value for s in HANDLING} == {"opened", "acknowledged", "reopened"}


# -- repeat repairs ------------------------------------------------------------------------


def test_repeat_repair_compares_codes_and_concerns_within_the_window() -> None:
    opened = example_for(RepairOrderOpened).model_copy(
        update={"concern_codes": ["BRK-01"], "concerns": ["Squeaky brakes"], "opened_at": NOW}
    )
    assert concerns_of(opened) == ["BRK-01", "Squeaky brakes"]
    vin = opened.vin
    earlier = [
        PreviousRepair("ro-old", vin, "brk-01", NOW - timedelta(days=40)),
        PreviousRepair("ro-recent", vin, "BRK 01", NOW - timedelta(days=5)),
        PreviousRepair("ro-other-car", "LSVAU2180N2183294", "BRK-01", NOW - timedelta(days=1)),
    ]
    concern, found = repeat_of(opened, earlier, POLICY) or ("", None)
    assert concern == "BRK-01"
    assert found is not None
    assert found.repair_order_id == "ro-recent"
    assert repeat_of(opened, earlier[:1], POLICY) is None  # 40 days: outside 30
    longer = policy_with_overrides({"complaints": {"repeat_repair_window": "P60D"}})
    assert repeat_of(opened, earlier[:1], longer) is not None
