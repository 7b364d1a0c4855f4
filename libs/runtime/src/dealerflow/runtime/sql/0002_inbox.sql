-- Idempotent consumers: one row per (consumer, event id) handled, written in the same
-- transaction as the handler's effects (see dealerflow.runtime.inbox).
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
