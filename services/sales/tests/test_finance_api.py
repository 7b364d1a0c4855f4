"""Finance steps of a contract through the HTTP API on a real PostgreSQL: the invoice's
buyer tax number, finance's confirmation of an entered payment (events read from the
outbox)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import (
    InvoiceIssued,
    LoanDecided,
    PaymentConfirmed,
    RefundIssued,
)
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
COMPANY_CODE = "914403001922038216"
FINANCE = auth_header(roles=["sales-manager"], dealers=["D001"], sub="fin-chen")
CONSULTANT = auth_header(roles=["consultant"], dealers=["D001"], sub="consultant-li")


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


async def enter_payment(
    api: httpx.AsyncClient, contract_id: str, amount: str, kind: str
) -> dict[str, Any]:
    response = await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D001",
            "kind": kind,
            "method": "bank_transfer",
            "amount": {"amount": amount, "currency": "CNY"},
            "confirmed_by_finance": False,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def confirm(
    api: httpx.AsyncClient, contract_id: str, payment_id: str, key: str, **headers: str
) -> httpx.Response:
    return await api.post(
        f"/v1/contracts/{contract_id}/payments/{payment_id}/confirmation",
        json={"dealer_id": "D001"},
        headers={**FINANCE, "Idempotency-Key": key, **headers},
    )


async def test_an_entered_payment_counts_only_once_finance_confirms_it(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    entered = await enter_payment(api, contract_id, "50000.00", "deposit")
    [payment] = entered["payments"]
    assert payment["confirmed"] is False
    assert entered["ledger"]["balance_due"] == {"amount": "200000.00", "currency": "CNY"}

    confirmed = await confirm(api, contract_id, payment["payment_id"], "c-1")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    [payment] = body["payments"]
    assert (payment["confirmed"], payment["confirmed_by"]) == (True, "fin-chen")
    assert payment["confirmed_at"] is not None
    assert body["ledger"]["balance_due"] == {"amount": "150000.00", "currency": "CNY"}

    again = await confirm(api, contract_id, payment["payment_id"], "c-2")
    assert again.status_code == 200
    assert again.json()["payments"] == body["payments"]
    shown = await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})
    assert shown.json()["payments"][0]["confirmed_by"] == "fin-chen"
    [event] = [e.event for _, e in await outbox.records() if isinstance(e.event, PaymentConfirmed)]
    assert (event.payment_id, event.confirmed_by) == (payment["payment_id"], "fin-chen")
    assert str(event.amount.amount) == "50000.00"


async def test_confirmation_is_for_finance_and_known_payments_only(
    api: httpx.AsyncClient, contract_body: Body
) -> None:
    contract_id = await signed(api, contract_body())
    entered = await enter_payment(api, contract_id, "50000.00", "deposit")
    payment_id = entered["payments"][0]["payment_id"]
    refused = await confirm(api, contract_id, payment_id, "c-3", **CONSULTANT)
    assert refused.status_code == 403
    missing = await confirm(api, contract_id, "00000000-0000-4000-8000-000000000000", "c-4")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


LOAN_PLAN = {
    "method": "loan",
    "down_payment": {"amount": "60000.00", "currency": "CNY"},
    "loan_amount": {"amount": "140000.00", "currency": "CNY"},
    "term_months": 36,
    "annual_rate_percent": "3.85",
}


async def loan_decision(
    api: httpx.AsyncClient, contract_id: str, key: str, **fields: Any
) -> httpx.Response:
    body = {
        "dealer_id": "D001",
        "lender": "招商银行",
        "reference": "CMB-2025-0042",
        "decided_at": "2025-03-01T02:00:00Z",
        **fields,
    }
    return await api.post(
        f"/v1/contracts/{contract_id}/loan-approval",
        json=body,
        headers={**FINANCE, "Idempotency-Key": key},
    )


async def disburse(api: httpx.AsyncClient, contract_id: str, amount: str) -> httpx.Response:
    return await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D001",
            "kind": "loan_disbursement",
            "method": "bank_transfer",
            "amount": {"amount": amount, "currency": "CNY"},
        },
    )


async def test_loan_contract_is_settled_by_confirmed_down_payment_and_approved_loan(
    api: httpx.AsyncClient, contract_body: Body
) -> None:
    contract_id = await signed(api, contract_body(payment=LOAN_PLAN))
    entered = await enter_payment(api, contract_id, "60000.00", "deposit")
    assert entered["ledger"]["balance_due"]["amount"] == "200000.00"
    confirmed = await confirm(api, contract_id, entered["payments"][0]["payment_id"], "c-5")
    assert confirmed.json()["ledger"]["balance_due"]["amount"] == "140000.00"

    too_early = await disburse(api, contract_id, "140000.00")
    assert too_early.status_code == 409, too_early.text
    assert "approval of the loan is not recorded" in too_early.json()["detail"]

    approved = await loan_decision(
        api,
        contract_id,
        "l-1",
        decision="approved",
        approved_amount={"amount": "140000.00", "currency": "CNY"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["loan_approval"]["decision"] == "approved"
    assert approved.json()["loan_approval"]["recorded_by"] == "fin-chen"
    beyond = await disburse(api, contract_id, "140000.01")
    assert beyond.status_code == 409
    paid = await disburse(api, contract_id, "140000.00")
    assert paid.status_code == 201, paid.text
    shown = (await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})).json()
    assert shown["ledger"]["balance_due"] == {"amount": "0.00", "currency": "CNY"}
    assert shown["loan_approval"]["approved_amount"] == {"amount": "140000.00", "currency": "CNY"}


async def test_declined_loan_asks_for_another_payment_plan(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body(payment=LOAN_PLAN))
    inconsistent = await loan_decision(
        api,
        contract_id,
        "l-2",
        decision="declined",
        approved_amount={"amount": "1.00", "currency": "CNY"},
    )
    assert inconsistent.status_code == 422
    declined = await loan_decision(api, contract_id, "l-3", decision="declined")
    assert declined.status_code == 200, declined.text
    refused = await disburse(api, contract_id, "140000.00")
    assert refused.status_code == 409
    assert "needs another payment plan" in refused.json()["detail"]
    [event] = [e.event for _, e in await outbox.records() if isinstance(e.event, LoanDecided)]
    assert (event.decision, event.approved_amount) == ("declined", None)


async def test_refund_is_limited_to_the_overpayment_and_publishes_refund_issued(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    await enter_payment(api, contract_id, "200500.00", "full")
    paid = await confirm(api, contract_id, "x", "c-9")
    assert paid.status_code == 422  # not a payment id
    file = (await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})).json()
    await confirm(api, contract_id, file["payments"][0]["payment_id"], "c-10")

    def refund(amount: str, key: str) -> Any:
        return api.post(
            f"/v1/contracts/{contract_id}/refunds",
            json={
                "dealer_id": "D001",
                "amount": {"amount": amount, "currency": "CNY"},
                "reason": "overpaid by transfer",
            },
            headers={**FINANCE, "Idempotency-Key": key},
        )

    too_much = await refund("500.01", "r-1")
    assert too_much.status_code == 409, too_much.text
    assert "at most 500.00 CNY" in too_much.json()["detail"]
    done = await refund("500.00", "r-2")
    assert done.status_code == 200, done.text
    assert done.json()["ledger"]["refunded"] == {"amount": "500.00", "currency": "CNY"}
    [event] = [e.event for _, e in await outbox.records() if isinstance(e.event, RefundIssued)]
    assert (str(event.amount.amount), event.reason) == ("500.00", "overpaid by transfer")
    assert (await refund("500.00", "r-2")).status_code == 200
    assert len([e for _, e in await outbox.records() if isinstance(e.event, RefundIssued)]) == 1


async def cancel(api: httpx.AsyncClient, contract_id: str, by: str) -> dict[str, Any]:
    cancelled = await api.post(
        f"/v1/contracts/{contract_id}/cancel",
        json={"dealer_id": "D001", "reason": "changed mind", "cancelled_by": by},
    )
    assert cancelled.status_code == 200, cancelled.text
    return dict(cancelled.json())


async def test_money_confirmed_after_the_cancellation_is_refunded_by_the_deposit_rule(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    entered = await enter_payment(api, contract_id, "20000.00", "deposit")
    cancelled = await cancel(api, contract_id, "customer")
    assert cancelled["ledger"]["refunded"]["amount"] == "0.00"  # nothing had arrived yet
    confirmed = await confirm(api, contract_id, entered["payments"][0]["payment_id"], "late-1")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["ledger"]["refunded"]["amount"] == "20000.00"
    [refund] = [e.event for _, e in await outbox.records() if isinstance(e.event, RefundIssued)]
    assert str(refund.amount.amount) == "20000.00"
    assert "after the cancellation" in refund.reason
    again = await confirm(api, contract_id, entered["payments"][0]["payment_id"], "late-2")
    assert again.json()["ledger"]["refunded"]["amount"] == "20000.00"  # refunded once


EARNEST_MONEY = {"policy": {"sales": {"forfeit_deposit_on_customer_cancellation": True}}}


@pytest.mark.parametrize("dealers", [{"D001": EARNEST_MONEY}])
async def test_a_deposit_confirmed_after_the_customer_cancelled_is_kept_as_earnest_money(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = await signed(api, contract_body())
    deposit = await enter_payment(api, contract_id, "20000.00", "deposit")
    balance = await enter_payment(api, contract_id, "5000.00", "balance")
    await cancel(api, contract_id, "customer")
    ids = {p["kind"]: p["payment_id"] for p in balance["payments"]}
    assert ids["deposit"] == deposit["payments"][0]["payment_id"]
    kept = await confirm(api, contract_id, ids["deposit"], "late-d")
    assert kept.json()["ledger"]["refunded"]["amount"] == "0.00"
    back = await confirm(api, contract_id, ids["balance"], "late-b")
    assert back.json()["ledger"]["refunded"]["amount"] == "5000.00"
    refunds = [e.event for _, e in await outbox.records() if isinstance(e.event, RefundIssued)]
    assert [str(r.amount.amount) for r in refunds] == ["5000.00"]
