-- Finance confirms a payment a salesperson entered (who, when). Only confirmed money
-- counts as paid; rows confirmed when entered keep NULL here (confirmed at recording).
ALTER TABLE payments
    ADD COLUMN confirmed_by text,
    ADD COLUMN confirmed_at timestamptz,
    ADD CONSTRAINT payments_confirmation_whole
        CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL)),
    ADD CONSTRAINT payments_confirmation_confirms
        CHECK (confirmed_by IS NULL OR confirmed);

-- The lender's decision on a contract's loan (the latest one counts: a declined loan may
-- be followed by another lender's approval). A loan disbursement is recorded only
-- against an approved loan, up to the approved amount.
CREATE TABLE loan_approvals (
    dealer_id       text        NOT NULL,
    contract_id     uuid        NOT NULL,
    lender          text        NOT NULL,
    decision        text        NOT NULL CHECK (decision IN ('approved', 'declined')),
    reference       text        NOT NULL,
    approved_amount numeric(17, 2) CHECK (approved_amount > 0),
    currency        text        NOT NULL,
    decided_at      timestamptz NOT NULL,
    recorded_by     text        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    CHECK ((decision = 'approved') = (approved_amount IS NOT NULL)),
    PRIMARY KEY (dealer_id, contract_id),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);
