"""DomainEvent, the base of every published event, and the metadata that documents it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from dealerflow.contracts.types import CustomerId, DealerId, UtcDatetime

__all__ = ["CONTEXTS", "DomainEvent", "EventDoc", "Planned"]

CONTEXTS: tuple[str, ...] = ("leads", "sales", "service", "complaints", "notifier", "dealers")

# Fields every event has; the subject of an event is its first own *_id field.
_COMMON_FIELDS = frozenset({"type", "dealer_id", "customer_id", "occurred_at"})


@dataclass(frozen=True)
class Planned:
    """A promise of the catalogue that the code does not keep yet, with the issue that
    will deliver it: an emitter (``Planned("leads", issue=10)``) or a reaction
    (``Planned("notifier: reminders 24 h before", issue=10)``).

    The generated docs show it as planned, never as fact. The architecture tests
    (tests/architecture/test_catalogue_promises.py) fail on a promise that is neither kept
    nor planned, and on a planned one that is kept, so the marker goes when the work lands.
    """

    promise: str
    issue: int

    def __post_init__(self) -> None:
        if self.issue < 1:
            raise ValueError(f"{self.promise!r}: planned needs the number of its issue")

    def __str__(self) -> str:
        return f"{self.promise} — planned (issue {self.issue})"


@dataclass(frozen=True)
class EventDoc:
    """When an event is emitted, by whom, and who reacts: the source of docs/events.md
    and of the AsyncAPI message descriptions.

    ``emitted_by`` names producers (our services by their folder name, e.g.
    ``service-center``, or outside systems); each ``reacted_by`` entry is
    ``"<service>[, <service>...]: what it does"`` or ``"none ..."``. An entry not kept yet
    is wrapped in :class:`Planned`.
    """

    when: str
    emitted_by: tuple[str | Planned, ...]
    reacted_by: tuple[str | Planned, ...]


class DomainEvent(BaseModel):
    """Base of every dealerflow event.

    Concrete events declare `type: Literal["<EventName>"] = "<EventName>"` (the
    discriminator of the per-topic unions), `context` and `doc`; `event_type`
    ("dealerflow.<context>.<EventName>.v<version>") and `event_name` are derived when the
    class is created. Unknown payload fields are ignored (tolerant reader), so producers may
    add optional fields before every consumer knows them.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    context: ClassVar[str]
    version: ClassVar[int] = 1
    event_type: ClassVar[str]
    event_name: ClassVar[str]
    doc: ClassVar[EventDoc]
    subject_key: ClassVar[str | None] = None
    #: Field whose value is the Kafka key: the customer, so one customer's events keep
    #: their order; dealer configuration events are keyed by dealer (a compacted topic).
    key_field: ClassVar[str] = "customer_id"

    type: str = Field(description="Event name; equals the <EventName> part of ce_type.")
    dealer_id: DealerId = Field(description="Code of the dealer (store) the event belongs to.")
    customer_id: CustomerId = Field(
        description="Customer identity (see dealerflow.contracts.identity); the Kafka key."
    )
    occurred_at: UtcDatetime = Field(description="When the fact happened, UTC.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["type"].default
        if not isinstance(name, str):
            return  # an abstract intermediate base
        if getattr(cls, "context", None) not in CONTEXTS:
            raise TypeError(f"{cls.__name__}: context must be one of {CONTEXTS}")
        if "doc" not in cls.__dict__:
            raise TypeError(f"{cls.__name__}: concrete events must document themselves (doc)")
        cls.event_name = name
        cls.event_type = f"dealerflow.{cls.context}.{name}.v{cls.version}"

    @classmethod
    def subject_field(cls) -> str | None:
        """Name of the field that identifies the event's subject: `subject_key` when set,
        else the first *_id field the event declares itself."""
        if cls.subject_key is not None:
            return cls.subject_key
        for field_name in cls.model_fields:
            if field_name not in _COMMON_FIELDS and field_name.endswith("_id"):
                return field_name
        return None

    @property
    def kafka_key(self) -> str:
        """The Kafka key of the event (see ``key_field``)."""
        return str(getattr(self, self.key_field))

    @property
    def subject(self) -> str | None:
        """The CloudEvents subject: the id of the record the event is about (e.g. lead id)."""
        field_name = self.subject_field()
        if field_name is None:
            return None
        value = getattr(self, field_name)
        return None if value is None else str(value)
