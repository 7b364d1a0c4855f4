"""HTTP bodies of a contract's pre-delivery inspection (conventions: :mod:`schemas`; the
contract detail shows :class:`PdiOut` too)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from dealerflow.contracts.types import DealerId
from dealerflow.runtime.request_models import HappenedAt, RequestBody
from dealerflow.sales.domain_pdi import STANDARD_PDI_ITEMS, PdiItem, PdiRecord, pdi_passed
from dealerflow.sales.usecases_pdi import RecordPdi

# as schemas.ShortText / schemas.Text (schemas shows the PDI on the contract, so no import)
_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class PdiItemIn(RequestBody):
    item: _Name = Field(description="Standard items: " + ", ".join(STANDARD_PDI_ITEMS))
    passed: bool
    note: _Note | None = None


class PdiIn(RequestBody):
    dealer_id: DealerId
    items: list[PdiItemIn] = Field(description="Must cover every standard PDI item.")
    inspector_id: _Name
    inspected_at: HappenedAt

    def command(self, contract_id: uuid.UUID) -> RecordPdi:
        return RecordPdi(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            inspector_id=self.inspector_id,
            inspected_at=self.inspected_at,
            items=tuple(PdiItem(i.item, i.passed, i.note) for i in self.items),
        )


class PdiItemOut(BaseModel):
    item: str
    passed: bool
    note: str | None


class PdiOut(BaseModel):
    contract_id: uuid.UUID
    inspector_id: str
    inspected_at: datetime
    items: list[PdiItemOut]
    passed: bool = Field(description="No item failed (delivery needs it).")
    recorded_at: datetime

    @classmethod
    def of(cls, pdi: PdiRecord) -> PdiOut:
        return cls(
            contract_id=uuid.UUID(pdi.contract_id),
            inspector_id=pdi.inspector_id,
            inspected_at=pdi.inspected_at,
            items=[PdiItemOut(item=i.item, passed=i.passed, note=i.note) for i in pdi.items],
            passed=pdi_passed(pdi),
            recorded_at=pdi.recorded_at,
        )
