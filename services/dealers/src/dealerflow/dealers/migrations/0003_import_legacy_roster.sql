-- The consultant roster leads kept (leads.consultants, renamed consultants_retired by
-- leads 0003) becomes each store's people: one staff member per consultant, role
-- "consultant", with its name and on_duty. The leads schema is this schema's name with the
-- trailing "dealers" replaced by "leads" (as in 0002); whichever of the two tables exists
-- is read (dealers migrates before leads, so on an upgrade it is still "consultants").
-- A store that already has people of its own keeps them. Imported stores are marked
-- unpublished and the timer of 0002 publishes a DealerConfigured for each.

CREATE TEMP TABLE legacy_roster (
    dealer_id     text    NOT NULL,
    consultant_id text    NOT NULL,
    name          text,
    on_duty       boolean NOT NULL
) ON COMMIT DROP;

DO $$
DECLARE
    leads_schema text;
    legacy regclass;
BEGIN
    IF current_schema() !~ 'dealers$' THEN
        RETURN;
    END IF;
    leads_schema := regexp_replace(current_schema(), 'dealers$', 'leads');
    legacy := coalesce(
        to_regclass(format('%I.consultants', leads_schema)),
        to_regclass(format('%I.consultants_retired', leads_schema))
    );
    IF legacy IS NOT NULL THEN
        EXECUTE format(
            'INSERT INTO legacy_roster SELECT dealer_id, consultant_id, name, on_duty FROM %s',
            legacy
        );
    END IF;
END
$$;

WITH staff AS (
    SELECT dealer_id,
           jsonb_agg(
               jsonb_build_object(
                   'staff_id', consultant_id,
                   'name', coalesce(name, ''),
                   'roles', jsonb_build_array('consultant'),
                   'on_duty', on_duty
               ) ORDER BY consultant_id
           ) AS members
    FROM legacy_roster
    GROUP BY dealer_id
)
INSERT INTO dealers (dealer_id, overrides, published, imported)
SELECT dealer_id,
       jsonb_build_object('people', jsonb_build_object('staff', members)),
       false,
       jsonb_build_object('leads', members)
FROM staff
ON CONFLICT (dealer_id) DO UPDATE
SET overrides = dealers.overrides || EXCLUDED.overrides,
    published = false,
    imported = coalesce(dealers.imported, '{}'::jsonb) || EXCLUDED.imported,
    updated_at = now()
WHERE NOT dealers.overrides ? 'people';

INSERT INTO timers (key, kind, dealer_id, due_at)
SELECT 'dealers:publish-imported', 'publish_imported', '*', now()
WHERE EXISTS (SELECT 1 FROM dealers WHERE NOT published)
ON CONFLICT (key) WHERE status = 'pending' DO NOTHING;
