"""Helpers the service-center use cases share: settings, identity, problems."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.identity import (
    InvalidPhoneNumber,
    customer_id_for,
    customer_id_for_email,
    normalize_phone,
)
from dealerflow.contracts.types import Money
from dealerflow.runtime.problems import Problem, not_found, problem_type
from dealerflow.runtime.service import ServiceContext
from dealerflow.service_center import domain
from dealerflow.service_center.schemas import CustomerIn
from dealerflow.service_center.settings import ServiceCenterSettings


def center_settings(ctx: ServiceContext[Any]) -> ServiceCenterSettings:
    """The running service's settings as the service-center subclass."""
    settings = ctx.settings
    if not isinstance(settings, ServiceCenterSettings):  # pragma: no cover - wiring error
        raise TypeError("service-center must run with ServiceCenterSettings")
    return settings


def local_date(settings: ServiceCenterSettings, dealer_id: str, at: datetime) -> date:
    """The dealer's calendar date at ``at`` (its time zone from the dealer policy)."""
    return at.astimezone(settings.dealer_policy(dealer_id).calendar.tz).date()


def invalid(title: str, errors: Sequence[str], *, slug: str = "validation-error") -> Problem:
    """422: the request is well-formed but breaks a business rule; ``errors`` say which."""
    return Problem(
        422, title, "; ".join(errors), type=problem_type(slug), extensions={"errors": list(errors)}
    )


def conflict(title: str, detail: str, *, slug: str, **extensions: Any) -> Problem:
    """409: the request contradicts the repair order's current state."""
    return Problem(409, title, detail, type=problem_type(slug), extensions=extensions)


def repair_order_not_found(repair_order_id: uuid.UUID) -> Problem:
    return not_found("Repair order", repair_order_id)


def require_step(ro: dict[str, Any], step: domain.RepairOrderStep) -> None:
    """409 with the reason when ``step`` is illegal in the RO's current status."""
    status = domain.RepairOrderStatus(ro["status"])
    reason = domain.step_refusal(status, step)
    if reason is not None:
        raise conflict(
            "Illegal repair order transition",
            reason,
            slug="illegal-transition",
            status=status.value,
            step=step.value,
        )


def customer_of(
    settings: ServiceCenterSettings,
    customer: CustomerIn,
    *,
    customer_id: uuid.UUID | None,
    dealer_group: str | None,
) -> tuple[uuid.UUID, ContactSnapshot]:
    """(customer id, contact snapshot): the id given, else the contracts' identity rule
    (by phone, or by e-mail for someone without one)."""
    phone = None
    if customer.phone is not None:
        try:
            phone = normalize_phone(customer.phone, settings.default_phone_region)
        except InvalidPhoneNumber as exc:
            raise invalid("Invalid phone number", [str(exc)], slug="invalid-phone") from exc
    group = dealer_group or settings.default_dealer_group
    if customer_id is None:
        if phone is not None:
            customer_id = customer_id_for(group, phone)
        else:
            assert customer.email is not None  # CustomerIn requires phone or e-mail
            customer_id = customer_id_for_email(group, customer.email)
    contact = ContactSnapshot(
        name=customer.name,
        phone=phone,
        email=customer.email,
        wechat_openid=customer.wechat_openid,
        preferred_channel=customer.preferred_channel,
        consent=customer.consent,
        locale=customer.locale,
    )
    return customer_id, contact


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)
