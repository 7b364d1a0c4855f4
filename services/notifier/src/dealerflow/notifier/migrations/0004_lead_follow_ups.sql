-- What the notifier knows of a lead besides its grade (lead_grades), to plan the lead's
-- next sales follow-up (domain_leads.plan_follow_up): its consultant, the latest logged
-- contact and the next-contact date agreed in it (void once the lead closes or the
-- customer declines), and a declined invitation, which stops the sales follow-ups and
-- the customer's marketing messages until the customer re-engages (reengaged_at later
-- than declined_at). Ids and times only: nothing to erase here.
CREATE TABLE lead_follow_ups (
    dealer_id        text        NOT NULL,
    lead_id          text        NOT NULL,
    customer_id      uuid        NOT NULL,
    consultant_id    text,
    contacted_at     timestamptz,
    next_contact_on  date,
    declined_at      timestamptz,
    reengaged_at     timestamptz,
    PRIMARY KEY (dealer_id, lead_id)
);
-- send time: does a declined invitation stand for the customer of a marketing message?
CREATE INDEX lead_follow_ups_declined_idx ON lead_follow_ups (dealer_id, customer_id)
    WHERE declined_at IS NOT NULL;
