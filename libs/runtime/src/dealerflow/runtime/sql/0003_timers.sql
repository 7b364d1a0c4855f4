-- Durable timers (callbacks, reminders, SLA clocks, escalations), fired by TimerPoller.
CREATE TABLE timers (
    id         bigserial   PRIMARY KEY,
    -- business key, e.g. "complaint:123:ack-sla"; C collation so cancel_prefix is an
    -- index range scan
    key        text COLLATE "C" NOT NULL,
    kind       text        NOT NULL,
    dealer_id  text        NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status     text        NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'fired', 'cancelled', 'failed')),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    fired_at   timestamptz
);

-- One pending timer per key: scheduling the same key again is a no-op until it fires.
CREATE UNIQUE INDEX timers_pending_key_uq ON timers (key) WHERE status = 'pending';

-- The poller's claim query; only pending rows are indexed, so its cost does not grow with
-- history and stays flat as pending timers grow.
CREATE INDEX timers_pending_due_idx ON timers (due_at) WHERE status = 'pending';
