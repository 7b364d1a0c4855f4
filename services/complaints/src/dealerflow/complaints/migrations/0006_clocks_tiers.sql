-- Issue 13 (clocks per severity and tier).
-- A fourth clock kind: the first update to the customer (per-severity SLA, the dealer's
-- own promise inside the legal inform clock). Complaints opened before keep their three.
ALTER TABLE complaint_clocks DROP CONSTRAINT complaint_clocks_kind_check;
ALTER TABLE complaint_clocks ADD CONSTRAINT complaint_clocks_kind_check
    CHECK (kind IN ('acknowledge', 'resolve', 'inform', 'first_update'));

-- Every pause of a complaint's clocks (waiting on the customer): who paused, why, which
-- clocks ("<kind>:<reopen_count>"), and when and how it ended (resume, or resolve while
-- paused). At most one open pause per complaint. `reason` is staff free text about the
-- customer: the eraser overwrites it.
CREATE TABLE complaint_pauses (
    id           bigserial   PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    dealer_id    text        NOT NULL,
    paused_at    timestamptz NOT NULL,
    paused_by    text,
    reason       text        NOT NULL,
    clocks       text[]      NOT NULL,
    resumed_at   timestamptz,
    resumed_by   text,
    ended_by     text        CHECK (ended_by IN ('resume', 'resolve'))
);
CREATE INDEX complaint_pauses_complaint_idx ON complaint_pauses (dealer_id, complaint_id, id);
CREATE UNIQUE INDEX complaint_pauses_open_uq ON complaint_pauses (dealer_id, complaint_id)
    WHERE resumed_at IS NULL;

-- A complaint paused right now gets its open pause (who from its last "paused" history
-- entry). Pauses that ended before this migration stay in the history only.
INSERT INTO complaint_pauses (complaint_id, dealer_id, paused_at, paused_by, reason, clocks)
SELECT c.id, c.dealer_id, c.paused_at,
    (SELECT h.actor FROM complaint_history h
     WHERE h.dealer_id = c.dealer_id AND h.complaint_id = c.id AND h.action = 'paused'
     ORDER BY h.id DESC LIMIT 1),
    coalesce(c.pause_reason, ''),
    coalesce((SELECT array_agg(k.kind || ':' || k.reopen_count ORDER BY k.reopen_count, k.kind)
              FROM complaint_clocks k
              WHERE k.dealer_id = c.dealer_id AND k.complaint_id = c.id
                AND k.status = 'paused'), '{}')
FROM complaints c
WHERE c.paused_at IS NOT NULL;
