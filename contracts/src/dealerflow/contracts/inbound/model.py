"""The normalised lead submission: what an outside system sends to dealerflow.inbound.leads,
as JSON in this shape or as ADF 1.0 XML mapped onto it."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dealerflow.contracts.enums import ContactChannel, LeadChannel, LeadSource, Locale
from dealerflow.contracts.identity import InvalidPhoneNumber, normalize_phone
from dealerflow.contracts.types import (
    DealerId,
    EmailAddress,
    Kilometres,
    Money,
    PhoneE164,
    UtcDatetime,
    Vin,
)

__all__ = [
    "LeadSubmission",
    "SubmittedAddress",
    "SubmittedCustomer",
    "SubmittedParty",
    "SubmittedVehicle",
    "VehicleInterest",
]

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Attributes = dict[str, Annotated[str, StringConstraints(max_length=4000)]]


class VehicleInterest(StrEnum):
    """What the customer wants to do with a vehicle (ADF `interest`)."""

    BUY = "buy"
    LEASE = "lease"
    SELL = "sell"
    TRADE_IN = "trade-in"
    TEST_DRIVE = "test-drive"


class SubmittedVehicle(BaseModel):
    """A vehicle named in a submission: one the customer wants, or a trade-in."""

    model_config = ConfigDict(frozen=True)

    interest: VehicleInterest = Field(
        default=VehicleInterest.BUY, description="buy, lease, sell, trade-in or test-drive."
    )
    status: Literal["new", "used"] | None = Field(default=None, description="New or used.")
    year: int | None = Field(default=None, ge=1900, le=2100, description="Model year.")
    make: Short | None = Field(default=None, description="Brand, e.g. 'BYD'.")
    model: Short | None = Field(default=None, description="Model, e.g. 'Seal'.")
    trim: Short | None = Field(default=None, description="Trim/configuration.")
    vin: Vin | None = Field(default=None, description="VIN, if given and well-formed.")
    odometer_km: Kilometres | None = Field(
        default=None, description="Odometer in km (miles are converted)."
    )
    price: Money | None = Field(default=None, description="Price named in the submission.")
    comments: Text | None = Field(default=None, description="Comments about this vehicle.")
    attributes: Attributes = Field(
        default_factory=dict, description="Vendor-specific vehicle data kept as text."
    )


class SubmittedAddress(BaseModel):
    """Postal address of the customer, as submitted."""

    model_config = ConfigDict(frozen=True)

    street: Text | None = Field(default=None, description="Street lines joined by newlines.")
    city: Short | None = Field(default=None, description="City.")
    region: Short | None = Field(default=None, description="Province/state code or name.")
    postal_code: Short | None = Field(default=None, description="Postal code.")
    country: Short | None = Field(default=None, description="Country (ISO 3166 code if given).")


class SubmittedCustomer(BaseModel):
    """The person the lead is about. Phone numbers are normalised to E.164 on input (local
    formats read in the parser's default region); unreadable ones move to invalid_phones."""

    model_config = ConfigDict(frozen=True)

    name: Short | None = Field(default=None, description="Full name as submitted.")
    phones: list[PhoneE164] = Field(
        default_factory=list, description="Phone numbers in E.164, preferred first."
    )
    invalid_phones: list[Short] = Field(
        default_factory=list, description="Submitted numbers that are not valid phone numbers."
    )
    email: EmailAddress | None = Field(default=None, description="E-mail address.")
    preferred_contact: ContactChannel | None = Field(
        default=None, description="Channel the customer asked to be contacted by."
    )
    locale: Locale | None = Field(default=None, description="Language, if known.")
    address: SubmittedAddress | None = Field(default=None, description="Postal address.")
    timeframe: Text | None = Field(default=None, description="When they plan to buy (text).")
    purchase_by: date | None = Field(default=None, description="Latest purchase date named.")
    marketing_consent: bool | None = Field(
        default=None, description="Consent to marketing contact, if the form asked."
    )
    comments: Text | None = Field(default=None, description="The customer's message.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_phones(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw = data.pop("phones", None) or []
        if isinstance(data.get("phone"), str):  # convenience: a single "phone" field
            raw = [data.pop("phone"), *raw]
        if not isinstance(raw, list):
            raise ValueError("phones must be a list of strings")
        region = (info.context or {}).get("default_region", "CN")
        phones: list[str] = []
        invalid = list(data.pop("invalid_phones", None) or [])
        for item in raw:
            try:
                number = normalize_phone(str(item), region)
            except InvalidPhoneNumber:
                invalid.append(str(item))
                continue
            if number not in phones:
                phones.append(number)
        data["phones"] = phones
        data["invalid_phones"] = invalid
        return data

    @field_validator("email", mode="before")
    @classmethod
    def _lower_email(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class SubmittedParty(BaseModel):
    """The vendor (dealer) or provider (lead source) block of a submission."""

    model_config = ConfigDict(frozen=True)

    id: Short | None = Field(default=None, description="Identifier the sender uses.")
    name: Short | None = Field(default=None, description="Name of the organisation.")
    service: Short | None = Field(default=None, description="Provider's service/campaign.")
    url: Short | None = Field(default=None, description="Web address.")
    contact_name: Short | None = Field(default=None, description="Contact person.")
    email: EmailAddress | None = Field(default=None, description="Contact e-mail.")
    phone: Short | None = Field(default=None, description="Contact phone as given.")


class LeadSubmission(BaseModel):
    """A normalised lead submission from outside (JSON or ADF 1.0 XML).

    The leads service turns it into a LeadCreated, or a LeadUpdated touch when the person
    already has an open lead. A submission must give a way to contact the customer: at
    least one valid phone number or an e-mail address."""

    model_config = ConfigDict(frozen=True)

    format: Literal["json", "adf"] = Field(default="json", description="Wire format received.")
    submission_id: Short | None = Field(
        default=None, description="Sender's id of the submission (dedupes redeliveries)."
    )
    dealer_id: DealerId | None = Field(
        default=None, description="Dealer addressed; else resolved from vendor or headers."
    )
    requested_at: UtcDatetime | None = Field(default=None, description="When it was made, UTC.")
    channel: LeadChannel = Field(default=LeadChannel.ONLINE, description="How it reached us.")
    source: LeadSource = Field(default=LeadSource.OTHER, description="Marketing source.")
    source_detail: Short | None = Field(
        default=None, description="Finer source, e.g. provider name or campaign."
    )
    referrer_customer_id: uuid.UUID | None = Field(
        default=None, description="Existing customer who referred this one."
    )
    customer: SubmittedCustomer = Field(description="The prospect.")
    vehicles: list[SubmittedVehicle] = Field(
        default_factory=list, description="Vehicles of interest and trade-ins."
    )
    vendor: SubmittedParty | None = Field(default=None, description="Dealer block (ADF vendor).")
    provider: SubmittedParty | None = Field(default=None, description="Lead source block.")
    attributes: Attributes = Field(
        default_factory=dict, description="Vendor extras and unknown tags, by element path."
    )

    @model_validator(mode="after")
    def _contactable(self) -> Self:
        if not self.customer.phones and self.customer.email is None:
            detail = ""
            if self.customer.invalid_phones:
                detail = f" (unreadable phone numbers: {', '.join(self.customer.invalid_phones)})"
            raise ValueError(
                "no way to contact the customer: no valid phone number and no e-mail address"
                + detail
            )
        return self

    @property
    def vehicles_of_interest(self) -> list[SubmittedVehicle]:
        """Vehicles the customer wants (everything but trade-ins and sells)."""
        excluded = (VehicleInterest.TRADE_IN, VehicleInterest.SELL)
        return [v for v in self.vehicles if v.interest not in excluded]

    @property
    def trade_ins(self) -> list[SubmittedVehicle]:
        """Vehicles the customer offers in trade."""
        excluded = (VehicleInterest.TRADE_IN, VehicleInterest.SELL)
        return [v for v in self.vehicles if v.interest in excluded]
