-- A sales manager's decision on a quote's discount beyond the dealer's threshold (one per
-- quote: approved or rejected, by whom, when, with a note). A quote that needs approval
-- and has no row here awaits the decision.
CREATE TABLE quote_approvals (
    dealer_id    text        NOT NULL,
    quote_id     uuid        NOT NULL,
    approval_id  uuid        NOT NULL,
    decision     text        NOT NULL CHECK (decision IN ('approved', 'rejected')),
    decided_by   text        NOT NULL,
    decided_at   timestamptz NOT NULL,
    note         text,
    PRIMARY KEY (dealer_id, quote_id),
    FOREIGN KEY (dealer_id, quote_id) REFERENCES quotes (dealer_id, id)
);
CREATE INDEX quotes_lead_idx ON quotes (dealer_id, lead_id, issued_at DESC);
