-- Satisfaction surveys answered through a signed link (domain_surveys, usecases_surveys).
-- One row per survey invitation: the record surveyed (delivery or repair order), when the
-- invitation goes out (sent_at: the planned send time of its message) and until when the
-- link works (expires_at), the customer's locale for the page, and the answer once given
-- (answered_at, score, comment). The comment is the customer's own text: the eraser
-- blanks it (repository_erasure.erase_survey_comments).
CREATE TABLE surveys (
    id            uuid         PRIMARY KEY,
    dealer_id     text         NOT NULL,
    customer_id   uuid         NOT NULL,
    kind          text         NOT NULL,
    related_kind  text         NOT NULL,
    related_id    text         NOT NULL,
    locale        text         NOT NULL,
    sent_at       timestamptz  NOT NULL,
    expires_at    timestamptz  NOT NULL,
    answered_at   timestamptz,
    score         integer      CHECK (score BETWEEN 0 AND 10),
    comment       text,
    created_at    timestamptz  NOT NULL,
    UNIQUE (dealer_id, kind, related_kind, related_id)
);
CREATE INDEX surveys_customer_idx ON surveys (dealer_id, customer_id);
