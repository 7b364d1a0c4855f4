-- Transactional outbox: rows written in the business transaction, published to Kafka by
-- the OutboxRelay in id order and deleted once Kafka has acknowledged them (the topic is
-- the record of what was published; a row still here has not been acknowledged yet).
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        bytea,
    value      bytea       NOT NULL,
    -- Kafka headers as a JSON array of [name, value] pairs; a value is a string when it is
    -- valid UTF-8 (all CloudEvents headers are), else {"b64": "..."}.
    headers    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- publish attempts that failed, and the last failure: a row that Kafka keeps refusing
    -- blocks the rows behind it (order), so it must be visible
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text
);
