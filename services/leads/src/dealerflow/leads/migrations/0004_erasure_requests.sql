-- Erasure requests (PIPL Art. 47 / GDPR Art. 17) recorded at leads, the owner of the
-- customer's first record. A request names the customer by id only; carried_out_at is set
-- when leads itself has anonymised what it holds (every other service does it on the
-- CustomerErasureRequested event). Row-level security applies (dealer_id).
CREATE TABLE erasure_requests (
    dealer_id       text        NOT NULL,
    erasure_id      uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    basis           text        NOT NULL,
    requested_by    text        NOT NULL,
    requested_at    timestamptz NOT NULL,
    carried_out_at  timestamptz,
    PRIMARY KEY (dealer_id, erasure_id)
);

CREATE INDEX erasure_requests_by_customer
    ON erasure_requests (dealer_id, customer_id, requested_at DESC);
