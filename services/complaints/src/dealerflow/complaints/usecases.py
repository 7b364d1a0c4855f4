"""Use cases of the complaints service: opening a complaint (automatically, or recorded
by staff) and what the other use cases share.

Each takes the `UseCaseContext` of its transaction (``uc``: connection, "now", settings,
publish, timers, the dealer's policy) plus a command or plain data, applies the domain
rules, writes through the repositories and publishes events to the outbox, all in that
one transaction. Pure planning steps (`plan_*`) are separate so they can be unit-tested
without a database. Errors are domain exceptions (mapped to problems in `problems.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from dealerflow.complaints import (
    repository,
    repository_contacts,
    repository_pauses,
    repository_tiers,
    usecases_clocks,
)
from dealerflow.complaints.domain import (
    ComplaintAction,
    ComplaintStatus,
    clocks_stopped_by,
    default_severity,
    resolve_clock_on_reopen,
    sla_clocks,
    time_left,
    transition,
)
from dealerflow.complaints.domain_people import default_handler
from dealerflow.complaints.records import (
    ClockRecord,
    ClockStatus,
    ComplaintCase,
    ComplaintRecord,
)
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
    Department,
    SlaClock,
)
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import CustomerTier
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintOpened, ComplaintOrigin
from dealerflow.contracts.identity import customer_identity
from dealerflow.policy import DealerPolicy
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey

#: The use-case context of the complaints service.
Uc = UseCaseContext[ComplaintsSettings]

E = TypeVar("E", bound=DomainEvent)

#: A run of events of one class (a batch handler's, `batches`), each with the use-case
#: context of its own handling (``BatchContext.event_contexts()``: what it publishes is
#: caused by that event); one event alone is a run of one.
Run = Sequence[tuple[Uc, E]]


class ComplaintNotFound(LookupError):
    """No complaint with that id at that dealer."""

    def __init__(self, complaint_id: uuid.UUID) -> None:
        super().__init__(f"No complaint with id {complaint_id}")
        self.complaint_id = complaint_id


class RequestConflict(ValueError):
    """A client-chosen complaint id that another request (or dealer) has taken."""


class ActionNotAllowed(ValueError):
    """An action outside the status machine (pause, resume, assign) that the complaint's
    current state does not allow."""


class ContactUnknown(LookupError):
    """No contact snapshot is known for the customer a complaint is about."""


# -- staff requests: once per Idempotency-Key ------------------------------------------------


@dataclass(frozen=True)
class Handled:
    """What a staff request is answered with: the complaint as it is now, and whether the
    request was a retry answered from the first one (nothing done)."""

    case: ComplaintCase
    replayed: bool = False


# -- opening ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewComplaint:
    """A complaint to open, from staff (API) or an automatic trigger."""

    dealer_id: str
    customer_id: uuid.UUID
    channel: ComplaintChannel
    category: ComplaintCategory
    summary: str
    contact: ContactSnapshot
    origin: ComplaintOrigin
    severity: ComplaintSeverity | None = None
    safety: bool = False
    injury: bool = False
    details: str | None = None
    handler_id: str | None = None
    department: str | None = None
    vin: str | None = None
    #: unique trigger reference of an automatic complaint ("task:<id>", ...)
    origin_ref: str | None = None
    complaint_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Opened:
    """Result of `open_complaint`: the complaint and whether this call created it."""

    complaint: ComplaintRecord
    created: bool


def plan_opening(
    new: NewComplaint,
    now: datetime,
    policy: DealerPolicy,
    default_handler: str,
    tier: CustomerTier | None = None,
) -> tuple[ComplaintRecord, list[ClockRecord], ComplaintOpened]:
    """The complaint row, its four armed clocks (shortened by the customer's ``tier``;
    None: regular) and the ComplaintOpened event."""
    tier = tier or CustomerTier.REGULAR
    severity = (
        ComplaintSeverity(new.severity)
        if new.severity
        else default_severity(
            new.channel, safety=new.safety, injury=new.injury, origin=new.origin.kind
        )
    )
    complaint_id = new.complaint_id or uuid.uuid4()
    complaint = ComplaintRecord(
        id=complaint_id,
        dealer_id=new.dealer_id,
        customer_id=new.customer_id,
        status=ComplaintStatus.OPENED,
        channel=new.channel.value,
        category=new.category.value,
        severity=severity.value,
        summary=new.summary,
        details=new.details,
        handler_id=new.handler_id or default_handler,
        department=new.department,
        vin=new.vin,
        origin_kind=new.origin.kind.value,
        origin_ref=new.origin_ref,
        origin=new.origin.model_dump(mode="json", exclude_none=True),
        contact=new.contact.model_dump(mode="json"),
        opened_at=now,
        customer_tier=tier.value,
    )
    clocks = [
        ClockRecord.armed(complaint_id, new.dealer_id, clock)
        for clock in sla_clocks(severity.value, now, policy, tier.value)
    ]
    due = {c.kind: c.due_at for c in clocks}
    event = ComplaintOpened(
        dealer_id=new.dealer_id,
        customer_id=new.customer_id,
        occurred_at=now,
        complaint_id=str(complaint_id),
        channel=new.channel,
        category=new.category,
        severity=severity,
        summary=new.summary,
        details=new.details,
        handler_id=complaint.handler_id,
        department=Department(new.department) if new.department else None,
        vin=new.vin,
        origin=new.origin,
        acknowledge_due_at=due[SlaClock.ACKNOWLEDGE],
        resolve_due_at=due[SlaClock.RESOLVE],
        opened_at=now,
        contact=new.contact,
        first_update_due_at=due[SlaClock.FIRST_UPDATE],
        customer_tier=tier,
    )
    return complaint, clocks, event


async def open_complaint(uc: Uc, new: NewComplaint) -> Opened:
    """Open a complaint: row + clocks (timers) + ComplaintOpened, once per trigger
    (`origin_ref`): a repeat returns the complaint the trigger opened."""
    dealer = await uc.dealer(new.dealer_id)
    handler = default_handler(dealer, new.dealer_id, dealer.local_today(uc.now))
    tier = await repository_tiers.tier_of(uc.conn, new.dealer_id, new.customer_id)
    complaint, clocks, event = plan_opening(
        new, uc.now, dealer.policy, handler, CustomerTier(tier) if tier else None
    )
    if not await repository.insert_complaint(uc.conn, complaint):
        return Opened(await _existing(uc, new), created=False)
    await usecases_clocks.arm(uc.conn, clocks)
    await repository.add_history(
        uc.conn,
        dealer_id=new.dealer_id,
        complaint_id=complaint.id,
        action="opened",
        actor=complaint.handler_id,
        at=uc.now,
        details={"channel": complaint.channel, "severity": complaint.severity},
    )
    await uc.publish(event)
    return Opened(complaint, created=True)


async def _existing(uc: Uc, new: NewComplaint) -> ComplaintRecord:
    """The complaint an insert conflicted with: the one its trigger opened before. A
    client-chosen id taken by another request (another key, another dealer) is refused."""
    if new.origin_ref is not None:
        found = await repository.find_by_origin(uc.conn, new.dealer_id, new.origin_ref)
        if found is not None:
            return found
    if new.complaint_id is not None:
        raise RequestConflict(f"complaint id {new.complaint_id} is already taken")
    raise RuntimeError("complaint insert conflicted with no visible complaint")


@dataclass(frozen=True)
class RecordComplaint:
    """A complaint staff record (POST /v1/complaints). Without a ``contact`` the one known
    for ``customer_id`` is taken; without a ``customer_id`` it follows from the contact
    by the contracts' identity rule (in ``dealer_group``, default: the settings')."""

    dealer_id: str
    channel: ComplaintChannel
    category: ComplaintCategory
    summary: str
    contact: ContactSnapshot | None = None
    customer_id: uuid.UUID | None = None
    dealer_group: str | None = None
    severity: ComplaintSeverity | None = None
    safety: bool = False
    injury: bool = False
    details: str | None = None
    handler_id: str | None = None
    department: Department | None = None
    vin: str | None = None
    repair_order_id: str | None = None
    contract_id: str | None = None
    complaint_id: uuid.UUID | None = None
    request: RequestKey | None = None


async def record_complaint(uc: Uc, cmd: RecordComplaint) -> Handled:
    """Open a complaint staff recorded, once per Idempotency-Key or client-chosen id: a
    retry is answered with the complaint the first request opened."""
    complaint_id = cmd.complaint_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="complaints", resource_id=complaint_id
    )
    if earlier is not None:
        return Handled(await complaint_case(uc, cmd.dealer_id, earlier), replayed=True)
    contact = cmd.contact or await _known_contact(uc, cmd.dealer_id, cmd.customer_id)
    if cmd.customer_id is None and not (contact.phone or contact.email):
        raise ContactUnknown("customer_id is required when the contact has no phone or e-mail")
    customer_id, _ = customer_identity(
        cmd.dealer_group or uc.settings.default_dealer_group,
        phone=contact.phone,
        email=contact.email,
        customer_id=cmd.customer_id,
    )
    links = {"repair_order_id": cmd.repair_order_id, "contract_id": cmd.contract_id}
    new = NewComplaint(
        dealer_id=cmd.dealer_id,
        customer_id=customer_id,
        channel=cmd.channel,
        category=cmd.category,
        summary=cmd.summary,
        contact=contact,
        origin=ComplaintOrigin(kind=ComplaintOriginKind.MANUAL, **links),
        severity=cmd.severity,
        safety=cmd.safety,
        injury=cmd.injury,
        details=cmd.details,
        handler_id=cmd.handler_id,
        department=cmd.department.value if cmd.department else None,
        vin=cmd.vin,
        complaint_id=complaint_id,
    )
    opened = await open_complaint(uc, new)
    return Handled(await case_of(uc, opened.complaint))


async def _known_contact(uc: Uc, dealer_id: str, customer_id: uuid.UUID | None) -> ContactSnapshot:
    stored = (
        await repository_contacts.contact_of(uc.conn, dealer_id, customer_id)
        if customer_id is not None
        else None
    )
    if stored is None:
        raise ContactUnknown(
            f"customer {customer_id} has no known contact at {dealer_id}: give the contact"
        )
    return stored


# -- shared by the actions and the reads -----------------------------------------------------


async def load_for_update(uc: Uc, dealer_id: str, complaint_id: uuid.UUID) -> ComplaintRecord:
    """The dealer's complaint, locked (after its timers, see `lock_complaint_timers`);
    `ComplaintNotFound` otherwise."""
    await repository.lock_complaint_timers(uc.conn, dealer_id, complaint_id)
    complaint = await repository.get_complaint(uc.conn, dealer_id, complaint_id, for_update=True)
    if complaint is None:
        raise ComplaintNotFound(complaint_id)
    return complaint


async def reload(uc: Uc, dealer_id: str, complaint_id: uuid.UUID) -> ComplaintRecord:
    """The dealer's complaint as this transaction now sees it."""
    complaint = await repository.get_complaint(uc.conn, dealer_id, complaint_id)
    if complaint is None:
        raise ComplaintNotFound(complaint_id)
    return complaint


