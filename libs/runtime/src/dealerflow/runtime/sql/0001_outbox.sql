-- Transactional outbox: rows written in the business transaction, published to Kafka by
-- the OutboxRelay in id order, marked published after Kafka acknowledged them and deleted
-- after a retention period.
CREATE TABLE outbox (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    key          bytea,
    value        bytea       NOT NULL,
    -- Kafka headers as a JSON array of [name, value] pairs; a value is a string when it is
    -- valid UTF-8 (all CloudEvents headers are), else {"b64": "..."}.
    headers      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);

-- The relay's only read: unpublished rows in id order. Stays small however many
-- published rows are retained.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Retention clean-up of published rows.
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
