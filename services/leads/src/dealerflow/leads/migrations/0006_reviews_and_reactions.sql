-- Manager reviews of lost leads. A lead at F whose latest loss (leads.closed_at) has no
-- review here is in the review queue; lost_at names the loss reviewed, so a lead reopened
-- and lost again comes back to the queue. Row-level security applies (dealer_id).
CREATE TABLE lead_reviews (
    dealer_id   text        NOT NULL,
    review_id   uuid        NOT NULL,
    lead_id     uuid        NOT NULL,
    lost_at     timestamptz NOT NULL,
    decision    text        NOT NULL CHECK (decision IN ('approve', 'reopen')),
    -- the live grade a reopened lead went back to (NULL when the loss was approved)
    grade_after text,
    note        text,
    reviewed_by text,
    reviewed_at timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, review_id)
);
CREATE UNIQUE INDEX lead_reviews_one_per_loss ON lead_reviews (dealer_id, lead_id, lost_at);

-- Leads taken back to a live grade outside the contact log: a lost lead reopened by its
-- review, a converted lead whose contract was cancelled (contract_id). With the contact
-- log's grades this is the lead's grade history, read to find the grade to go back to.
CREATE TABLE lead_reopenings (
    dealer_id    text        NOT NULL,
    reopening_id uuid        NOT NULL,
    lead_id      uuid        NOT NULL,
    cause        text        NOT NULL CHECK (cause IN ('review', 'contract_cancelled')),
    contract_id  text,
    grade_before text        NOT NULL,
    grade_after  text        NOT NULL,
    reopened_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, reopening_id)
);
CREATE INDEX lead_reopenings_by_lead ON lead_reopenings (dealer_id, lead_id, reopened_at);
-- A cancelled contract reopens its lead once.
CREATE UNIQUE INDEX lead_reopenings_one_per_contract
    ON lead_reopenings (dealer_id, contract_id) WHERE contract_id IS NOT NULL;

-- What leads did about a notifier task (TaskDue, TaskCompleted), once per task and
-- reaction: a repeated event, or the same fact under another event id, finds its row.
-- reaction 'reassigned': the lead of a first-contact task went to another consultant
-- (or stayed, nobody else being on duty) at the dealer's reassign_after_breaches-th breach;
-- 'contact_logged': the completed call task is a line of the lead's contact log.
CREATE TABLE task_reactions (
    dealer_id   text        NOT NULL,
    task_id     text        NOT NULL,
    reaction    text        NOT NULL CHECK (reaction IN ('reassigned', 'contact_logged')),
    lead_id     uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, task_id, reaction)
);
