"""Finance steps of a contract through the HTTP API on a real PostgreSQL: the invoice's
buyer tax number (events read from the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import InvoiceIssued

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
COMPANY_CODE = "914403001922038216"


async def signed(api: httpx.AsyncClient, contract_body: dict[str, Any]) -> str:
    response = await api.post("/v1/contracts", json=contract_body)
    assert response.status_code == 201, response.text
    return str(response.json()["contract_id"])


async def invoice(api: httpx.AsyncClient, contract_id: str, **fields: Any) -> httpx.Response:
    return await api.post(
        f"/v1/contracts/{contract_id}/invoice",
        json={"dealer_id": "D001", "invoice_number": "INV-9001", **fields},
    )


async def test_invoice_with_a_wrong_tax_number_is_refused_and_publishes_nothing(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    refused = await invoice(
        api, contract_id, invoice_title="深圳某某科技有限公司", tax_number="914403001922038217"
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "unified social credit code" in refused.json()["errors"][0]
    assert "InvoiceIssued" not in await outbox.types()


async def test_invoice_carries_the_company_title_and_its_tax_number(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    issued = await invoice(
        api, contract_id, invoice_title="华为技术有限公司", tax_number=COMPANY_CODE
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["invoice"]["tax_number"] == COMPANY_CODE
    events = [e.event for _, e in await outbox.records() if isinstance(e.event, InvoiceIssued)]
    assert [(e.invoice_title, e.tax_number) for e in events] == [("华为技术有限公司", COMPANY_CODE)]
