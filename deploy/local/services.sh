#!/usr/bin/env bash
# Start/stop the five services natively in the background (called by `make up` / `make down`).
# The infrastructure (Kafka, PostgreSQL) is started by `dealerflow-infra up` before this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export UV_PYTHON_DOWNLOADS=never
exec ${UV:-uv} run --frozen python -m dealerflow.devinfra.services "$@"
