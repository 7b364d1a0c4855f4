-- Consent the customer controls (issue 14): every change of consent per purpose and
-- channel, recorded by staff (POST /v1/customers/{id}/consents), an inbound reply, an
-- unsubscribe link or consumed from another system's ConsentChanged. The newest change
-- per purpose and channel is the customer's current consent and wins over the contact
-- snapshots at send time (domain_consent). Ids, times and codes only: nothing to erase.
--
-- consent_id: ours (a uuid) or the other system's ConsentChanged.consent_id, so a
-- redelivered or self-consumed event is kept once. channel NULL = every channel.
-- recorded_by: the staff member or client (token subject) who recorded it, NULL when it
-- came from an event or the customer.
CREATE TABLE consent_changes (
    dealer_id        text        NOT NULL,
    consent_id       text COLLATE "C" NOT NULL,
    customer_id      uuid        NOT NULL,
    purpose          text        NOT NULL CHECK (purpose IN ('service', 'marketing')),
    channel          text        CHECK (channel IN ('sms', 'wechat', 'email', 'webhook')),
    granted          boolean     NOT NULL,
    source           text        NOT NULL,
    recorded_by      text,
    source_event_id  text,
    changed_at       timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, consent_id)
);
CREATE INDEX consent_changes_customer_idx
    ON consent_changes (dealer_id, customer_id, changed_at, consent_id);

-- Complaints of each customer as the complaints topic tells them (ComplaintOpened /
-- ComplaintReopened open, ComplaintClosed closes): while one is open (closed_at NULL)
-- marketing to the customer is suppressed (decide_send, policy open_complaint). opened_at
-- is the latest opening; a redelivered opening after the close, or a close older than
-- the latest reopening, changes nothing. Ids and times only: nothing to erase.
CREATE TABLE customer_complaints (
    dealer_id     text        NOT NULL,
    complaint_id  text COLLATE "C" NOT NULL,
    customer_id   uuid        NOT NULL,
    opened_at     timestamptz NOT NULL,
    closed_at     timestamptz,
    PRIMARY KEY (dealer_id, complaint_id)
);
CREATE INDEX customer_complaints_open_idx
    ON customer_complaints (dealer_id, customer_id) WHERE closed_at IS NULL;

-- Inbound SMS replies (POST /v1/inbound/sms from the SMS gateway): every reply is kept;
-- an opt-out keyword (TD, T, STOP, 退订, N) withdraws marketing by SMS for the customers
-- known with that phone (customer_ids; their consent_changes say reply_keyword). Phone and
-- text are personal data: the eraser clears both (phone NULL, text replaced).
CREATE TABLE inbound_sms (
    dealer_id     text        NOT NULL,
    id            uuid        NOT NULL,
    phone         text,
    text          text        NOT NULL,
    opt_out       boolean     NOT NULL,
    customer_ids  uuid[]      NOT NULL DEFAULT '{}',
    received_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX inbound_sms_phone_idx ON inbound_sms (dealer_id, phone);
CREATE INDEX inbound_sms_customers_idx ON inbound_sms USING gin (customer_ids);
