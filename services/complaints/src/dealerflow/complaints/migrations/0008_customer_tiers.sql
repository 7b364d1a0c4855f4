-- Issue 13 item 2 (tiers; 0006, already released, keeps the first-update clock kind and
-- the pauses). Each customer's tier (vip / key / regular) as the notifier's
-- CustomerTierChanged last said (ids and the tier only: no text about the person). A
-- customer without a row is regular. A complaint takes the tier when it is opened
-- (complaints.customer_tier; NULL for complaints opened before), which shortens its
-- acknowledge, first-update and resolve clocks.
CREATE TABLE customer_tiers (
    dealer_id   text        NOT NULL,
    customer_id uuid        NOT NULL,
    tier        text        NOT NULL CHECK (tier IN ('vip', 'key', 'regular')),
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, customer_id)
);
ALTER TABLE complaints ADD COLUMN customer_tier text
    CHECK (customer_tier IN ('vip', 'key', 'regular'));
