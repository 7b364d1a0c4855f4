"""Repair quote, customer approval, declined items, detailing rules.

A quote is parts plus labour (standard labour hours x the dealer's hourly rate). Work
starts only on what the customer approved; declined items are kept, followed up after 30
days (ServicePolicy.declined_item_followup_after) and shown again at the next booking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from dealerflow.contracts.enums import RepairItemKind
from dealerflow.contracts.events.service import RepairItem
from dealerflow.contracts.money import ZERO, MoneyInput, money, non_negative, round_money
from dealerflow.service_center.domain_order import BrokenRule


class RepairQuoteError(BrokenRule):
    """The quote lines are inconsistent; the message says why."""


class DecisionError(RepairQuoteError):
    """The customer's decision does not fit the quote; the message says why."""


class DecisionIncomplete(DecisionError):
    """Some quoted line was neither approved nor declined."""


@dataclass(frozen=True)
class QuoteLine:
    item_id: str
    kind: RepairItemKind
    description: str
    labour_hours: Decimal | None = None  # labour: standard hours
    part_number: str | None = None  # part
    quantity: int = 1  # parts: how many; labour: 1
    unit_price: Decimal | None = None  # part price


@dataclass(frozen=True)
class PricedLine:
    line: QuoteLine
    amount: Decimal


@dataclass(frozen=True)
class RepairQuote:
    lines: tuple[PricedLine, ...]
    labour_rate: Decimal  # per standard hour
    parts_total: Decimal
    labour_total: Decimal
    total: Decimal

    def amount_of(self, item_ids: Collection[str]) -> Decimal:
        """Total of the given lines."""
        return sum((p.amount for p in self.lines if p.line.item_id in item_ids), start=ZERO)


def _price(line: QuoteLine, labour_rate: Decimal) -> Decimal:
    if line.kind is RepairItemKind.LABOUR:
        hours = line.labour_hours
        if hours is None or hours <= 0:
            raise RepairQuoteError(f"{line.item_id}: labour needs positive standard hours")
        if line.quantity != 1 or line.unit_price is not None:
            raise RepairQuoteError(f"{line.item_id}: labour is priced by hours x rate")
        return round_money(hours * labour_rate)
    if not (line.part_number and line.part_number.strip()):
        raise RepairQuoteError(f"{line.item_id}: a part needs a part number")
    if line.quantity < 1:
        raise RepairQuoteError(f"{line.item_id}: quantity must be at least 1")
    if line.unit_price is None:
        raise RepairQuoteError(f"{line.item_id}: a part needs a unit price")
    return non_negative(line.unit_price, f"{line.item_id} unit price") * line.quantity


def price_repair_quote(lines: Iterable[QuoteLine], labour_rate: MoneyInput) -> RepairQuote:
    """Price every line and total parts, labour and all (Decimal, cents half up)."""
    try:
        rate = non_negative(labour_rate, "labour_rate")
        priced = tuple(PricedLine(line, _price(line, rate)) for line in lines)
    except (TypeError, ValueError) as exc:
        raise RepairQuoteError(str(exc)) from None
    if not priced:
        raise RepairQuoteError("a quote needs at least one line")
    ids = [p.line.item_id for p in priced]
    if len(set(ids)) != len(ids):
        raise RepairQuoteError("item ids must be unique within a quote")
    parts = sum((p.amount for p in priced if p.line.kind is RepairItemKind.PART), start=ZERO)
    labour = sum((p.amount for p in priced if p.line.kind is RepairItemKind.LABOUR), start=ZERO)
    return RepairQuote(priced, rate, parts, labour, parts + labour)


@dataclass(frozen=True)
class DeclinedItem:
    """A quoted line the customer declined: kept, followed up, offered again."""

    vin: str
    repair_order_id: str
    item_id: str
    description: str
    amount: Decimal
    declined_at: datetime
    follow_up_due_at: datetime
    resolved: bool = False  # done later, or the customer closed the topic


@dataclass(frozen=True)
class CustomerDecision:
    approved: tuple[PricedLine, ...]
    declined: tuple[DeclinedItem, ...]
    undecided: tuple[PricedLine, ...]
    approved_total: Decimal

    @property
    def approved_item_ids(self) -> frozenset[str]:
        return frozenset(p.line.item_id for p in self.approved)

    @property
    def can_start_work(self) -> bool:
        """Work starts only once at least one line is approved."""
        return bool(self.approved)

    def require_every_line_decided(self) -> None:
        """Raise :class:`DecisionIncomplete` unless every quoted line was answered."""
        if self.undecided:
            undecided = ", ".join(p.line.item_id for p in self.undecided)
            raise DecisionIncomplete(
                f"approve or decline every quoted line; undecided: {undecided}"
            )


