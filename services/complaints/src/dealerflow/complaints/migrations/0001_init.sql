-- complaints service: complaints, their SLA clocks, history, contact directory, policy.
-- Every table carries dealer_id and every query filters by it.

CREATE TABLE complaints (
    id               uuid        PRIMARY KEY,
    dealer_id        text        NOT NULL,
    customer_id      uuid        NOT NULL,
    status           text        NOT NULL
                     CHECK (status IN ('opened', 'acknowledged', 'resolved', 'closed', 'reopened')),
    channel          text        NOT NULL,
    category         text        NOT NULL,
    severity         text        NOT NULL CHECK (severity IN ('critical', 'high', 'normal')),
    summary          text        NOT NULL,
    details          text,
    handler_id       text        NOT NULL,
    department       text,
    vin              text,
    origin_kind      text        NOT NULL,
    -- what opened it automatically ("task:<id>", "survey:<id>", "quality_check:<ro>:<n>"):
    -- unique per dealer, so one trigger never opens two complaints
    origin_ref       text,
    origin           jsonb       NOT NULL,
    contact          jsonb       NOT NULL,
    idempotency_key  text,
    request_hash     text,
    escalation_level integer     NOT NULL DEFAULT 0,
    reopen_count     integer     NOT NULL DEFAULT 0,
    paused_at        timestamptz,
    pause_reason     text,
    opened_at        timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    informed_at      timestamptz,
    first_resolved_at timestamptz,
    resolved_at      timestamptz,
    closed_at        timestamptz,
    reopened_at      timestamptz,
    resolution       jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX complaints_origin_uq ON complaints (dealer_id, origin_ref)
    WHERE origin_ref IS NOT NULL;
CREATE UNIQUE INDEX complaints_idempotency_uq ON complaints (dealer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- keyset pagination: newest first
CREATE INDEX complaints_dealer_opened_idx ON complaints (dealer_id, opened_at DESC, id DESC);
CREATE INDEX complaints_dealer_customer_idx ON complaints (dealer_id, customer_id);
CREATE INDEX complaints_dealer_status_idx ON complaints (dealer_id, status);

-- One row per arming of a clock kind: a reopened complaint gets a new resolve row
-- (reopen_count), so every clock stays visible. attempt counts re-arms after breaches.
CREATE TABLE complaint_clocks (
    complaint_id     uuid        NOT NULL REFERENCES complaints (id),
    dealer_id        text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('acknowledge', 'resolve', 'inform')),
    reopen_count     integer     NOT NULL DEFAULT 0,
    status           text        NOT NULL
                     CHECK (status IN ('running', 'paused', 'overdue', 'met', 'stopped')),
    sla              jsonb       NOT NULL,
    pausable         boolean     NOT NULL,
    attempt          integer     NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL,
    due_at           timestamptz,
    first_due_at     timestamptz NOT NULL,
    paused_at        timestamptz,
    remaining        interval,
    timer_key        text,
    breaches         integer     NOT NULL DEFAULT 0,
    last_breached_at timestamptz,
    escalation_level integer     NOT NULL DEFAULT 0,
    stopped_at       timestamptz,
    stopped_by       text,
    PRIMARY KEY (complaint_id, kind, reopen_count)
);
CREATE INDEX complaint_clocks_dealer_idx ON complaint_clocks (dealer_id, complaint_id);

-- What happened to a complaint, by whom. trigger_ref makes an automatic action (a
-- verification callback reopening it) happen once per trigger.
CREATE TABLE complaint_history (
    id           bigserial   PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    dealer_id    text        NOT NULL,
    action       text        NOT NULL,
    actor        text,
    at           timestamptz NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    trigger_ref  text
);
CREATE INDEX complaint_history_complaint_idx ON complaint_history (dealer_id, complaint_id, id);
CREATE UNIQUE INDEX complaint_history_trigger_uq ON complaint_history (dealer_id, trigger_ref)
    WHERE trigger_ref IS NOT NULL;

-- Latest contact snapshot per customer, from any event that carries one (leads, sales,
-- service), refreshed by ConsentChanged: complaints opened automatically from a callback
-- or survey reach the customer without calling another service.
CREATE TABLE customer_contacts (
    dealer_id   text        NOT NULL,
    customer_id uuid        NOT NULL,
    contact     jsonb       NOT NULL,
    observed_at timestamptz NOT NULL,
    source_type text        NOT NULL,
    PRIMARY KEY (dealer_id, customer_id)
);

CREATE TABLE dealer_policy (
    dealer_id  text        PRIMARY KEY,
    overrides  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
