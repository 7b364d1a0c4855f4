-- The role the running services connect with (docker compose; run once, on the first start
-- of an empty data volume, by the postgres image's /docker-entrypoint-initdb.d). It owns
-- nothing, is no superuser and cannot bypass row-level security, so every table's
-- dealer_isolation policy holds for it; `dealerflow-<svc> migrate` (as the owner) grants it
-- each schema's tables (DEALERFLOW_PG_APP_ROLE). Change the password for anything but a
-- laptop, and in DEALERFLOW_PG_DSN with it.
CREATE ROLE dealerflow_app LOGIN PASSWORD 'dealerflow_app' NOSUPERUSER NOBYPASSRLS;
