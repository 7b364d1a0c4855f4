-- Customer tiers (domain_tiers.tier_of): the facts they are computed from and the tier
-- last published per customer. Ids, times and amounts only: nothing to erase here.
--
-- tier_facts: one row per counted fact, keyed by the record it came from so a redelivered
-- or republished event counts once. kind purchase (source_id = delivery id, counts_from =
-- delivered_at), service_spend (repair order id, handed_over_at, amount + currency) or
-- referral (source_id = the referred lead, customer_id = the referrer; counts_from is
-- the referred lead's conversion, NULL until it converts). Spend rows stay dated so the
-- window slides.
CREATE TABLE tier_facts (
    dealer_id    text          NOT NULL,
    kind         text          NOT NULL CHECK (kind IN ('purchase', 'service_spend', 'referral')),
    source_id    text          NOT NULL,
    customer_id  uuid          NOT NULL,
    counts_from  timestamptz,
    amount       numeric(14,2),
    currency     text,
    recorded_at  timestamptz   NOT NULL,
    PRIMARY KEY (dealer_id, kind, source_id)
);
CREATE INDEX tier_facts_customer_idx ON tier_facts (dealer_id, customer_id);

-- customer_tiers: one row per customer with a fact; tier NULL until a first tier above
-- regular is published (a never-tiered customer is regular). The row is locked while a
-- customer's tier is evaluated, so two facts at once publish one change.
CREATE TABLE customer_tiers (
    dealer_id    text         NOT NULL,
    customer_id  uuid         NOT NULL,
    tier         text         CHECK (tier IN ('vip', 'key', 'regular')),
    changed_at   timestamptz,
    reviewed_at  timestamptz,
    PRIMARY KEY (dealer_id, customer_id)
);
