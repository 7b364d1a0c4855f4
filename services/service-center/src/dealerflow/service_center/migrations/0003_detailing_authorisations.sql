-- Detailing and accessory work (issue 12, handbook 10.2): what the customer was shown and
-- authorised before the work starts. One row per repair order, replaced when the advisor
-- records it again; ids, amounts, flags and times only. Row-level security applies.
CREATE TABLE detailing_authorisations (
    dealer_id           text        NOT NULL,
    repair_order_id     uuid        NOT NULL,
    kind                text        NOT NULL,
    standard_hours      numeric(6, 2),
    fee                 numeric(14, 2),
    currency            text,
    affects             text[]      NOT NULL DEFAULT '{}',
    service_contract_id text,
    risks_explained     boolean     NOT NULL,
    customer_authorised boolean     NOT NULL,
    recorded_by         text,
    recorded_at         timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, repair_order_id)
);
