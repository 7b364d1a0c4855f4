-- After-sales: repair orders with their quote, customer decision, work, quality checks
-- and handover; declined items kept for follow-up. Every table carries dealer_id and every
-- key starts with it.

-- A retried POST (same Idempotency-Key or client-supplied id) finds the first result.
CREATE TABLE idempotency_keys (
    dealer_id    text        NOT NULL,
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    resource_id  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, scope, key)
);

CREATE TABLE repair_orders (
    dealer_id               text        NOT NULL,
    id                      uuid        NOT NULL,
    customer_id             uuid        NOT NULL,
    service_appointment_id  text,
    vin                     text        NOT NULL,
    model                   text,
    advisor_id              text        NOT NULL,
    work_type               text        NOT NULL,
    under_warranty          boolean     NOT NULL DEFAULT false,
    mileage_km              integer     NOT NULL CHECK (mileage_km >= 0),
    concerns                jsonb       NOT NULL DEFAULT '[]'::jsonb,
    concern_codes           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    walk_around_findings    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    contact                 jsonb       NOT NULL,
    status                  text        NOT NULL CHECK (status IN ('open', 'diagnosed',
                            'quoted', 'approved', 'declined', 'completed', 'rework', 'ready',
                            'handed_over')),
    opened_at               timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    diagnosis               jsonb,
    -- the current quote: {quote_id, currency, labour_rate, lines: [...], total}
    quote                   jsonb,
    approved_item_ids       jsonb       NOT NULL DEFAULT '[]'::jsonb,
    approved_total          numeric(17, 2),
    completed_item_ids      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    technician_ids          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    work_summary            text,
    labour_hours            numeric(9, 2),
    completed_at            timestamptz,
    handed_over_at          timestamptz,
    handover_mileage_km     integer,
    amount_paid             numeric(17, 2),
    currency                text,
    invoice_number          text,
    next_maintenance_due_on date,
    next_maintenance_due_km integer,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX repair_orders_opened_idx ON repair_orders (dealer_id, opened_at DESC, id DESC);
CREATE INDEX repair_orders_vin_idx ON repair_orders (dealer_id, vin, opened_at);
CREATE INDEX repair_orders_customer_idx ON repair_orders (dealer_id, customer_id);

CREATE TABLE quality_checks (
    dealer_id        text        NOT NULL,
    repair_order_id  uuid        NOT NULL,
    attempt          integer     NOT NULL CHECK (attempt >= 1),
    passed           boolean     NOT NULL,
    reasons          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    repeat_failure   boolean     NOT NULL DEFAULT false,
    reached_customer boolean     NOT NULL DEFAULT false,
    inspector_id     text        NOT NULL,
    checked_at       timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, repair_order_id, attempt),
    FOREIGN KEY (dealer_id, repair_order_id) REFERENCES repair_orders (dealer_id, id)
);

-- Declined lines are kept, followed up (default 30 days) and offered at the next visit.
CREATE TABLE declined_items (
    dealer_id       text        NOT NULL,
    repair_order_id uuid        NOT NULL,
    item_id         text        NOT NULL,
    vin             text        NOT NULL,
    description     text        NOT NULL,
    amount          numeric(17, 2) NOT NULL,
    currency        text        NOT NULL,
    declined_at     timestamptz NOT NULL,
    follow_up_on    date        NOT NULL,
    resolved        boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (dealer_id, repair_order_id, item_id),
    FOREIGN KEY (dealer_id, repair_order_id) REFERENCES repair_orders (dealer_id, id)
);
CREATE INDEX declined_items_vin_idx ON declined_items (dealer_id, vin) WHERE NOT resolved;
