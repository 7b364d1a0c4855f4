"""The plate-registration task after a delivery (domain_deliveries, pure)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_deliveries import plan_plate_registration
from dealerflow.notifier.domain_types import DeliveryFacts, RecordRef, StaffRole
from dealerflow.policy import DealerPolicy

CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000002")
DELIVERED = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def delivery(contract_id: str | None = "C-9") -> DeliveryFacts:
    return DeliveryFacts(
        "d1", CUSTOMER, "DL5", DELIVERED, consultant_id="c7", contract_id=contract_id
    )


def offering(**sales: object) -> DealerPolicy:
    policy = DealerPolicy()
    return policy.model_copy(update={"sales": policy.sales.model_copy(update=sales)})


def test_plate_registration_task_for_the_delivering_consultant_by_default() -> None:
    [task] = plan_plate_registration(delivery(), DealerPolicy())
    assert task.kind is TaskKind.PLATE_REGISTRATION
    assert task.key == "delivery:DL5:plate-registration"
    assert (task.assignee_role, task.assignee_id) == (StaffRole.CONSULTANT, "c7")
    assert task.related == RecordRef(RecordKind.CONTRACT, "C-9")
    assert task.due_at == DELIVERED.astimezone(UTC) + timedelta(days=3)
    assert task.due_at.tzinfo is UTC


def test_plate_registration_due_per_dealer() -> None:
    policy = offering(plate_registration_due_after=timedelta(hours=36))
    [task] = plan_plate_registration(delivery(), policy)
    assert task.due_at == DELIVERED.astimezone(UTC) + timedelta(hours=36)


def test_no_plate_registration_task_when_not_offered_or_without_contract() -> None:
    assert plan_plate_registration(delivery(), offering(plate_registration_assistance=False)) == []
    assert plan_plate_registration(delivery(contract_id=None), DealerPolicy()) == []
