-- The showroom visit register: one row per visit (arrival, party size, first or return
-- visit, consultant, departure and duration, the lead/customer it belongs to) with its
-- needs analysis (use, budget, body type, priorities, urgency) as the JSON VisitNeeds of
-- the contracts. contact and needs hold personal data: the eraser anonymises them.
CREATE TABLE showroom_visits (
    dealer_id        text        NOT NULL,
    id               uuid        NOT NULL,
    customer_id      uuid        NOT NULL,
    lead_id          text,
    consultant_id    text        NOT NULL,
    arrived_at       timestamptz NOT NULL,
    party_size       integer     NOT NULL CHECK (party_size BETWEEN 1 AND 50),
    visit_kind       text        NOT NULL CHECK (visit_kind IN ('first', 'return')),
    left_at          timestamptz CHECK (left_at IS NULL OR left_at >= arrived_at),
    contact          jsonb       NOT NULL,
    needs            jsonb,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX showroom_visits_customer_idx ON showroom_visits (dealer_id, customer_id, arrived_at);
