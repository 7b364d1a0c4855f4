-- Improvement actions (issue 13 item 6): what the dealer does against a cause of
-- complaints, owned by a staff member, due on a day (dealer's calendar), tracked from open
-- to done, with the complaints it answers. cause_key is the cause as the analysis counts
-- it (case and spacing folded), so actions and resolved complaints meet on the same cause.
-- No customer data: causes and descriptions are about the dealership's work, the
-- complaint ids are the complaints' (erasure leaves these rows alone).
CREATE TABLE improvement_actions (
    id              uuid        PRIMARY KEY,
    dealer_id       text        NOT NULL,
    cause           text        NOT NULL,
    cause_key       text        NOT NULL,
    description     text        NOT NULL,
    owner_staff_id  text        NOT NULL,
    due_on          date        NOT NULL,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    complaint_ids   uuid[]      NOT NULL DEFAULT '{}',
    created_by      text,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    completed_by    text,
    completion_note text
);
-- keyset pagination, newest first; filters by status and cause
CREATE INDEX improvement_actions_dealer_created_idx
    ON improvement_actions (dealer_id, created_at DESC, id DESC);
CREATE INDEX improvement_actions_dealer_cause_idx
    ON improvement_actions (dealer_id, cause_key, status);
