-- Idempotency-Key of POST /v1/tasks/{id}/complete goes through dealerflow.runtime.idempotency
-- (the table every service has) instead of a column of its own: scope
-- "task-completion:<task id>", key "key:<header>", resource_id the task id.
CREATE TABLE idempotency_keys (
    dealer_id    text        NOT NULL,
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text,
    resource_id  text,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, scope, key)
);

INSERT INTO idempotency_keys (dealer_id, scope, key, resource_id, created_at)
SELECT dealer_id, 'task-completion:' || id, 'key:' || completion_key, id::text, coalesce(completed_at, updated_at)
FROM tasks
WHERE completion_key IS NOT NULL;

-- The column stays for one release (replicas of the previous release still write it
-- during a rolling deploy); nothing reads it any more. A later migration drops it.
COMMENT ON COLUMN tasks.completion_key IS 'unused since 0002 (runtime idempotency_keys); dropped later';
