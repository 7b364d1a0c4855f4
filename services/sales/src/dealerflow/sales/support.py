"""Helpers the sales use cases share: settings, idempotency, identity, money, problems."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.identity import InvalidPhoneNumber, customer_id_for, normalize_phone
from dealerflow.contracts.types import Money
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import Problem, not_found, problem_type
from dealerflow.runtime.service import ServiceContext
from dealerflow.sales import repository as repo
from dealerflow.sales.schemas import CustomerIn
from dealerflow.sales.settings import SalesSettings
from pydantic import BaseModel


def sales_settings(ctx: ServiceContext) -> SalesSettings:
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


def request_hash(body: BaseModel) -> str:
    """Fingerprint of a command, to tell a retry from a different request reusing a key."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


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

    With no key there is nothing to deduplicate. The same key with a different body is a
    client error (422), as in the IETF Idempotency-Key draft.
    """
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


def idempotency_key(header: str | None, client_id: uuid.UUID | None) -> str | None:
    """The header when given, else the client-supplied id (a retry sends the same id)."""
    if header:
        return f"key:{header}"
    return f"id:{client_id}" if client_id is not None else None


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
