-- The customer's after-sales tier (issue 14): ServiceTierChanged of service-center (A-D by
-- visit days in the last 12 months) kept beside the customer tier, in the same
-- customer_tiers row (created for a customer the notifier had no fact of). The newest
-- change wins (service_tier_changed_at), so a redelivered or late event changes nothing.
-- Ids, a letter, a count and times: nothing to erase here.
ALTER TABLE customer_tiers
    ADD COLUMN service_tier             text        CHECK (service_tier IN ('A', 'B', 'C', 'D')),
    ADD COLUMN service_visits_12_months integer     CHECK (service_visits_12_months >= 0),
    ADD COLUMN service_tier_changed_at  timestamptz;
