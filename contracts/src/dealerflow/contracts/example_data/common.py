"""Shared cast of the examples: one customer (张伟, Zhang Wei) of dealer "sh-pudong-01" in
group "acme-auto", the staff who serve him, and the records he goes through."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dealerflow.contracts import enums as en
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.events import leads as ld
from dealerflow.contracts.events import sales as sl
from dealerflow.contracts.events import service as sv
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.types import Money

DEALER_ID = "sh-pudong-01"
PHONE = "+8613800138000"
CUSTOMER_ID = customer_id_for("acme-auto", PHONE)
VIN = "LGXC16DF3N0123456"
CONSULTANT = "c-li-na"
ADVISOR = "a-wang-qiang"

CONTACT = ContactSnapshot(
    name="张伟",
    phone=PHONE,
    email="zhang.wei@example.cn",
    preferred_channel=en.ContactChannel.WECHAT,
    consent=ConsentSnapshot(service=True, marketing=False),
    locale=en.Locale.ZH_CN,
)


def at(day: int, hour: int = 2, minute: int = 0) -> datetime:
    """A UTC time in March 2026 (10:00 Beijing time is 02:00 UTC)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def cny(amount: str) -> Money:
    """An amount in Chinese yuan."""
    return Money(amount=Decimal(amount), currency="CNY")


COMMON: dict[str, Any] = {"dealer_id": DEALER_ID, "customer_id": CUSTOMER_ID}
INTEREST = ld.LeadInterest(
    models=["Seal", "Han EV"],
    vehicle_type=en.VehicleType.NEV,
    budget_min=cny("180000.00"),
    budget_max=cny("250000.00"),
    use=en.VehicleUse.FAMILY,
    current_vehicle="Volkswagen Lavida 2016",
    purchase_horizon=en.PurchaseHorizon.WITHIN_30_DAYS,
)
VEHICLE = sl.ContractVehicle(model="Seal", configuration="650 AWD", colour="Aurora White", vin=VIN)
LOAN = sl.PaymentPlan(
    method="loan",
    down_payment=cny("60000.00"),
    loan_amount=cny("149800.00"),
    term_months=36,
    annual_rate_percent=Decimal("3.85"),
)
BRAKES = sv.RepairItem(
    item_id="ro-881-2",
    kind=en.RepairItemKind.PART,
    description="Front brake pads (set)",
    part_number="BYD-BP-6100",
    quantity=1,
    amount=cny("680.00"),
)
LABOUR = sv.RepairItem(
    item_id="ro-881-1",
    kind=en.RepairItemKind.LABOUR,
    description="5,000 km maintenance",
    labour_hours=Decimal("1.5"),
    amount=cny("270.00"),
)
RO = "ro-881"
