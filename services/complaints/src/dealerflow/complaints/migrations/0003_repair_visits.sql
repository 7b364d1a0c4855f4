-- Repair orders seen on the service topic, to detect repeat repairs: the same vehicle
-- with the same concern again within the dealer's window (default 30 days) after an
-- earlier repair was handed over opens a complaint.
CREATE TABLE repair_visits (
    dealer_id       text        NOT NULL,
    repair_order_id text        NOT NULL,
    vin             text        NOT NULL,
    concerns        text[]      NOT NULL DEFAULT '{}',
    opened_at       timestamptz,
    completed_at    timestamptz,
    PRIMARY KEY (dealer_id, repair_order_id)
);
CREATE INDEX repair_visits_vin_idx ON repair_visits (dealer_id, vin, completed_at);
