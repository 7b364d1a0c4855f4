"""A valid, realistic example of every event: used by tests, embedded in the AsyncAPI
document and in docs/events.md. One fictional customer (张伟, Zhang Wei) at dealer
"sh-pudong-01" of group "acme-auto" goes through the whole lifecycle; the data lives in
`dealerflow.contracts.example_data`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from dealerflow.contracts.events import ALL_EVENTS, DomainEvent
from dealerflow.contracts.example_data.after_sales import complaints_examples, service_examples
from dealerflow.contracts.example_data.care import notifier_examples
from dealerflow.contracts.example_data.common import CUSTOMER_ID, DEALER_ID
from dealerflow.contracts.example_data.dealers import dealers_examples
from dealerflow.contracts.example_data.sales_side import leads_examples, sales_examples

__all__ = ["CUSTOMER_ID", "DEALER_ID", "EXAMPLES", "example_for"]

E = TypeVar("E", bound=DomainEvent)


def _build() -> Mapping[type[DomainEvent], DomainEvent]:
    examples: dict[type[DomainEvent], DomainEvent] = {}
    for build in (
        leads_examples,
        sales_examples,
        service_examples,
        complaints_examples,
        notifier_examples,
        dealers_examples,
    ):
        for event in build():
            if type(event) in examples:
                raise RuntimeError(f"two examples of {type(event).__name__}")
            examples[type(event)] = event
    missing = [cls.__name__ for cls in ALL_EVENTS if cls not in examples]
    if missing:
        raise RuntimeError(f"events without an example: {missing}")
    return MappingProxyType({cls: examples[cls] for cls in ALL_EVENTS})


EXAMPLES: Mapping[type[DomainEvent], DomainEvent] = _build()
"""One valid example per event class, in catalogue order."""


def example_for(cls: type[E]) -> E:
    """The example instance of an event class (KeyError if the class has none)."""
    example = EXAMPLES[cls]
    assert isinstance(example, cls)
    return example
