-- Leads service tables. Every table has dealer_id and every query filters by it.

-- The dealer's sales consultants (PUT /v1/dealers/{dealer_id}/consultants).
CREATE TABLE consultants (
    dealer_id     text        NOT NULL,
    consultant_id text        NOT NULL,
    name          text,
    on_duty       boolean     NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, consultant_id)
);

-- Round-robin state per dealer: the last consultant a lead went to.
CREATE TABLE assignment_rotation (
    dealer_id        text        PRIMARY KEY,
    last_assigned_id text,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE leads (
    dealer_id              text        NOT NULL,
    lead_id                uuid        NOT NULL,
    customer_id            uuid        NOT NULL,
    phone_e164             text        NOT NULL,
    grade                  text        NOT NULL DEFAULT 'N',
    status                 text        NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'converted', 'delivered', 'lost')),
    -- 0 = referred by an existing customer (worked first), 1 = everything else
    priority_rank          smallint    NOT NULL DEFAULT 1,
    channel                text        NOT NULL,
    source                 text        NOT NULL,
    source_detail          text,
    referrer_customer_id   uuid,
    consultant_id          text,
    contact                jsonb       NOT NULL,
    interest               jsonb       NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    last_touch_at          timestamptz NOT NULL,
    touch_count            integer     NOT NULL DEFAULT 1,
    graded_at              timestamptz,
    last_contacted_at      timestamptz,
    next_contact_at        timestamptz,
    invitation_declined_at timestamptz,
    reengaged_at           timestamptz,
    lost_reason            text,
    lost_note              text,
    contract_id            text,
    closed_at              timestamptz,
    PRIMARY KEY (dealer_id, lead_id)
);
-- One open lead per person and dealer (DOMAIN.md 1); delivered (D) and lost (F) leads
-- are closed, so a returning customer starts a new one.
CREATE UNIQUE INDEX leads_one_open_per_phone
    ON leads (dealer_id, phone_e164) WHERE grade NOT IN ('D', 'F');
CREATE INDEX leads_by_priority ON leads (dealer_id, priority_rank, created_at DESC, lead_id DESC);
CREATE INDEX leads_by_consultant ON leads (dealer_id, consultant_id);
CREATE INDEX leads_by_customer ON leads (dealer_id, customer_id);
CREATE INDEX leads_by_phone ON leads (dealer_id, phone_e164);

-- Every accepted submission (HTTP or inbound topic): the creation or a touch.
CREATE TABLE lead_submissions (
    dealer_id     text        NOT NULL,
    submission_id uuid        NOT NULL,
    lead_id       uuid        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('created', 'touched')),
    -- the sender's id of the submission: a redelivery with the same id changes nothing
    external_id   text,
    format        text        NOT NULL,
    channel       text        NOT NULL,
    source        text        NOT NULL,
    received_at   timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    PRIMARY KEY (dealer_id, submission_id)
);
CREATE UNIQUE INDEX lead_submissions_external
    ON lead_submissions (dealer_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX lead_submissions_by_lead ON lead_submissions (dealer_id, lead_id, received_at);

-- Every (re)assignment of a lead.
CREATE TABLE lead_assignments (
    dealer_id              text        NOT NULL,
    assignment_id          uuid        NOT NULL,
    lead_id                uuid        NOT NULL,
    consultant_id          text        NOT NULL,
    previous_consultant_id text,
    reason                 text        NOT NULL,
    assigned_by            text,
    assigned_at            timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, assignment_id)
);
CREATE INDEX lead_assignments_by_lead ON lead_assignments (dealer_id, lead_id, assigned_at);

-- The contact log (the consultant's daily visit report).
CREATE TABLE contact_log (
    dealer_id           text        NOT NULL,
    entry_id            uuid        NOT NULL,
    lead_id             uuid        NOT NULL,
    consultant_id       text        NOT NULL,
    contacted_at        timestamptz NOT NULL,
    channel             text        NOT NULL,
    outcome             text        NOT NULL,
    grade_before        text        NOT NULL,
    grade_after         text        NOT NULL,
    next_contact_at     timestamptz,
    notes               text,
    customer_initiated  boolean     NOT NULL DEFAULT false,
    invitation_declined boolean     NOT NULL DEFAULT false,
    recorded_at         timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, entry_id)
);
CREATE INDEX contact_log_by_lead ON contact_log (dealer_id, lead_id, contacted_at);

CREATE TABLE appointments (
    dealer_id      text        NOT NULL,
    appointment_id text        NOT NULL,
    lead_id        uuid        NOT NULL,
    purpose        text        NOT NULL,
    scheduled_for  timestamptz NOT NULL,
    consultant_id  text        NOT NULL,
    location       text,
    status         text        NOT NULL DEFAULT 'scheduled',
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, appointment_id)
);
CREATE INDEX appointments_by_lead ON appointments (dealer_id, lead_id, scheduled_for);

-- Responses of POST requests sent with an Idempotency-Key: a retry gets the same answer.
CREATE TABLE idempotent_requests (
    dealer_id       text        NOT NULL,
    idempotency_key text        NOT NULL,
    operation       text        NOT NULL,
    status_code     integer     NOT NULL,
    response        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, operation, idempotency_key)
);
