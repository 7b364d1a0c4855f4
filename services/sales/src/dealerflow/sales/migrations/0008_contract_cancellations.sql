-- How a contract was cancelled, so that money finance confirms only after the
-- cancellation (entered before it, awaiting confirmation) is refunded by the same
-- deposit rule: who cancelled, the agreed non-refundable costs and whether the dealer's
-- policy kept the deposit (sales.forfeit_deposit_on_customer_cancellation at the time).
CREATE TABLE contract_cancellations (
    dealer_id            text           NOT NULL,
    contract_id          uuid           NOT NULL,
    cancelled_by         text           NOT NULL
        CHECK (cancelled_by IN ('customer', 'dealer', 'mutual')),
    non_refundable_costs numeric(17, 2) NOT NULL CHECK (non_refundable_costs >= 0),
    forfeit_deposit      boolean        NOT NULL,
    cancelled_at         timestamptz    NOT NULL,
    PRIMARY KEY (dealer_id, contract_id),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);
