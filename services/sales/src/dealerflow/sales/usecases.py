"""What every sales use case shares, and reading contracts.

Each use case takes the :class:`UseCaseContext` of its transaction and a command (a frozen
dataclass beside it: :mod:`usecases_contracts`, :mod:`usecases_delivery`,
:mod:`usecases_showroom`), decides with pure ``plan_*`` functions and the domain rules,
writes through the repository and publishes its events in the same transaction.
Refusals are domain exceptions (mapped to problems once, in :mod:`problems`), raised
before anything is published. Here: the customer a request names, how a retried request
is recognised (``runtime.idempotency``), the contract lookups and their errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, Locale
from dealerflow.contracts.identity import InvalidPhoneNumber, customer_identity
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.runtime.pagination import page_of
from dealerflow.sales import domain
from dealerflow.sales import repository as repo
from dealerflow.sales.records import (
    ContractFile,
    ContractRecord,
)
from dealerflow.sales.settings import SalesSettings

T = TypeVar("T")


class RequestRefused(Exception):
    """A well-formed request that breaks a business rule (422); ``errors`` say which."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(self.errors))

    @property
    def problem_extensions(self) -> Mapping[str, Any]:
        return {"errors": list(self.errors)}


class InvalidPhone(RequestRefused):
    """The customer's phone number cannot be read."""


class ContractNotFound(LookupError):
    """No contract with that id at that dealer."""

    def __init__(self, contract_id: uuid.UUID) -> None:
        super().__init__(f"No contract with id {contract_id}")


class ContractNotActive(Exception):
    """The contract was cancelled or delivered: this step is no longer possible."""

    def __init__(self, status: domain.ContractStatus, action: str) -> None:
        super().__init__(f"a {status} contract cannot {action}")
        self.problem_extensions = {"contract_status": status.value}


@dataclass(frozen=True)
class Created(Generic[T]):
    """What a create use case answers: the resource, and whether this call created it
    (False for a retry, which gets the first call's resource)."""

    value: T
    created: bool


@dataclass(frozen=True)
class Customer:
    """The customer as staff typed them in (the phone in any common format)."""

    name: str
    phone: str
    consent: ConsentSnapshot
    email: str | None = None
    wechat_openid: str | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    locale: Locale = Locale.ZH_CN

    def contact(self, phone_e164: str) -> ContactSnapshot:
        """The snapshot events carry, so reactors reach the customer without asking us."""
        return ContactSnapshot(
            name=self.name,
            phone=phone_e164,
            email=self.email,
            wechat_openid=self.wechat_openid,
            preferred_channel=self.preferred_channel,
            consent=self.consent,
            locale=self.locale,
        )


def identify(
    settings: SalesSettings, phone: str, *, customer_id: uuid.UUID | None, dealer_group: str | None
) -> tuple[uuid.UUID, str]:
    """(customer id, E.164 phone): the id given, else the contracts' identity rule."""
    try:
        found, phone_e164 = customer_identity(
            dealer_group or settings.default_dealer_group,
            phone=phone,
            default_region=settings.default_phone_region,
            customer_id=customer_id,
        )
    except InvalidPhoneNumber as exc:
        raise InvalidPhone([str(exc)]) from exc
    assert phone_e164 is not None  # a phone was given
    return found, phone_e164


async def dealer_date(uc: UseCaseContext[SalesSettings], dealer_id: str, at: datetime) -> date:
    """The dealer's calendar date at ``at`` (its time zone from the dealer's calendar)."""
    return at.astimezone((await uc.policy(dealer_id)).calendar.tz).date()


# --- reading contracts ------------------------------------------------------------------


async def get_contract(
    uc: UseCaseContext[SalesSettings], dealer_id: str, contract_id: uuid.UUID
) -> ContractFile:
    """Everything on file for the contract (ContractNotFound if the dealer has none)."""
    contract = await repo.get_contract(uc.conn, dealer_id, contract_id)
    if contract is None:
        raise ContractNotFound(contract_id)
    return await repo.contract_file(uc.conn, contract)


async def locked_contract(
    uc: UseCaseContext[SalesSettings], dealer_id: str, contract_id: uuid.UUID
) -> ContractRecord:
    """The contract, locked until the transaction ends (one step of it at a time)."""
    contract = await repo.get_contract(uc.conn, dealer_id, contract_id, for_update=True)
    if contract is None:
        raise ContractNotFound(contract_id)
    return contract


async def step_replayed(
    uc: UseCaseContext[SalesSettings],
    contract: ContractRecord,
    request: RequestKey | None,
    step: str,
) -> ContractFile | None:
    """The contract as it is now when this step request retries one already done (do
    nothing more), else None once its key is claimed."""
    earlier = await idempotency.claimed_resource(
        uc.conn,
        request,
        dealer_id=contract.dealer_id,
        scope=f"{step}:{contract.id}",
        resource_id=contract.id,
    )
    return None if earlier is None else await repo.contract_file(uc.conn, contract)


def require_active(contract: ContractRecord, action: str) -> None:
    if contract.status is not domain.ContractStatus.ACTIVE:
        raise ContractNotActive(contract.status, action)


@dataclass(frozen=True)
class ListContracts:
    """A page of a dealer's contracts, newest first; filters that are None do not apply."""

    dealer_id: str
    limit: int
    status: str | None = None
    consultant_id: str | None = None
    customer_id: uuid.UUID | None = None
    vin: str | None = None
    signed_from: datetime | None = None
    signed_to: datetime | None = None
    #: (signed_at, id) of the previous page's last contract
    after: tuple[datetime, uuid.UUID] | None = None


async def list_contracts(
    uc: UseCaseContext[SalesSettings], query: ListContracts
) -> tuple[list[ContractRecord], str | None]:
    """The page and the cursor of the next one (None on the last page)."""
    rows = await repo.list_contracts(
        uc.conn,
        query.dealer_id,
        status=query.status,
        consultant_id=query.consultant_id,
        customer_id=query.customer_id,
        vin=query.vin.upper() if query.vin else None,
        signed_from=query.signed_from,
        signed_to=query.signed_to,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(rows, query.limit, lambda c: (c.signed_at, c.id))
