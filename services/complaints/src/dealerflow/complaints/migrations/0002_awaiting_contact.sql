-- Automatic complaints whose customer's contact is not known yet (e.g. a TaskCompleted
-- consumed before the VehicleDelivered that carries the contact, which travels on another
-- topic). They open as soon as a contact snapshot arrives; after the wait
-- (contact_wait) the triggering event is dead-lettered with the reason.
CREATE TABLE awaiting_contact (
    dealer_id      text        NOT NULL,
    trigger_ref    text        NOT NULL,
    customer_id    uuid        NOT NULL,
    event_type     text        NOT NULL,
    event          jsonb       NOT NULL,
    event_id       text        NOT NULL,
    source         text        NOT NULL,
    correlation_id text,
    causation_id   text,
    event_time     timestamptz NOT NULL,
    topic          text        NOT NULL,
    kafka_partition integer    NOT NULL,
    kafka_offset   bigint      NOT NULL,
    consumer       text        NOT NULL,
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, trigger_ref)
);
CREATE INDEX awaiting_contact_customer_idx ON awaiting_contact (dealer_id, customer_id);
