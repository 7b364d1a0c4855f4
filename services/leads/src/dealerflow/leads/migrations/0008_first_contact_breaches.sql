-- First-contact SLA breaches the notifier reported (TaskDue of a lead's first-contact task:
-- breaches 1 at its due time, the dealer's reassign count at the reassign watch), for the
-- sales manager's board. One row per task and breach count; ids and times only.
CREATE TABLE first_contact_breaches (
    dealer_id      text        NOT NULL,
    task_id        text        NOT NULL,
    breaches       integer     NOT NULL,
    lead_id        uuid        NOT NULL,
    consultant_id  text,
    due_at         timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, task_id, breaches)
);
CREATE INDEX first_contact_breaches_by_lead ON first_contact_breaches (dealer_id, lead_id);
