-- Steps on a booked appointment (issue 10): moved to another time, cancelled, attended,
-- no-show. The status column existed from 0001 with 'scheduled' only; now it ends one of
-- three ways, and the row keeps when and why.
ALTER TABLE appointments
    -- how often it was moved to another time
    ADD COLUMN rescheduled_count integer     NOT NULL DEFAULT 0,
    -- when it ended: cancelled at, the customer's arrival, the no-show recorded at
    ADD COLUMN ended_at          timestamptz,
    ADD COLUMN cancelled_by      text CHECK (cancelled_by IN ('customer', 'dealer')),
    -- why it was last moved, or why it was cancelled
    ADD COLUMN reason            text,
    -- the last step on it (NULL: unchanged since booked)
    ADD COLUMN updated_at        timestamptz,
    ADD CONSTRAINT appointments_status_known
        CHECK (status IN ('scheduled', 'cancelled', 'attended', 'no_show')),
    ADD CONSTRAINT appointments_ended_when_not_scheduled
        CHECK ((status = 'scheduled') = (ended_at IS NULL));
