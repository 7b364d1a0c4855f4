"""Detailing and accessory work (handbook 10.2): before the work starts, the advisor
records what the customer was shown (standard hours, fee) and authorised (a service
contract for anything beyond a wash or simple install, effects and risks explained, the
customer's authorisation). Work that would modify safety, power or braking is refused
outright. A detailing repair order's approval and completion wait for a clean record
(rules: ``domain_repair.detailing_work_problems``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_detailing as detailing_repo
from dealerflow.service_center.domain import DetailingJob, DetailingKind, VehicleSystem
from dealerflow.service_center.records import (
    DetailingRecord,
    RepairOrderDetails,
    RepairOrderRecord,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import RepairOrderNotFound, get_repair_order

Uc = UseCaseContext[ServiceCenterSettings]


class NotDetailingWork(Exception):
    """A detailing authorisation for a repair order that is not detailing work."""


class DetailingRefused(Exception):
    """Detailing or accessory work that would modify safety, power or braking."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DetailingNotAuthorised(Exception):
    """Detailing work may not start: what is missing is listed."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("detailing work may not start yet: " + "; ".join(problems))
        self.problems = problems


def job_of(record: DetailingRecord) -> DetailingJob:
    return DetailingJob(
        kind=DetailingKind(record.kind),
        standard_hours=record.standard_hours,
        fee=record.fee,
        affects=frozenset(VehicleSystem(s) for s in record.affects),
        service_contract_signed=record.service_contract_id is not None,
        risks_explained=record.risks_explained,
        customer_authorised=record.customer_authorised,
    )


@dataclass(frozen=True, kw_only=True)
class RecordDetailing:
    dealer_id: str
    repair_order_id: uuid.UUID
    kind: DetailingKind
    standard_hours: Decimal | None
    fee: Decimal | None
    currency: str | None
    affects: tuple[VehicleSystem, ...]
    service_contract_id: str | None
    risks_explained: bool
    customer_authorised: bool


async def record_detailing(uc: Uc, cmd: RecordDetailing) -> RepairOrderDetails:
    """Record what the customer was shown and authorised (replacing an earlier record);
    refused at once for work on safety, power or braking (nothing is recorded)."""
    ro = await repo.get_repair_order(uc.conn, cmd.dealer_id, cmd.repair_order_id, for_update=True)
    if ro is None:
        raise RepairOrderNotFound(cmd.repair_order_id)
    if ro.work_type is not ServiceWorkType.ACCESSORY_DETAILING:
        raise NotDetailingWork(f"repair order {ro.id} is {ro.work_type} work, not detailing")
    record = DetailingRecord(
        dealer_id=ro.dealer_id,
        repair_order_id=ro.id,
        kind=cmd.kind.value,
        standard_hours=cmd.standard_hours,
        fee=cmd.fee,
        currency=cmd.currency,
        affects=tuple(s.value for s in cmd.affects),
        service_contract_id=cmd.service_contract_id,
        risks_explained=cmd.risks_explained,
        customer_authorised=cmd.customer_authorised,
        recorded_by=uc.actor,
        recorded_at=uc.now,
    )
    refused = tuple(
        p for p in domain.detailing_work_problems(job_of(record)) if p.startswith("refused")
    )
    if refused:
        raise DetailingRefused(refused)
    await detailing_repo.save_detailing(uc.conn, record)
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


async def require_detailing_authorised(uc: Uc, ro: RepairOrderRecord) -> None:
    """Detailing work starts (approval) and is done (completion) only with a clean record
    of what the customer was shown and authorised; other work passes."""
    if ro.work_type is not ServiceWorkType.ACCESSORY_DETAILING:
        return
    record = await detailing_repo.detailing_of(uc.conn, ro.dealer_id, ro.id)
    if record is None:
        raise DetailingNotAuthorised(
            ("record the detailing job and the customer's authorisation first",)
        )
    problems = domain.detailing_work_problems(job_of(record))
    if problems:
        raise DetailingNotAuthorised(problems)


def detailing_problems(record: DetailingRecord) -> tuple[str, ...]:
    """What still keeps the recorded detailing work from starting (empty: it may)."""
    return domain.detailing_work_problems(job_of(record))
