-- dealers service: the one owner of dealer configuration. Per store and per dealer group
-- the overrides it set (a partial DealerSettings document), a version that grows by one
-- with every change of the effective configuration, and the history of changes.

-- A dealer group: its overrides (no profile) and its version.
CREATE TABLE dealer_groups (
    group_id              text        PRIMARY KEY,
    overrides             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    configuration_version integer     NOT NULL DEFAULT 0,
    -- env defaults <- group overrides: what a store of the group that set nothing gets
    configuration         jsonb,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- A store. group_id is the profile.group_id of its effective configuration (which
-- group's overrides it inherits); configuration is the effective configuration last
-- published with configuration_version (NULL: never published).
CREATE TABLE dealers (
    dealer_id             text        PRIMARY KEY,
    group_id              text,
    overrides             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    configuration_version integer     NOT NULL DEFAULT 0,
    configuration         jsonb,
    -- false: overrides changed without a DealerConfigured yet (imported from the former
    -- per-service policy tables; published once the service runs)
    published             boolean     NOT NULL DEFAULT true,
    -- what was imported, by former table (notifier, complaints)
    imported              jsonb,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dealers_group_idx ON dealers (group_id, dealer_id) WHERE group_id IS NOT NULL;
CREATE INDEX dealers_unpublished_idx ON dealers (dealer_id) WHERE NOT published;

-- One row per version of a store or a group: who, when, which sections, the change as
-- requested (or the group change / import that caused it), the effective configuration
-- after it.
CREATE TABLE configuration_history (
    owner_kind    text        NOT NULL CHECK (owner_kind IN ('dealer', 'group')),
    owner_id      text        NOT NULL,
    version       integer     NOT NULL CHECK (version >= 1),
    changed_at    timestamptz NOT NULL,
    changed_by    text        NOT NULL,
    sections      jsonb       NOT NULL,
    change        jsonb       NOT NULL,
    configuration jsonb       NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, version)
);
