"""A customer's erasure at one store (PIPL Art. 47, GDPR Art. 17): the eraser the runtime
runs on CustomerErasureRequested (:mod:`dealerflow.runtime.erasure`)."""

from __future__ import annotations

from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.erasure import Erasure
from dealerflow.sales import repository_erasure as erasure_repo
from dealerflow.sales.settings import SalesSettings


async def erase_customer(uc: UseCaseContext[SalesSettings], erasure: Erasure) -> dict[str, int]:
    """Anonymise the customer's contracts, their versions, ledger rows, invoice and
    delivery, their test drives and showroom visits at the store; rows changed per table.

    Erased: every contact snapshot (it becomes ``erased_contact`` in its own locale), the
    contract address, the invoice title and tax number, the (masked) licence number, and
    the free text staff typed (cancellation, amendment and refund reasons, the delivery
    location, the test-drive route). Kept: ids (the customer id too: it is a hash of the
    phone, not the phone), statuses, versions, vehicles and VINs, prices, the ledger's
    amounts, invoice numbers and amounts, dates, the licence's expiry date, the identity
    check's outcome and the visits' needs (picked from lists). Quotes hold nothing
    personal and stay as they are, but the note a manager wrote deciding a quote's
    discount is erased.

    Sales sends no messages and keeps no reminders: nothing is left to cancel. A test
    drive or delivery still ahead stays booked, with no way to reach the customer.
    """
    conn, dealer_id, customer_id = uc.conn, erasure.dealer_id, erasure.customer_id
    return {
        "contracts": await erasure_repo.erase_contracts(conn, dealer_id, customer_id),
        "contract_versions": await erasure_repo.erase_contract_versions(
            conn, dealer_id, customer_id
        ),
        "payments": await erasure_repo.erase_payments(conn, dealer_id, customer_id),
        "invoices": await erasure_repo.erase_invoices(conn, dealer_id, customer_id),
        "deliveries": await erasure_repo.erase_deliveries(conn, dealer_id, customer_id),
        "test_drives": await erasure_repo.erase_test_drives(conn, dealer_id, customer_id),
        "quote_approvals": await erasure_repo.erase_quote_approvals(conn, dealer_id, customer_id),
        "showroom_visits": await erasure_repo.erase_visits(conn, dealer_id, customer_id),
    }
