-- The latest grade the notifier saw per lead: a LeadGraded older than it (redelivered or
-- republished after a newer one) must not replace the newer grade's follow-up cadence.
CREATE TABLE lead_grades (
    dealer_id  text        NOT NULL,
    lead_id    text        NOT NULL,
    grade      text        NOT NULL,
    graded_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, lead_id)
);
