-- Every dealer's configuration as the dealers service last published it (DealerConfigured
-- on the compacted <prefix>dealers topic), materialised in each service's own schema so a
-- use case reads it in its own transaction, whatever the dealers service is doing.
CREATE TABLE dealer_configurations (
    dealer_id             text        PRIMARY KEY,
    group_id              text,
    -- only a higher version replaces a row: a late or replayed event never goes back
    configuration_version bigint      NOT NULL CHECK (configuration_version >= 1),
    -- the full effective DealerSettings (model_dump(mode="json")), defaults included
    configuration         jsonb       NOT NULL,
    configured_at         timestamptz NOT NULL,
    received_at           timestamptz NOT NULL DEFAULT now()
);
