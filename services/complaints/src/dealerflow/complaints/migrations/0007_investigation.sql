-- Investigation of a complaint (GET /v1/complaints/{id}/investigation), from read models
-- kept here, never asked of another service:
-- * the customer's sales at the dealer, from the sales topic (ContractSigned, then
--   VehicleDelivered; ContractCancelled marks one cancelled);
-- * the repair orders kept for repeat-repair detection now remember their customer, the
--   advisor and the kind of work (rows seen before have none: found by VIN);
-- * the customer's confirmation of a resolution (POST /v1/complaints/{id}/confirmation),
--   one row per answer (a reopened complaint is confirmed again).
CREATE TABLE customer_sales (
    dealer_id       text           NOT NULL,
    contract_id     text           NOT NULL,
    customer_id     uuid           NOT NULL,
    model           text,
    vin             text,
    price_amount    numeric(14, 2),
    price_currency  text,
    consultant_id   text,
    signed_at       timestamptz,
    delivery_id     text,
    delivered_at    timestamptz,
    cancelled_at    timestamptz,
    PRIMARY KEY (dealer_id, contract_id)
);
CREATE INDEX customer_sales_customer_idx ON customer_sales (dealer_id, customer_id);

ALTER TABLE repair_visits
    ADD COLUMN customer_id uuid,
    ADD COLUMN advisor_id  text,
    ADD COLUMN work_type   text;
CREATE INDEX repair_visits_customer_idx ON repair_visits (dealer_id, customer_id);

CREATE TABLE complaint_confirmations (
    id           bigserial   PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    dealer_id    text        NOT NULL,
    reopen_count integer     NOT NULL,
    confirmed    boolean     NOT NULL,
    channel      text,
    note         text,
    recorded_by  text,
    at           timestamptz NOT NULL
);
CREATE INDEX complaint_confirmations_complaint_idx
    ON complaint_confirmations (dealer_id, complaint_id, id);
