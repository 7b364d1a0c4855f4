"""The sales domain exceptions as RFC 9457 problems (installed by the runtime at HTTP)."""

from __future__ import annotations

from dealerflow.runtime.problems import ProblemMap, ProblemSpec
from dealerflow.sales.usecases import ContractNotActive, ContractNotFound, InvalidPhone
from dealerflow.sales.usecases_contracts import (
    AmendmentRefused,
    CancellationRefused,
    ContractIdTaken,
    ContractNotSignable,
    CurrencyCannotChange,
    UnknownQuote,
)
from dealerflow.sales.usecases_delivery import (
    AlreadyDelivered,
    AlreadyInvoiced,
    CancelledContractNotInvoiced,
    DeliveryInThePast,
    DeliveryNotReady,
    InvalidTaxNumber,
    InvoiceNumberTaken,
    PaymentIdTaken,
    PaymentRefused,
    VinNotAssigned,
    WrongCurrency,
)
from dealerflow.sales.usecases_finance import (
    LoanDecisionRefused,
    LoanNotApproved,
    PaymentNotFound,
    RefundNotAllowed,
    RefundNotConfirmable,
    RefundRefused,
)
from dealerflow.sales.usecases_pdi import PdiNotFound, PdiRefused
from dealerflow.sales.usecases_quotes import ApprovalNotPossible, QuoteNotSignable
from dealerflow.sales.usecases_showroom import (
    QuoteNotFound,
    QuoteRefused,
    TestDriveDoubleBooked,
    TestDriveNotFound,
    TestDriveRefused,
)
from dealerflow.sales.usecases_test_drives import FleetVehicleNotFound, TestDriveStepNotAllowed
from dealerflow.sales.usecases_visits import VisitAlreadyLeft, VisitNotFound, VisitRefused

PROBLEMS: ProblemMap = {
    # 404: not at this dealer
    ContractNotFound: ProblemSpec(404, "not-found", "Contract not found"),
    QuoteNotFound: ProblemSpec(404, "not-found", "Quote not found"),
    TestDriveNotFound: ProblemSpec(404, "not-found", "Test drive not found"),
    VisitNotFound: ProblemSpec(404, "not-found", "Visit not found"),
    FleetVehicleNotFound: ProblemSpec(404, "not-found", "Test-drive vehicle not found"),
    PdiNotFound: ProblemSpec(404, "not-found", "No PDI recorded"),
    # 422: a business rule refuses the request (``errors`` lists why)
    InvalidPhone: ProblemSpec(422, "invalid-phone", "Invalid phone number"),
    ContractNotSignable: ProblemSpec(422, "invalid-contract", "Contract cannot be signed"),
    UnknownQuote: ProblemSpec(422, "validation-error", "Unknown quote"),
    CurrencyCannotChange: ProblemSpec(422, "validation-error", "Currency cannot change"),
    AmendmentRefused: ProblemSpec(422, "invalid-amendment", "Amendment refused"),
    CancellationRefused: ProblemSpec(422, "validation-error", "Cancellation refused"),
    WrongCurrency: ProblemSpec(422, "validation-error", "Wrong currency"),
    InvalidTaxNumber: ProblemSpec(422, "invalid-tax-number", "Invalid tax number"),
    PaymentNotFound: ProblemSpec(404, "not-found", "Payment not found"),
    LoanNotApproved: ProblemSpec(409, "loan-not-approved", "Loan not approved"),
    RefundNotAllowed: ProblemSpec(409, "refund-not-allowed", "Refund not allowed"),
    RefundRefused: ProblemSpec(422, "validation-error", "Refund refused"),
    LoanDecisionRefused: ProblemSpec(422, "validation-error", "Loan decision refused"),
    RefundNotConfirmable: ProblemSpec(409, "refund-not-confirmable", "Refund not confirmable"),
    PaymentRefused: ProblemSpec(422, "invalid-payment", "Payment refused"),
    DeliveryInThePast: ProblemSpec(422, "validation-error", "Delivery in the past"),
    QuoteRefused: ProblemSpec(422, "invalid-quote", "Quote refused"),
    TestDriveRefused: ProblemSpec(422, "invalid-test-drive", "Test drive cannot be booked"),
    VisitRefused: ProblemSpec(422, "invalid-visit", "Visit cannot be recorded"),
    PdiRefused: ProblemSpec(422, "invalid-pdi", "PDI cannot be recorded"),
    # 409: the resource's current state does not allow it
    ContractNotActive: ProblemSpec(409, "contract-not-active", "Contract not active"),
    CancelledContractNotInvoiced: ProblemSpec(409, "contract-not-active", "Contract cancelled"),
    ContractIdTaken: ProblemSpec(409, "contract-id-taken", "Contract id taken"),
    PaymentIdTaken: ProblemSpec(409, "payment-id-taken", "Payment id taken"),
    AlreadyInvoiced: ProblemSpec(409, "already-invoiced", "Already invoiced"),
    InvoiceNumberTaken: ProblemSpec(409, "invoice-number-taken", "Invoice number taken"),
    VinNotAssigned: ProblemSpec(409, "vin-not-assigned", "No vehicle allocated"),
    DeliveryNotReady: ProblemSpec(409, "delivery-not-ready", "Vehicle not ready for delivery"),
    AlreadyDelivered: ProblemSpec(409, "already-delivered", "Already delivered"),
    ApprovalNotPossible: ProblemSpec(409, "approval-not-possible", "Nothing to approve"),
    QuoteNotSignable: ProblemSpec(409, "quote-not-signable", "Quote cannot be signed"),
    VisitAlreadyLeft: ProblemSpec(409, "visit-already-left", "Departure already recorded"),
    TestDriveStepNotAllowed: ProblemSpec(
        409, "test-drive-step-not-allowed", "Not allowed in the test drive's state"
    ),
    TestDriveDoubleBooked: ProblemSpec(
        409, "test-drive-double-booking", "Test-drive vehicle already booked"
    ),
}
