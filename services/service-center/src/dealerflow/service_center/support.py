"""Helpers the service-center use cases share: settings, idempotency, identity, problems."""

from __future__ import annotations

import hashlib
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
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import Problem, not_found, problem_type
from dealerflow.runtime.service import ServiceContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center.schemas import CustomerIn
from dealerflow.service_center.settings import ServiceCenterSettings
from pydantic import BaseModel


def center_settings(ctx: ServiceContext) -> ServiceCenterSettings:
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


def request_hash(body: BaseModel) -> str:
    """Fingerprint of a command, to tell a retry from a different request reusing a key."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def idempotency_key(header: str | None, client_id: uuid.UUID | None) -> str | None:
    """The header when given, else the client-supplied id (a retry sends the same id)."""
    if header:
        return f"key:{header}"
    return f"id:{client_id}" if client_id is not None else None


async def replayed_resource(
    conn: DbConnection,
    *,
    dealer_id: str,
    scope: str,
    key: str | None,
    body: BaseModel,
    resource_id: uuid.UUID,
) -> uuid.UUID | None:
    """The resource an earlier request with this idempotency key created, else None.
    The same key with a different body is a client error (422)."""
    if key is None:
        return None
    earlier = await repo.claim_idempotency_key(
        conn,
        dealer_id=dealer_id,
        scope=scope,
        key=key,
        request_hash=request_hash(body),
        resource_id=str(resource_id),
    )
    if earlier is None:
        return None
    if earlier["request_hash"] != request_hash(body):
        raise Problem(
            422,
            "Idempotency key reused",
            f"key {key!r} was already used for a different {scope} request",
            type=problem_type("idempotency-key-reused"),
        )
    return uuid.UUID(earlier["resource_id"])


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
