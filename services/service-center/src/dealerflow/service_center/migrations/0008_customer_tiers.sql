-- After-sales tiers (issue 12): the ServiceTierChanged tier published per dealer and
-- customer (A/B/C/D by visit days in the last 12 months), so a tier is published once per
-- change (at a handover or the daily retention scan). Ids and counts only, no customer
-- text: the eraser keeps it, like the customer id of the repair orders.
CREATE TABLE customer_tiers (
    dealer_id             text        NOT NULL,
    customer_id           uuid        NOT NULL,
    tier                  text        NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D')),
    visits_last_12_months integer     NOT NULL CHECK (visits_last_12_months >= 0),
    changed_at            timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, customer_id)
);
