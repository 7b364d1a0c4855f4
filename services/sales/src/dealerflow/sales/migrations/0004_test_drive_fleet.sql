-- Test drives in depth (issue 11, item 3): the dealer's test-drive fleet, bookings that
-- PostgreSQL itself never lets overlap, the drive's start (licence checked on the day,
-- route, the customer's signed consent), its completion with feedback, its cancellation.
-- btree_gist (gist operator classes for text, for the exclusion constraint below) lives in
-- public, not in this schema: an extension is one per database, and a schema dropped with
-- CASCADE (tests drop theirs) would take it, and every constraint using it, along.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE TABLE test_drive_vehicles (
    dealer_id   text        NOT NULL,
    vehicle_id  text        NOT NULL,
    vin         text,
    plate       text,
    model       text        NOT NULL,
    in_service  boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, vehicle_id)
);

-- blocked_until: the end of the drive plus the dealer's turnaround at booking time (the
-- time kept free for cleaning or charging); the vehicle is taken over [starts_at, blocked_until).
ALTER TABLE test_drives
    ADD COLUMN blocked_until       timestamptz,
    ADD COLUMN started_at          timestamptz,
    ADD COLUMN licence_checked_at  timestamptz,
    ADD COLUMN consent_signed_by   text,
    ADD COLUMN consent_signed_at   timestamptz,
    ADD COLUMN consent_version     text,
    ADD COLUMN completed_at        timestamptz,
    ADD COLUMN rating_overall      smallint CHECK (rating_overall BETWEEN 1 AND 5),
    ADD COLUMN rating_vehicle      smallint CHECK (rating_vehicle BETWEEN 1 AND 5),
    ADD COLUMN rating_consultant   smallint CHECK (rating_consultant BETWEEN 1 AND 5),
    ADD COLUMN feedback_notes      text,
    ADD COLUMN cancelled_at        timestamptz,
    ADD COLUMN cancel_reason       text;

UPDATE test_drives SET blocked_until = ends_at;
ALTER TABLE test_drives ALTER COLUMN blocked_until SET NOT NULL;

-- No double booking, enforced by the database: two live bookings of one vehicle never
-- overlap (half-open ranges, so 10:00-11:00 and 11:00-12:00 both stand).
ALTER TABLE test_drives ADD CONSTRAINT test_drives_no_double_booking
    EXCLUDE USING gist (
        dealer_id WITH =,
        vehicle_id WITH =,
        tstzrange(starts_at, blocked_until, '[)') WITH &&
    ) WHERE (NOT cancelled);
