-- Sales: quotes, contracts (with every version), payment ledger, invoices, deliveries,
-- test drives. Every table carries dealer_id and every key starts with it: one dealer
-- never sees (or collides with) another dealer's rows.

-- A retried POST (same Idempotency-Key, or the same client-supplied id) finds the row
-- the first attempt created instead of creating a second one.
CREATE TABLE idempotency_keys (
    dealer_id    text        NOT NULL,
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    resource_id  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, scope, key)
);

CREATE TABLE quotes (
    dealer_id        text        NOT NULL,
    id               uuid        NOT NULL,
    customer_id      uuid        NOT NULL,
    lead_id          text,
    consultant_id    text        NOT NULL,
    currency         text        NOT NULL,
    vehicle          jsonb       NOT NULL,
    new_energy       boolean     NOT NULL,
    lines            jsonb       NOT NULL,
    payment          jsonb       NOT NULL,
    loan             jsonb,
    total            numeric(17, 2) NOT NULL,
    needs_approval   boolean     NOT NULL,
    approval_id      uuid,
    valid_until      date        NOT NULL,
    issued_at        timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX quotes_customer_idx ON quotes (dealer_id, customer_id, issued_at DESC);

CREATE TABLE contracts (
    dealer_id           text        NOT NULL,
    id                  uuid        NOT NULL,
    customer_id         uuid        NOT NULL,
    version             integer     NOT NULL DEFAULT 1,
    status              text        NOT NULL CHECK (status IN ('active', 'cancelled', 'delivered')),
    quote_id            uuid,
    lead_id             text,
    consultant_id       text        NOT NULL,
    contact             jsonb       NOT NULL,
    address             text        NOT NULL,
    identity_verified   boolean     NOT NULL,
    model               text        NOT NULL,
    configuration       text        NOT NULL,
    colour              text        NOT NULL,
    vin                 text,
    price               numeric(17, 2) NOT NULL,
    currency            text        NOT NULL,
    payment             jsonb       NOT NULL,
    planned_delivery_on date        NOT NULL,
    signed_at           timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    cancelled_at        timestamptz,
    cancel_reason       text,
    delivered_at        timestamptz,
    PRIMARY KEY (dealer_id, id)
);
-- The list endpoint pages by (signed_at, id) newest first, optionally by status/consultant.
CREATE INDEX contracts_signed_idx ON contracts (dealer_id, signed_at DESC, id DESC);
CREATE INDEX contracts_customer_idx ON contracts (dealer_id, customer_id);
CREATE INDEX contracts_vin_idx ON contracts (dealer_id, vin);

-- Amendments never edit history: every version's terms stay on record.
CREATE TABLE contract_versions (
    dealer_id      text        NOT NULL,
    contract_id    uuid        NOT NULL,
    version        integer     NOT NULL,
    status         text        NOT NULL,
    terms          jsonb       NOT NULL,
    changed_fields jsonb       NOT NULL DEFAULT '[]'::jsonb,
    reason         text,
    effective_at   timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, contract_id, version),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);

-- The payment ledger: money in (deposit, balance, full, loan disbursement) and refunds.
CREATE TABLE payments (
    dealer_id    text        NOT NULL,
    id           uuid        NOT NULL,
    contract_id  uuid        NOT NULL,
    kind         text        NOT NULL
                 CHECK (kind IN ('deposit', 'balance', 'full', 'loan_disbursement', 'refund')),
    method       text,
    amount       numeric(17, 2) NOT NULL CHECK (amount > 0),
    currency     text        NOT NULL,
    confirmed    boolean     NOT NULL,
    reason       text,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);
CREATE INDEX payments_contract_idx ON payments (dealer_id, contract_id, recorded_at);

CREATE TABLE invoices (
    dealer_id      text        NOT NULL,
    id             uuid        NOT NULL,
    contract_id    uuid        NOT NULL,
    invoice_number text        NOT NULL,
    invoice_title  text        NOT NULL,
    tax_number     text,
    amount         numeric(17, 2) NOT NULL,
    tax_amount     numeric(17, 2) NOT NULL,
    currency       text        NOT NULL,
    issued_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, contract_id),
    UNIQUE (dealer_id, invoice_number),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);

CREATE TABLE deliveries (
    dealer_id     text        NOT NULL,
    id            uuid        NOT NULL,
    contract_id   uuid        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('scheduled', 'delivered')),
    scheduled_for timestamptz,
    location      text,
    delivered_at  timestamptz,
    odometer_km   integer,
    checklist     jsonb,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, contract_id),
    FOREIGN KEY (dealer_id, contract_id) REFERENCES contracts (dealer_id, id)
);

CREATE TABLE test_drives (
    dealer_id       text        NOT NULL,
    id              uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    lead_id         text,
    vehicle_id      text        NOT NULL,
    model           text        NOT NULL,
    consultant_id   text        NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    route           text,
    licence_number  text        NOT NULL,
    licence_expires date        NOT NULL,
    contact         jsonb       NOT NULL,
    cancelled       boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX test_drives_vehicle_idx ON test_drives (dealer_id, vehicle_id, starts_at);
