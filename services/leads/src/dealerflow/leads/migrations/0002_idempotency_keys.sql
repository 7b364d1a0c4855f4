-- Idempotency-Key requests move to the table dealerflow.runtime.idempotency uses in every
-- service (same columns as there); the stored responses come along, so a retry of a request
-- answered before this migration still gets its first answer. Earlier rows have no
-- request_hash (never compared), as before.
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

INSERT INTO idempotency_keys (dealer_id, scope, key, status_code, response, created_at)
SELECT dealer_id, operation, idempotency_key, status_code, response, created_at
FROM idempotent_requests;

DROP TABLE idempotent_requests;