async def case_of(uc: Uc, complaint: ComplaintRecord) -> ComplaintCase:
    """The complaint with every clock, its history and pauses, and the time left now of
    each clock still open (running, paused or overdue), as the clock counts."""
    dealer_id = complaint.dealer_id
    clocks = await repository.clocks_of(uc.conn, dealer_id, complaint.id)
    history = await repository.history_of(uc.conn, dealer_id, complaint.id)
    pauses = await repository_pauses.pauses_of(uc.conn, dealer_id, complaint.id)
    policy = await uc.policy(dealer_id)
    left = {
        c.label: time_left(c.to_domain(), uc.now, policy)
        for c in clocks
        if c.status in ClockStatus.OPEN
    }
    return ComplaintCase(complaint, clocks, history, pauses, left, uc.now)


async def complaint_case(uc: Uc, dealer_id: str, complaint_id: uuid.UUID) -> ComplaintCase:
    """The dealer's complaint with every clock and its history; `ComplaintNotFound`."""
    return await case_of(uc, await reload(uc, dealer_id, complaint_id))


def next_status(complaint: ComplaintRecord, action: ComplaintAction) -> ComplaintStatus:
    """The status after ``action`` (raises the domain's `IllegalTransition`)."""
    return transition(complaint.status, action)


def reopened_resolve_clock(
    complaint: ComplaintRecord, now: datetime, policy: DealerPolicy
) -> ClockRecord:
    """The fresh resolve clock of a complaint being reopened (of the customer's tier when
    it was opened)."""
    clock = resolve_clock_on_reopen(
        complaint.severity, now, complaint.reopen_count + 1, policy, complaint.customer_tier
    )
    return ClockRecord.armed(complaint.id, complaint.dealer_id, clock)


def stopped_kinds(action: ComplaintAction) -> frozenset[SlaClock]:
    """The clocks an action satisfies."""
    return clocks_stopped_by(action)
