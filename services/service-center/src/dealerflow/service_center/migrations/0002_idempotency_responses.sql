-- idempotency_keys now has the shape dealerflow.runtime.idempotency uses in every service:
-- a retry is answered either from the resource the first request created (resource_id, as
-- here) or from the first response itself (status_code, response); a claim without a
-- request_hash is not compared. Existing rows keep their meaning.
ALTER TABLE idempotency_keys
    ALTER COLUMN request_hash DROP NOT NULL,
    ALTER COLUMN resource_id DROP NOT NULL,
    ADD COLUMN status_code integer,
    ADD COLUMN response jsonb;
