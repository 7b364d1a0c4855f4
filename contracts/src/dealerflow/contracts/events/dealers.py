"""Events of the dealers context (topic dealerflow.dealers, compacted, keyed by dealer id):
the dealer configuration that every service materialises."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from dealerflow.contracts.events.base import DomainEvent, EventDoc
from dealerflow.contracts.types import StaffId

GroupId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Section = Literal["profile", "calendar", "rules", "people"]


class DealerConfigured(DomainEvent):
    """A dealer's effective configuration changed (its own settings or its group's)."""

    context: ClassVar[str] = "dealers"
    key_field: ClassVar[str] = "dealer_id"
    # The record this event is about is the dealer's configuration, not the group.
    subject_key: ClassVar[str | None] = "dealer_id"
    doc: ClassVar[EventDoc] = EventDoc(
        when="A dealer's or its dealer group's configuration is changed through the "
        "dealers API (one event per store of a changed group), and once per dealer whose "
        "configuration was imported from the former per-service policy tables.",
        emitted_by=("dealers",),
        reacted_by=(
            "leads, sales, service-center, complaints, notifier, dealers: materialise it "
            "(a newer configuration_version replaces an older one, never the reverse)",
        ),
    )
    type: Literal["DealerConfigured"] = Field(default="DealerConfigured", description="Event name.")
    customer_id: None = Field(  # type: ignore[assignment]
        default=None,
        description="Always null: configuration is about a dealer, not a customer; the "
        "Kafka key of this topic is dealer_id.",
    )
    group_id: GroupId | None = Field(
        default=None, description="Dealer group whose settings the store inherits."
    )
    configuration_version: int = Field(
        ge=1, description="Increases by one with every change of the effective configuration."
    )
    configuration: dict[str, Any] = Field(
        description="The full effective configuration (profile, policy, people), defaults "
        "included; its fields are listed in docs/dealer-configuration.md."
    )
    changed_by: StaffId = Field(description="Who made the change.")
    changed_sections: list[Section] = Field(
        default_factory=list, description="Sections the change touched."
    )


DEALERS_EVENTS: tuple[type[DomainEvent], ...] = (DealerConfigured,)
