-- The daily retention scan (issue 12): the CustomerAtRisk level published per dealer and
-- VIN and the last visit (or delivery) it counted from, so each level is published once
-- per spell without a visit (a later visit starts a new spell). No customer data here.
CREATE TABLE retention_levels (
    dealer_id     text        NOT NULL,
    vin           text        NOT NULL,
    level         text        NOT NULL CHECK (level IN ('at_risk', 'lost')),
    last_visit_at timestamptz NOT NULL,
    published_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, vin)
);
