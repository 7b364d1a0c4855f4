# syntax=docker/dockerfile:1.7
# One image per service, built from the repository root:
#   docker build --build-arg SERVICE=leads -t dealerflow/leads .
# SERVICE is dealers, leads, sales, service-center, complaints or notifier; SERVICE=all builds the
# tools image that runs migrations and creates topics (compose `init`, the Kubernetes
# migration Job) with the services' own CLIs: the six `dealerflow-<service>` commands and
# runtime's `dealerflow-topics` / `dealerflow-dlq` (its entrypoint is dealerflow-topics;
# the jobs run a shell script instead).
# Images carry production code only: `--no-dev` leaves out the dev group (pytest, linters,
# dealerflow-devinfra), .dockerignore keeps tests and devinfra's sources out of the build
# context, and the contracts wheel leaves out its generators (dealerflow.contracts.tools).
# tests/packaging/test_production_closure.py checks what each image would install.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG UV_VERSION=0.13.9
RUN test -n "${SERVICE}" || { echo "set --build-arg SERVICE=<service>|all" >&2; exit 1; }
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependency layer: only the lock file and every member's pyproject, so this layer is
# rebuilt when dependencies change, not on every code change.
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY libs/runtime/pyproject.toml libs/runtime/
COPY libs/devinfra/pyproject.toml libs/devinfra/
COPY libs/policy/pyproject.toml libs/policy/
COPY services/leads/pyproject.toml services/leads/
COPY services/sales/pyproject.toml services/sales/
COPY services/service-center/pyproject.toml services/service-center/
COPY services/complaints/pyproject.toml services/complaints/
COPY services/notifier/pyproject.toml services/notifier/
COPY services/dealers/pyproject.toml services/dealers/
RUN --mount=type=cache,target=/root/.cache/uv \
    if [ "${SERVICE}" = all ]; then package=""; else package="--package dealerflow-${SERVICE}"; fi; \
    uv sync --frozen --no-dev --no-install-workspace ${package}

# Workspace code: installed as wheels (not editable) so the runtime stage needs no source.
# SERVICE=all installs the root project's dependencies: the six services and their libs.
# The build fails if a test harness or the dev tooling's CLI got in anyway.
COPY contracts contracts
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    if [ "${SERVICE}" = all ]; then package=""; else package="--package dealerflow-${SERVICE}"; fi; \
    uv sync --frozen --no-dev --no-editable ${package} \
    && if [ "${SERVICE}" = all ]; then command=dealerflow-topics; else command="dealerflow-${SERVICE}"; fi \
    && test -x "/app/.venv/bin/${command}" \
    && if [ "${SERVICE}" = all ]; then \
         for service in dealers leads sales service-center complaints notifier; do \
           test -x "/app/.venv/bin/dealerflow-${service}"; \
         done; \
       fi \
    && test ! -e /app/.venv/bin/pytest && test ! -e /app/.venv/bin/dealerflow-infra \
    && ln -s "/app/.venv/bin/${command}" /app/entrypoint

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="dealerflow-${SERVICE}"
RUN groupadd --system --gid 10001 dealerflow \
    && useradd --system --uid 10001 --gid dealerflow --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin dealerflow
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/app/entrypoint"]
CMD ["serve"]