def apply_customer_decision(
    quote: RepairQuote,
    approved_ids: Collection[str],
    declined_ids: Collection[str],
    *,
    vin: str,
    repair_order_id: str,
    decided_at: datetime,
    follow_up_after: timedelta,
) -> CustomerDecision:
    """Split the quote into approved, declined and undecided lines; a declined line is
    followed up ``follow_up_after`` the decision (the dealer's
    ``declined_item_followup_after``)."""
    approved_set, declined_set = set(approved_ids), set(declined_ids)
    unknown = (approved_set | declined_set) - {p.line.item_id for p in quote.lines}
    if unknown:
        raise DecisionError(f"not on the quote: {', '.join(sorted(unknown))}")
    both = approved_set & declined_set
    if both:
        raise DecisionError(f"approved and declined at once: {', '.join(sorted(both))}")
    approved = tuple(p for p in quote.lines if p.line.item_id in approved_set)
    declined = tuple(
        DeclinedItem(
            vin=vin,
            repair_order_id=repair_order_id,
            item_id=p.line.item_id,
            description=p.line.description,
            amount=p.amount,
            declined_at=decided_at,
            follow_up_due_at=decided_at + follow_up_after,
        )
        for p in quote.lines
        if p.line.item_id in declined_set
    )
    undecided = tuple(p for p in quote.lines if p.line.item_id not in approved_set | declined_set)
    return CustomerDecision(
        approved, declined, undecided, sum((p.amount for p in approved), start=ZERO)
    )


def repair_items(quote: RepairQuote, currency: str) -> list[RepairItem]:
    """The quote's priced lines as the events (and the API) carry them."""
    return [
        RepairItem(
            item_id=p.line.item_id,
            kind=p.line.kind,
            description=p.line.description,
            labour_hours=p.line.labour_hours,
            part_number=p.line.part_number,
            quantity=p.line.quantity,
            amount=money(p.amount, currency),
        )
        for p in quote.lines
    ]


def unapproved_work(item_ids: Iterable[str], approved_ids: Collection[str]) -> tuple[str, ...]:
    """Lines a technician wants to work on that the customer has not approved (must be
    empty before work starts)."""
    return tuple(item_id for item_id in item_ids if item_id not in approved_ids)


def follow_up_date(item: DeclinedItem, tz: tzinfo) -> date:
    """The dealer-local date on which to follow a declined item up."""
    return item.follow_up_due_at.astimezone(tz).date()


def declined_items_due(items: Iterable[DeclinedItem], now: datetime) -> tuple[DeclinedItem, ...]:
    """Open declined items whose follow-up is due at `now`, oldest first."""
    due = (i for i in items if not i.resolved and i.follow_up_due_at <= now)
    return tuple(sorted(due, key=lambda i: i.declined_at))


def declined_items_to_offer(items: Iterable[DeclinedItem], vin: str) -> tuple[DeclinedItem, ...]:
    """Open declined items of a vehicle, shown again at its next booking, oldest first."""
    wanted = vin.strip().upper()
    still_open = (i for i in items if not i.resolved and i.vin.strip().upper() == wanted)
    return tuple(sorted(still_open, key=lambda i: i.declined_at))


class DetailingKind(StrEnum):
    WASH = "wash"
    SIMPLE_INSTALL = "simple_install"  # e.g. a phone holder: no contract needed
    WAXING = "waxing"
    GLAZING = "glazing"
    COATING = "coating"
    UNDERBODY = "underbody"
    ELECTRONICS = "electronics"  # audio, alarm, parking sensors, dashcam
    INTERIOR = "interior"


class VehicleSystem(StrEnum):
    SAFETY = "safety"
    POWER = "power"
    BRAKING = "braking"
    BODY = "body"
    ELECTRICAL = "electrical"
    INTERIOR = "interior"


#: Detailing and accessory work must never modify these (handbook 10.2).
PROHIBITED_SYSTEMS: frozenset[VehicleSystem] = frozenset(
    {VehicleSystem.SAFETY, VehicleSystem.POWER, VehicleSystem.BRAKING}
)
#: Washing and simple installs are explained to the customer; no service contract needed
#: (though one may not be refused if the customer asks).
NO_CONTRACT_NEEDED: frozenset[DetailingKind] = frozenset(
    {DetailingKind.WASH, DetailingKind.SIMPLE_INSTALL}
)


@dataclass(frozen=True)
class DetailingJob:
    kind: DetailingKind
    standard_hours: Decimal | None  # shown to the customer
    fee: Decimal | None  # shown to the customer
    affects: frozenset[VehicleSystem] = frozenset()
    service_contract_signed: bool = False
    risks_explained: bool = False
    customer_authorised: bool = False


def detailing_work_problems(job: DetailingJob) -> tuple[str, ...]:
    """Why detailing/accessory work may not start yet (empty = it may).

    Handbook (美容装饰施工): standard hours and fee shown; a service contract for anything
    beyond a wash or simple install; functions and possible adverse effects explained and
    the customer's authorisation recorded before work; nothing that affects safety,
    power or braking, ever.
    """
    problems: list[str] = []
    forbidden = job.affects & PROHIBITED_SYSTEMS
    if forbidden:
        names = ", ".join(sorted(s.value for s in forbidden))
        problems.append(f"refused: the work would modify {names}")
    if job.standard_hours is None or job.fee is None:
        problems.append("standard hours and fee must be shown to the customer")
    if job.kind not in NO_CONTRACT_NEEDED and not job.service_contract_signed:
        problems.append(f"{job.kind} work needs a signed service contract")
    if not job.risks_explained:
        problems.append("effects and risks must be explained before work")
    if not job.customer_authorised:
        problems.append("the customer's authorisation must be recorded before work")
    return tuple(problems)
