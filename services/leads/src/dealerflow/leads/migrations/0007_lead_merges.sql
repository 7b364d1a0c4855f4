-- Merging duplicate leads of one person (issue 10): the merged leads keep their row with
-- status 'merged' and the survivor's id; their history (contact log, appointments,
-- assignments, submissions) moves to the survivor. A merged lead's phone number becomes an
-- alias of the survivor, so a later submission from that number touches the survivor; the
-- merged row's own phone becomes 'merged:<lead_id>' (it leaves the one-open-lead-per-phone
-- index and every phone look-up).
ALTER TABLE leads ADD COLUMN merged_into uuid;
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('open', 'converted', 'delivered', 'lost', 'merged'));
ALTER TABLE leads ADD CONSTRAINT leads_merged_has_survivor
    CHECK ((status = 'merged') = (merged_into IS NOT NULL));

CREATE TABLE lead_phone_aliases (
    dealer_id     text        NOT NULL,
    phone_e164    text        NOT NULL,
    lead_id       uuid        NOT NULL,
    merged_from   uuid        NOT NULL,
    merged_at     timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, phone_e164)
);
CREATE INDEX lead_phone_aliases_by_lead ON lead_phone_aliases (dealer_id, lead_id);
