-- What dealers set in the two former per-dealer policy tables (notifier.dealer_policy,
-- complaints.dealer_policy: partial DealerPolicy documents) becomes each store's
-- "policy" overrides here. The sibling schemas are this schema's name with the trailing
-- "dealers" replaced ("dealers" -> "notifier", "t1_dealers" -> "t1_notifier"); a missing
-- table (or a schema not named *dealers) imports nothing.
-- Both are deep-merged, notifier first then complaints, except that the notifier wins
-- for "contact" (the notifier ran the contact rules) and complaints for "complaints".
-- The stores stay unpublished; the timer scheduled below publishes a DealerConfigured for
-- each when the service first runs (dealerflow.dealers.timers).

CREATE FUNCTION pg_temp.dealers_deep_merge(base jsonb, over jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(base) IS DISTINCT FROM 'object' OR jsonb_typeof(over) IS DISTINCT FROM 'object' THEN
        RETURN coalesce(over, base);
    END IF;
    RETURN (
        SELECT coalesce(jsonb_object_agg(k, CASE
                WHEN base ? k AND over ? k THEN pg_temp.dealers_deep_merge(base -> k, over -> k)
                WHEN over ? k THEN over -> k
                ELSE base -> k END), '{}'::jsonb)
        FROM (SELECT jsonb_object_keys(base) UNION SELECT jsonb_object_keys(over)) AS keys (k)
    );
END
$$;

CREATE TEMP TABLE legacy_dealer_policies (
    dealer_id text  NOT NULL,
    source    text  NOT NULL,
    overrides jsonb NOT NULL
) ON COMMIT DROP;

DO $$
DECLARE
    source text;
    legacy regclass;
BEGIN
    IF current_schema() !~ 'dealers$' THEN
        RETURN;
    END IF;
    FOREACH source IN ARRAY ARRAY['notifier', 'complaints'] LOOP
        legacy := to_regclass(
            format('%I.dealer_policy', regexp_replace(current_schema(), 'dealers$', source))
        );
        IF legacy IS NOT NULL THEN
            EXECUTE format(
                'INSERT INTO legacy_dealer_policies SELECT dealer_id, %L, overrides FROM %s'
                ' WHERE overrides IS NOT NULL AND overrides <> ''{}''::jsonb',
                source, legacy
            );
        END IF;
    END LOOP;
END
$$;

WITH notifier AS (
    SELECT dealer_id, overrides FROM legacy_dealer_policies WHERE source = 'notifier'
), complaints AS (
    SELECT dealer_id, overrides FROM legacy_dealer_policies WHERE source = 'complaints'
), both_tables AS (
    SELECT dealer_id,
           coalesce(n.overrides, '{}'::jsonb) AS notifier,
           coalesce(c.overrides, '{}'::jsonb) AS complaints
    FROM notifier AS n FULL JOIN complaints AS c USING (dealer_id)
)
INSERT INTO dealers (dealer_id, overrides, published, imported)
SELECT dealer_id,
       jsonb_build_object('policy', CASE
           WHEN notifier ? 'contact' THEN
               pg_temp.dealers_deep_merge(notifier, complaints) || jsonb_build_object(
                   'contact',
                   pg_temp.dealers_deep_merge(complaints -> 'contact', notifier -> 'contact'))
           ELSE pg_temp.dealers_deep_merge(notifier, complaints) END),
       false,
       jsonb_strip_nulls(jsonb_build_object(
           'notifier', nullif(notifier, '{}'::jsonb),
           'complaints', nullif(complaints, '{}'::jsonb)))
FROM both_tables
ON CONFLICT (dealer_id) DO NOTHING;

INSERT INTO timers (key, kind, dealer_id, due_at)
SELECT 'dealers:publish-imported', 'publish_imported', '*', now()
WHERE EXISTS (SELECT 1 FROM dealers WHERE NOT published);

DROP FUNCTION pg_temp.dealers_deep_merge(jsonb, jsonb);
