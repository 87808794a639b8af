-- The databases of the Docker stack, created by the postgres image's entrypoint the first time the container
-- starts on an empty data volume (never again: re-run with `make clean-full`). tests/docker/test_native_stack.py
-- runs this same file against a native PostgreSQL the way the entrypoint does:
--   psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "$POSTGRES_DB" -f ...
--
--   dagster_metadata  Dagster's run, event-log and schedule storage (DAGSTER_POSTGRES_DB; docker/dagster/dagster.yaml)
--   workshop_assets   the warehouse that receives the kpi_daily rows (WAREHOUSE_URL of the Dagster containers)
--
-- POSTGRES_DB may already have created one of them, hence "if it does not exist" (\gexec runs the generated
-- statement; CREATE DATABASE has no IF NOT EXISTS).
SELECT 'CREATE DATABASE dagster_metadata'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'dagster_metadata')\gexec

SELECT 'CREATE DATABASE workshop_assets'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'workshop_assets')\gexec
