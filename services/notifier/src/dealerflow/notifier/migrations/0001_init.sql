-- Staff tasks (callbacks, follow-ups, escalations). A task is created with a durable
-- timer (key "<dealer_id>:<business_key>") in the same transaction; it is "due" once that
-- timer fired and "done" only when an outcome is recorded.
CREATE TABLE tasks (
    id               uuid        PRIMARY KEY,
    dealer_id        text        NOT NULL,
    customer_id      uuid        NOT NULL,
    business_key     text COLLATE "C" NOT NULL,
    kind             text        NOT NULL,
    title            text        NOT NULL,
    assignee         text        NOT NULL,
    assignee_role    text        NOT NULL,
    due_at           timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'due', 'done', 'cancelled')),
    outcome          text        CHECK (outcome IN ('reached', 'unreachable', 'satisfied',
                                                    'dissatisfied')),
    note             text,
    script           text,
    related_kind     text,
    related_id       text,
    source_event_id  text,
    completed_by     text,
    completion_key   text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    completed_at     timestamptz,
    cancelled_at     timestamptz,
    CONSTRAINT tasks_business_key_uq UNIQUE (dealer_id, business_key),
    CONSTRAINT tasks_outcome_when_done CHECK ((status = 'done') = (outcome IS NOT NULL))
);
-- list endpoints: keyset pagination by (due_at, id) within a dealer, per filter
CREATE INDEX tasks_dealer_due_idx ON tasks (dealer_id, due_at, id);
CREATE INDEX tasks_assignee_due_idx ON tasks (dealer_id, assignee, due_at, id);
CREATE INDEX tasks_customer_due_idx ON tasks (dealer_id, customer_id, due_at, id);
CREATE INDEX tasks_related_idx ON tasks (dealer_id, related_kind, related_id);

-- Customer messages planned for later; the contact policy is applied when they fall due.
CREATE TABLE reminders (
    id               uuid        PRIMARY KEY,
    dealer_id        text        NOT NULL,
    customer_id      uuid        NOT NULL,
    business_key     text COLLATE "C" NOT NULL,
    kind             text        NOT NULL,
    purpose          text        NOT NULL,
    channel          text        NOT NULL,
    send_at          timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'sent', 'suppressed', 'failed',
                                       'cancelled')),
    params           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- contact snapshot at planning time; the latest one (customer_contacts) wins at send time
    contact          jsonb,
    attempts         integer     NOT NULL DEFAULT 0,
    related_kind     text,
    related_id       text,
    source_event_id  text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT reminders_business_key_uq UNIQUE (dealer_id, business_key)
);
CREATE INDEX reminders_customer_idx ON reminders (dealer_id, customer_id, send_at, id);

-- Every message: to customers (reminders) and to staff (warnings, escalation alerts),
-- whatever its outcome (queued, sent, failed, suppressed by a contact policy).
CREATE TABLE notifications (
    id                   uuid        PRIMARY KEY,
    dealer_id            text        NOT NULL,
    customer_id          uuid        NOT NULL,
    audience             text        NOT NULL CHECK (audience IN ('customer', 'staff')),
    recipient            text,
    business_key         text COLLATE "C" NOT NULL,
    reminder_id          uuid        REFERENCES reminders (id),
    kind                 text        NOT NULL,
    purpose              text,
    channel              text        NOT NULL,
    locale               text,
    subject              text,
    body                 text,
    status               text        NOT NULL
                         CHECK (status IN ('queued', 'sent', 'failed', 'suppressed')),
    policy               text,
    error                text,
    provider_message_id  text,
    attempts             integer     NOT NULL DEFAULT 0,
    related_kind         text,
    related_id           text,
    created_at           timestamptz NOT NULL,
    sent_at              timestamptz
);
CREATE INDEX notifications_customer_idx ON notifications (dealer_id, customer_id, created_at, id);
CREATE INDEX notifications_dealer_idx ON notifications (dealer_id, created_at, id);
CREATE INDEX notifications_sent_key_idx ON notifications (dealer_id, customer_id, business_key)
    WHERE status = 'sent';

-- Latest contact snapshot per customer (from any event carrying one), so a message due
-- months later uses the newest consent and address.
CREATE TABLE customer_contacts (
    dealer_id    text        NOT NULL,
    customer_id  uuid        NOT NULL,
    contact      jsonb       NOT NULL,
    as_of        timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, customer_id)
);

-- Per-dealer policy overrides (merged over the defaults and the service-wide overrides).
CREATE TABLE dealer_policy (
    dealer_id   text        PRIMARY KEY,
    overrides   jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL
);
