-- Issue 13 (clocks per severity and tier).
-- A fourth clock kind: the first update to the customer (per-severity SLA, the dealer's
-- own promise inside the legal inform clock). Complaints opened before keep their three.
ALTER TABLE complaint_clocks DROP CONSTRAINT complaint_clocks_kind_check;
ALTER TABLE complaint_clocks ADD CONSTRAINT complaint_clocks_kind_check
    CHECK (kind IN ('acknowledge', 'resolve', 'inform', 'first_update'));
