#!/usr/bin/env bash
# Entrypoint of the Dagster image (webserver, daemon and the one-shot `seed` of docker-compose.yml).
#
# The image prepares the dbt manifest at build time, but docker-compose.yml mounts the project from the host over
# the image's copy, and a fresh clone has no dbt_project/target/ (it is not in git). So before the command runs,
# the manifest of the mounted tree is prepared when it is missing or older than a dbt file (`make prepare`'s rule). `seed` runs first (the
# webserver and daemon wait for it), so they find it fresh. After editing dbt files, `make prepare` (or restarting
# the containers) and "Reload definitions" pick the change up; Python edits only need "Reload definitions".
#
# tests/docker/test_native_stack.py runs this script natively in front of the same commands.
set -euo pipefail

app_dir="${DAGSTER_APP_DIR:-/opt/dagster/app}"
cd "$app_dir"

if [[ ! -w dbt_project ]]; then
  echo "entrypoint: $app_dir/dbt_project is not writable by uid $(id -u)." >&2
  echo "  The project is mounted from your machine: set DAGSTER_UID=$(stat -c %u dbt_project) (its owner) in .env," >&2
  echo "  or leave DAGSTER_UID empty there (make start-dev then uses the owner of the project folder); then make start-dev." >&2
  exit 1
fi

# The manifest must land in dbt_project/target, where the code location reads it, whatever DBT_TARGET_PATH says.
# Prepared when missing or older than a dbt file: the one rule (dagster_project/project.py), as `make prepare`.
env -u DBT_TARGET_PATH python -m tooling.dbt_manifest

exec "$@"
