"""The service-center HTTP API (/v1): thin endpoints, one use case in one transaction each.

Every endpoint validates the body, builds the use case's command and answers with the
repair order (``RepairOrderDetail.of``); domain exceptions become problems through the
service's PROBLEMS map. Every POST takes an ``Idempotency-Key``: a retry with the same
key and body is answered with the repair order and does nothing again.

Every route declares who may call it (``allow``; the OpenAPI lists them as ``x-roles``):
the repair order's steps are the service advisors' and the service manager's; a DMS
(``integration``) may also check vehicles in; every staff member of the dealer, and a
DMS, may read its repair orders. Where a step records who did it (advisor, technician,
inspector) and the body names nobody, it is the caller (the token's subject).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from dealerflow.contracts.types import DEALER_ID_PATTERN, Vin
from dealerflow.runtime.auth import STAFF, Principal, Role, allow
from dealerflow.runtime.http import Responses, problem_doc, step_routes
from dealerflow.runtime.idempotency import (
    IdempotencyKeyHeader,
    request_of,
)
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, page_of
from dealerflow.runtime.request_models import money_of
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.service_center import (
    usecases,
    usecases_detailing,
    usecases_repair,
    usecases_vehicles,
    usecases_workshop,
)
from dealerflow.service_center.domain import QuoteLine, RepairOrderStatus
from dealerflow.service_center.schemas import (
    CompleteIn,
    CustomerIn,
    DecisionIn,
    DetailingIn,
    DiagnosisIn,
    HandoverIn,
    OpenRepairOrderIn,
    QualityCheckIn,
    RepairOrderDetail,
    RepairOrderSummary,
    RepairQuoteIn,
    VehicleHistoryOut,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import Customer

router = APIRouter(prefix="/v1", tags=["repair orders"])

Ctx = Annotated[ServiceContext[ServiceCenterSettings], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]


STEP: Responses = {
    404: problem_doc("No such repair order at this dealer"),
    409: problem_doc("Illegal in the repair order's current state (reason given)"),
    422: problem_doc("Invalid request or broken business rule (errors listed)"),
}

#: The repair order's steps: the service advisors and the service manager.
WORKSHOP = (Role.ADVISOR, Role.SERVICE_MANAGER)
#: Reads of the dealer's repair orders: every staff role and a DMS.
READERS = (*STAFF, Role.INTEGRATION)
#: The handler parameter of a step that records who did it.
WorkshopCaller = Annotated[Principal, allow(*WORKSHOP)]

_step = step_routes(
    router, "/repair-orders/{repair_order_id}", response_model=RepairOrderDetail, responses=STEP
)


def customer_of(customer: CustomerIn) -> Customer:
    return Customer(
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        wechat_openid=customer.wechat_openid,
        preferred_channel=customer.preferred_channel,
        consent=customer.consent,
        locale=customer.locale,
    )


@router.post(
    "/repair-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=RepairOrderDetail,
    responses={422: STEP[422], 409: STEP[409]},
    summary="Check a vehicle in (RepairOrderOpened)",
)
async def open_repair_order(
    body: OpenRepairOrderIn,
    response: Response,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*WORKSHOP, Role.INTEGRATION)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    """A DMS (integration) may open repair orders checked in there. The advisor is
    ``advisor_id`` of the body, or the caller (the token's subject) when it names none."""
    cmd = usecases.OpenRepairOrder(
        dealer_id=body.dealer_id,
        repair_order_id=body.repair_order_id,
        customer_id=body.customer_id,
        dealer_group=body.dealer_group,
        customer=customer_of(body.customer) if body.customer is not None else None,
        service_appointment_id=body.service_appointment_id,
        vin=body.vin,
        model=body.model,
        advisor_id=body.advisor_id or principal.subject,
        mileage_km=body.mileage_km,
        concerns=tuple(body.concerns),
        concern_codes=tuple(body.concern_codes) if body.concern_codes is not None else None,
        walk_around_findings=tuple(body.walk_around_findings),
        work_type=body.work_type,
        warranty_start_on=body.warranty_start_on,
        request=request_of(idempotency_key, body, body.repair_order_id),
    )
    opened = await ctx.run_in_transaction(lambda uc: usecases.open_repair_order(uc, cmd))
    # 201 for a new repair order, 200 when a retry returns the existing one.
    response.status_code = status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK
    return RepairOrderDetail.of(opened.details)


@router.get(
    "/repair-orders",
    response_model=Page[RepairOrderSummary],
    dependencies=[allow(*READERS)],
)
async def list_repair_orders(
    dealer_id: DealerQuery,
    ctx: Ctx,
    status_: Annotated[RepairOrderStatus | None, Query(alias="status")] = None,
    vin: str | None = None,
    advisor_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[RepairOrderSummary]:
    query = usecases.ListRepairOrders(
        dealer_id=dealer_id,
        status=status_,
        vin=vin,
        advisor_id=advisor_id,
        customer_id=customer_id,
        opened_from=opened_from,
        opened_to=opened_to,
        after=decode_cursor(cursor, datetime, uuid.UUID),
        limit=limit,
    )
    found = await ctx.run_in_transaction(lambda uc: usecases.list_repair_orders(uc, query))
    page, next_cursor = page_of(found, limit, lambda ro: (ro.opened_at, ro.id))
    return Page[RepairOrderSummary](
        items=[RepairOrderSummary.of(ro) for ro in page], next_cursor=next_cursor
    )


@router.get(
    "/repair-orders/{repair_order_id}",
    response_model=RepairOrderDetail,
    responses={404: STEP[404]},
    dependencies=[allow(*READERS)],
)
async def get_repair_order(
    repair_order_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> RepairOrderDetail:
    details = await ctx.run_in_transaction(
        lambda uc: usecases.get_repair_order(uc, dealer_id, repair_order_id)
    )
    return RepairOrderDetail.of(details)


@_step("diagnosis", "Record the diagnosis (DiagnosisCompleted)")
async def diagnose(
    repair_order_id: uuid.UUID,
    body: DiagnosisIn,
    ctx: Ctx,
    principal: WorkshopCaller,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    """The technician is ``technician_id`` of the body, or the caller when it names none."""
    cmd = usecases_repair.RecordDiagnosis(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        technician_id=body.technician_id or principal.subject,
        findings=tuple(body.findings),
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_repair.record_diagnosis(uc, cmd))
    )


@_step("quote", "Quote parts and labour (RepairQuoted)", dependencies=[allow(*WORKSHOP)])
async def quote(
    repair_order_id: uuid.UUID,
    body: RepairQuoteIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    cmd = usecases_repair.QuoteRepair(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        lines=tuple(
            QuoteLine(
                item_id=line.item_id,
                kind=line.kind,
                description=line.description,
                labour_hours=line.labour_hours,
                part_number=line.part_number,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in body.lines
        ),
        labour_rate=body.labour_rate,
        currency=body.currency,
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_repair.quote_repair(uc, cmd))
    )


@_step(
    "approve",
    "The customer's decision (RepairApproved, RepairItemDeclined)",
    dependencies=[allow(*WORKSHOP)],
)
async def approve(
    repair_order_id: uuid.UUID,
    body: DecisionIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    cmd = usecases_repair.RecordDecision(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        approved_item_ids=tuple(body.approved_item_ids),
        declined_item_ids=tuple(body.declined_item_ids),
        method=body.method,
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_repair.record_decision(uc, cmd))
    )


@_step("complete", "Work done (RepairCompleted)", dependencies=[allow(*WORKSHOP)])
async def complete(
    repair_order_id: uuid.UUID,
    body: CompleteIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    cmd = usecases_workshop.CompleteWork(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        technician_ids=tuple(body.technician_ids),
        work_summary=body.work_summary,
        labour_hours=body.labour_hours,
        completed_item_ids=None
        if body.completed_item_ids is None
        else tuple(body.completed_item_ids),
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_workshop.complete_work(uc, cmd))
    )


@_step("quality-check", "Quality check after work (QualityCheckPassed / QualityCheckFailed)")
async def quality_check(
    repair_order_id: uuid.UUID,
    body: QualityCheckIn,
    ctx: Ctx,
    principal: WorkshopCaller,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    """The inspector is ``inspector_id`` of the body, or the caller when it names none."""
    cmd = usecases_workshop.RecordQualityCheck(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        inspector_id=body.inspector_id or principal.subject,
        passed=body.passed,
        reasons=tuple(body.reasons),
        reached_customer=body.reached_customer,
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_workshop.record_quality_check(uc, cmd))
    )


@_step(
    "handover",
    "Return the vehicle (VehicleHandedOver)",
    responses={
        409: problem_doc("Not ready: `missing` lists every blocker (quality check, work, ...)")
    },
    dependencies=[allow(*WORKSHOP)],
)
async def handover(
    repair_order_id: uuid.UUID,
    body: HandoverIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    cmd = usecases_workshop.HandOver(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        request=request_of(idempotency_key, body),
        mileage_km=body.mileage_km,
        amount_paid=money_of(body.amount_paid),
        invoice_number=body.invoice_number,
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_workshop.hand_over(uc, cmd))
    )


@router.put(
    "/repair-orders/{repair_order_id}/detailing",
    response_model=RepairOrderDetail,
    responses=STEP,
    dependencies=[allow(*WORKSHOP)],
    summary="Record what the customer was shown and authorised for detailing work",
)
async def put_detailing(
    repair_order_id: uuid.UUID, body: DetailingIn, ctx: Ctx
) -> RepairOrderDetail:
    """Detailing and accessory work (work type accessory_detailing): the standard hours and
    fee shown, the systems the work touches, the signed service contract (beyond a wash or
    simple install), the effects and risks explained and the customer's authorisation.
    Work on safety, power or braking is refused (422); the order's approval and completion
    answer 409 until nothing is missing (``detailing.problems``). Replaces an earlier
    record."""
    cmd = usecases_detailing.RecordDetailing(
        dealer_id=body.dealer_id,
        repair_order_id=repair_order_id,
        kind=body.kind,
        standard_hours=Decimal(body.standard_hours) if body.standard_hours is not None else None,
        fee=Decimal(body.fee.amount) if body.fee is not None else None,
        currency=body.fee.currency if body.fee is not None else None,
        affects=tuple(body.affects),
        service_contract_id=body.service_contract_id,
        risks_explained=body.risks_explained,
        customer_authorised=body.customer_authorised,
    )
    return RepairOrderDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_detailing.record_detailing(uc, cmd))
    )


vehicles_router = APIRouter(prefix="/v1", tags=["vehicles"])


@vehicles_router.get(
    "/vehicles/{vin}/history",
    response_model=VehicleHistoryOut,
    dependencies=[allow(*READERS)],
    summary="A vehicle's service history at the dealer",
)
async def get_vehicle_history(
    vin: Annotated[Vin, Path(description="The vehicle's VIN.")], dealer_id: DealerQuery, ctx: Ctx
) -> VehicleHistoryOut:
    """The vehicle's repair orders at the dealer (newest first), the work the customer
    declined and that is still open (offered again at the next visit), and the next
    maintenance the latest handover set (by date and mileage)."""
    history = await ctx.run_in_transaction(
        lambda uc: usecases_vehicles.vehicle_history(uc, dealer_id, vin)
    )
    return VehicleHistoryOut.of(dealer_id, history)
