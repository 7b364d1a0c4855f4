"""Helpers the sales use cases share: settings, identity, money, problems."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.identity import InvalidPhoneNumber, customer_id_for, normalize_phone
from dealerflow.contracts.types import Money
from dealerflow.runtime.problems import Problem, not_found, problem_type
from dealerflow.runtime.service import ServiceContext
from dealerflow.sales.schemas import CustomerIn
from dealerflow.sales.settings import SalesSettings


def sales_settings(ctx: ServiceContext[Any]) -> SalesSettings:
    """The running service's settings as the sales subclass."""
    settings = ctx.settings
    if not isinstance(settings, SalesSettings):  # pragma: no cover - wiring error
        raise TypeError("the sales service must run with SalesSettings")
    return settings


def local_today(settings: SalesSettings, dealer_id: str, now: datetime) -> date:
    """The dealer's calendar date at ``now`` (its time zone from the dealer policy)."""
    return now.astimezone(settings.dealer_policy(dealer_id).calendar.tz).date()


def invalid(title: str, errors: Sequence[str], *, slug: str = "validation-error") -> Problem:
    """422: the request is well-formed but breaks a business rule; ``errors`` say which."""
    return Problem(
        422, title, "; ".join(errors), type=problem_type(slug), extensions={"errors": list(errors)}
    )


def conflict(title: str, detail: str, *, slug: str, **extensions: Any) -> Problem:
    """409: the request contradicts the current state of the resource."""
    return Problem(409, title, detail, type=problem_type(slug), extensions=extensions)


def contract_not_found(contract_id: uuid.UUID) -> Problem:
    return not_found("Contract", contract_id)


def customer_of(
    settings: SalesSettings,
    *,
    customer_id: uuid.UUID | None,
    dealer_group: str | None,
    raw_phone: str,
) -> tuple[uuid.UUID, str]:
    """(customer id, E.164 phone): the id given, else the contracts' identity rule."""
    try:
        phone = normalize_phone(raw_phone, settings.default_phone_region)
    except InvalidPhoneNumber as exc:
        raise invalid("Invalid phone number", [str(exc)], slug="invalid-phone") from exc
    if customer_id is None:
        customer_id = customer_id_for(dealer_group or settings.default_dealer_group, phone)
    return customer_id, phone


def contact_snapshot(customer: CustomerIn, phone_e164: str) -> ContactSnapshot:
    """The snapshot events carry so reactors can reach the customer without asking us."""
    return ContactSnapshot(
        name=customer.name,
        phone=phone_e164,
        email=customer.email,
        wechat_openid=customer.wechat_openid,
        preferred_channel=customer.preferred_channel,
        consent=customer.consent,
        locale=customer.locale,
    )


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)
