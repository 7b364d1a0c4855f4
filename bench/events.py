"""Realistic CloudEvents for the benchmarks: catalogue examples of ~500-byte payloads.

The mix cycles through catalogue events whose JSON body is 450-600 bytes (about 800 bytes
with the ``ce_*`` headers and key), each with its own customer id (so keys, and therefore
partitions, spread) and its own event id.
"""

from __future__ import annotations

import uuid

from dealerflow.contracts.envelope import KafkaRecord, encode_binary
from dealerflow.contracts.events import ALL_EVENTS
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.examples import EXAMPLES

SOURCE = "/dealerflow/bench"

_MIX_NAMES = (
    "MaintenanceDue",
    "RepairItemDeclined",
    "AppointmentScheduled",
    "ShowroomVisitRecorded",
    "DeliveryScheduled",
    "CustomerAtRisk",
    "ComplaintResolved",
    "TestDriveCompleted",
    "LeadUpdated",
    "TestDriveScheduled",
)


def event_mix() -> list[DomainEvent]:
    """The example events the benchmark records cycle through."""
    by_name = {cls.__name__: cls for cls in ALL_EVENTS}
    return [EXAMPLES[by_name[name]] for name in _MIX_NAMES]


def make_records(count: int) -> list[KafkaRecord]:
    """``count`` binary-mode CloudEvents records (distinct event and customer ids)."""
    mix = event_mix()
    records = []
    for i in range(count):
        event = mix[i % len(mix)].model_copy(update={"customer_id": uuid.uuid4()})
        records.append(encode_binary(event, source=SOURCE))
    return records


def record_size(record: KafkaRecord) -> int:
    """Bytes of key + value + header names and values."""
    headers = sum(len(k) + len(v) for k, v in record.headers)
    return len(record.key or b"") + len(record.value) + headers


def mean_sizes(records: list[KafkaRecord]) -> tuple[float, float]:
    """(mean value bytes, mean whole-record bytes)."""
    if not records:
        return 0.0, 0.0
    values = sum(len(r.value) for r in records) / len(records)
    whole = sum(record_size(r) for r in records) / len(records)
    return values, whole
