-- Staff working their tasks (usecases_task_actions): a claim or reassignment changes the
-- assignee, a snooze moves due_at. planned_due_at keeps the due time the task was
-- planned with, the hard SLA a snooze may not pass (domain_task_actions.snooze_limit;
-- NULL for tasks created before this migration: their due_at). A snooze is recorded with
-- who, when and a reason code (no free text: nothing to erase). unreachable_attempts
-- counts the unreachable outcomes of the task's attempts so far (a retry attempt
-- carries the count of its chain), shown on the task.
ALTER TABLE tasks
    ADD COLUMN planned_due_at        timestamptz,
    ADD COLUMN snoozed_at            timestamptz,
    ADD COLUMN snoozed_by            text,
    ADD COLUMN snooze_reason         text
        CHECK (snooze_reason IN ('customer_asked', 'customer_away', 'waiting_on_others',
                                 'other')),
    ADD COLUMN unreachable_attempts  integer NOT NULL DEFAULT 0;
