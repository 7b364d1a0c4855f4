-- Idempotency-Key requests (opening a complaint, staff actions) move to the table
-- dealerflow.runtime.idempotency uses in every service (same columns as there); the
-- complaint row no longer carries a key or a request hash.
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

-- Complaints opened before keep answering their retries with the first complaint: the
-- Idempotency-Key header ("key:<header>") and the id, as a client-chosen id ("id:<id>";
-- which manual complaints had one is not recorded, and a server-chosen id is never sent).
-- Earlier request hashes were computed differently: not carried over (never compared).
INSERT INTO idempotency_keys (dealer_id, scope, key, resource_id, created_at)
SELECT dealer_id, 'complaints', 'key:' || idempotency_key, id::text, created_at
FROM complaints WHERE idempotency_key IS NOT NULL;

INSERT INTO idempotency_keys (dealer_id, scope, key, resource_id, created_at)
SELECT dealer_id, 'complaints', 'id:' || id::text, id::text, created_at
FROM complaints WHERE origin_kind = 'manual';

-- idempotency_key / request_hash (and their index) stay for one release: replicas of the
-- previous release still write them during a rolling deploy. Nothing reads them any more;
-- a later migration drops them.
COMMENT ON COLUMN complaints.idempotency_key IS 'unused since 0004 (idempotency_keys); dropped later';
COMMENT ON COLUMN complaints.request_hash IS 'unused since 0004 (idempotency_keys); dropped later';
