"""docker-compose.yml, the Dockerfile and the kustomize tree agree with the workspace.

No Docker engine or cluster here, so these tests read the files: every service has the
ports, healthchecks, environment and dependencies the operations guide promises, and the
image build uses the same uv invocation and pinned versions as the native path.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from dealerflow.devinfra.config import find_repo_root
from dealerflow.devinfra.versions import KAFKA_IMAGE, POSTGRES_IMAGE


def _root() -> Path:
    root = find_repo_root()
    assert root is not None
    return root


ROOT = _root()
SERVICES = {
    "dealers": 8006,
    "leads": 8001,
    "sales": 8002,
    "service-center": 8003,
    "complaints": 8004,
    "notifier": 8005,
}
INFRA = {"kafka", "postgres", "otel-collector", "jaeger", "init", "mailpit"}
#: Started only with `--profile <name>` (service -> profile).
OPTIONAL = {"keycloak": "keycloak"}


def _prefix(service: str) -> str:
    return "DEALERFLOW_" + service.upper().replace("-", "_") + "_"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def _workspace_members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(p.parent for p in ROOT.glob(f"{pattern}/pyproject.toml"))
    return members


def _scripts(member: Path) -> dict[str, str]:
    project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
    return dict(project.get("scripts", {}))


def test_compose_runs_infrastructure_init_and_the_six_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == INFRA | set(SERVICES) | set(OPTIONAL)
    for name, spec in services.items():  # a plain `docker compose up` starts the rest
        assert spec.get("profiles") == ([OPTIONAL[name]] if name in OPTIONAL else None), name
    assert services["kafka"]["image"] == KAFKA_IMAGE
    assert services["postgres"]["image"] == POSTGRES_IMAGE
    assert "KAFKA_PROCESS_ROLES" in services["kafka"]["environment"]  # KRaft, no ZooKeeper


@pytest.mark.parametrize(("service", "port"), SERVICES.items())
def test_each_service_is_built_exposed_configured_and_health_checked(
    compose: dict[str, Any], service: str, port: int
) -> None:
    spec = compose["services"][service]
    assert spec["build"]["args"]["SERVICE"] == service
    assert spec["build"]["context"] == "."
    member = ROOT / "services" / service
    assert f"dealerflow-{service}" in _scripts(member)  # the image's entrypoint exists
    assert spec["ports"] == [f"{port}:{port}"]
    env = spec["environment"]
    assert env[_prefix(service) + "HTTP_HOST"] == "0.0.0.0"
    assert env[_prefix(service) + "HTTP_PORT"] == str(port)
    assert env["DEALERFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["DEALERFLOW_PG_DSN"].startswith("postgresql://")
    assert "@postgres:5432/" in env["DEALERFLOW_PG_DSN"]
    assert env["DEALERFLOW_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    probe = " ".join(spec["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe
    assert spec["depends_on"]["init"]["condition"] == "service_completed_successfully"


def test_dependencies_exist_and_wait_only_on_real_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for target, rule in spec.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
    init = services["init"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert init["build"]["args"]["SERVICE"] == "all"
    script = init["command"][0]
    for service in SERVICES:
        assert f"dealerflow-{service}" in _scripts(ROOT / "services" / service)
    assert "for service in " + " ".join(SERVICES) + "; do" in script
    assert "dealerflow-$$service migrate" in script  # $$: compose's escape for $
    assert "dealerflow-topics create --bootstrap kafka:9092" in script
    assert "dealerflow-infra" not in script  # the tools image has no devinfra


def test_collector_exports_traces_to_jaeger(compose: dict[str, Any]) -> None:
    collector = compose["services"]["otel-collector"]
    source, target, _ = collector["volumes"][0].split(":")
    assert any(target in arg for arg in collector["command"])
    config = yaml.safe_load((ROOT / source).read_text())
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    assert exporters == ["otlp/jaeger"]
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    assert "4318" in config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]


def _uv_sync_commands(text: str) -> list[list[str]]:
    joined = text.replace("\\\n", " ").replace("$(UV)", "uv")  # the Makefile's $(UV) is uv
    return [shlex.split(m.group(0)) for m in re.finditer(r"\buv sync[^;&\n]*", joined)]


def test_dockerfile_uses_the_native_uv_invocation_and_pins() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    native = _uv_sync_commands(makefile)
    assert native, "Makefile has no uv sync"
    assert all("--frozen" in cmd for cmd in native)
    image = _uv_sync_commands(dockerfile)
    assert len(image) == 2
    deps_layer, code_layer = image
    for cmd in image:
        assert "--frozen" in cmd  # the same lock as `make test`, never re-resolved
        assert "--no-dev" in cmd
        assert "${package}" in cmd
    assert "--no-install-workspace" in deps_layer
    assert "--no-editable" in code_layer
    assert 'package="--package dealerflow-${SERVICE}"' in dockerfile
    assert dockerfile.index("--no-install-workspace") < dockerfile.index("COPY services services")
    # The dependency layer needs every member's pyproject.
    for member in _workspace_members():
        relative = member.relative_to(ROOT).as_posix()
        assert f"COPY {relative}/pyproject.toml {relative}/" in dockerfile, relative
    ci_pin = re.search(r"UV_VERSION=(\S+)", (ROOT / ".ci" / "run").read_text())
    image_pin = re.search(r"ARG UV_VERSION=(\S+)", dockerfile)
    assert ci_pin is not None
    assert image_pin is not None
    assert ci_pin.group(1) == image_pin.group(1)
    assert "USER 10001:10001" in dockerfile
    assert "python:3.11-slim" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".dealerflow", ".git"} <= set(ignored)


def test_images_carry_no_test_harness() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Tests, conftest files and devinfra's sources never reach the build context; devinfra's
    # pyproject does (uv needs every workspace member's metadata).
    assert {"tests", "**/tests", "**/conftest.py", "libs/devinfra"} <= set(ignored)
    assert ignored.index("!libs/devinfra/pyproject.toml") > ignored.index("libs/devinfra")
    sources = [
        line.split()[1]
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
    ]
    assert not [s for s in sources if "test" in s or "conftest" in s or s in (".", "bench")]
    # The build refuses an image with pytest or devinfra's CLI in it.
    assert "test ! -e /app/.venv/bin/pytest" in dockerfile
    assert "test ! -e /app/.venv/bin/dealerflow-infra" in dockerfile
    # The tools image's entrypoint is runtime's topic CLI, not dealerflow-infra.
    assert "command=dealerflow-topics" in dockerfile
    assert "dealerflow-infra" not in dockerfile.replace(
        "test ! -e /app/.venv/bin/dealerflow-infra", ""
    )


K8S = ROOT / "deploy" / "k8s"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_kustomization_points_at_existing_files() -> None:
    kustomizations = sorted(K8S.rglob("kustomization.yaml"))
    assert {k.parent.relative_to(K8S).as_posix() for k in kustomizations} == {
        "base",
        "components/kafka-security",
        "components/tracing",
        "overlays/dev",
        "overlays/prod",
    }
    for kustomization in kustomizations:
        spec = _docs(kustomization)[0]
        for entry in spec.get("resources", []) + spec.get("components", []):
            target = (kustomization.parent / entry).resolve()
            assert target.exists(), f"{kustomization}: {entry} missing"
    for overlay in ("dev", "prod"):
        spec = _docs(K8S / "overlays" / overlay / "kustomization.yaml")[0]
        assert "../../base" in spec["resources"]
        assert "../../components/tracing" in spec["components"]
        assert {i["name"] for i in spec["images"]} == {f"dealerflow/{s}" for s in SERVICES} | {
            "dealerflow/tools"
        }


@pytest.mark.parametrize(("service", "port"), SERVICES.items())
def test_k8s_service_has_account_deployment_service_probes_and_limits(
    service: str, port: int
) -> None:
    docs = {doc["kind"]: doc for doc in _docs(K8S / "base" / f"{service}.yaml")}
    assert set(docs) == {"ServiceAccount", "Deployment", "Service"}
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == service
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == f"dealerflow/{service}"
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[_prefix(service) + "HTTP_PORT"] == str(port)
    assert docs["Service"]["spec"]["ports"][0]["port"] == port
    assert docs["Service"]["spec"]["selector"] == {"app.kubernetes.io/name": service}
    base = _docs(K8S / "base" / "kustomization.yaml")[0]
    assert f"{service}.yaml" in base["resources"]


def test_k8s_migration_job_migrates_every_service_and_creates_topics() -> None:
    (job,) = _docs(K8S / "base" / "migrate-job.yaml")
    assert job["kind"] == "Job"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = container["args"][0]
    assert "for service in " + " ".join(SERVICES) + "; do" in script
    assert "dealerflow-$service migrate" in script
    assert 'dealerflow-topics create --bootstrap "$DEALERFLOW_KAFKA_BOOTSTRAP"' in script
    assert "dealerflow-infra" not in script  # the tools image has no devinfra
    runtime = ROOT / "libs" / "runtime"
    assert _scripts(runtime)["dealerflow-topics"] == "dealerflow.runtime.topics_cli:main"
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def _user_of(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]


def test_services_connect_as_the_app_role_and_only_migrations_as_the_owner(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in SERVICES:
        env = services[name]["environment"]
        assert _user_of(env["DEALERFLOW_PG_DSN"]) == "dealerflow_app", name
        assert "DEALERFLOW_PG_MIGRATION_DSN" not in env, name
    init = services["init"]["environment"]
    assert _user_of(init["DEALERFLOW_PG_MIGRATION_DSN"]) == owner
    assert init["DEALERFLOW_PG_APP_ROLE"] == "dealerflow_app"
    # the role exists before anything connects with it: created by the image's init scripts
    (script,) = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    sql = (ROOT / script.split(":", 1)[0]).read_text()
    assert "CREATE ROLE dealerflow_app LOGIN" in sql
    assert "NOBYPASSRLS" in sql
    # Kubernetes: the Job migrates as the owner and grants the services' role
    (job,) = _docs(K8S / "base" / "migrate-job.yaml")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    keys = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]}
    assert keys == {
        "DEALERFLOW_PG_DSN": "dsn",
        "DEALERFLOW_PG_MIGRATION_DSN": "migration-dsn",
        "DEALERFLOW_PG_APP_ROLE": "app-role",
    }
    dev = _docs(K8S / "overlays" / "dev" / "kustomization.yaml")[0]
    (secret,) = [s for s in dev["secretGenerator"] if s["name"] == "dealerflow-db"]
    literals = dict(item.split("=", 1) for item in secret["literals"])
    assert _user_of(literals["dsn"]) == literals["app-role"] == "dealerflow_app"


def test_the_notifier_reads_its_link_keys_from_a_secret_that_dev_generates() -> None:
    """The unsubscribe and survey link keys: optional refs to dealerflow-notifier (prod
    creates it outside git; without them no marketing message and no survey link), which
    the dev overlay generates."""
    deployment = next(d for d in _docs(K8S / "base" / "notifier.yaml") if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container["env"]
        if e["name"].endswith("_SECRET")
    }
    assert {name: ref["key"] for name, ref in refs.items()} == {
        "DEALERFLOW_NOTIFIER_UNSUBSCRIBE_SECRET": "unsubscribe-secret",
        "DEALERFLOW_NOTIFIER_SURVEY_LINK_SECRET": "survey-link-secret",
    }
    assert all(ref["name"] == "dealerflow-notifier" and ref["optional"] for ref in refs.values())
    dev = _docs(K8S / "overlays" / "dev" / "kustomization.yaml")[0]
    (secret,) = [s for s in dev["secretGenerator"] if s["name"] == "dealerflow-notifier"]
    keys = {item.split("=", 1)[0] for item in secret["literals"]}
    assert keys == {"unsubscribe-secret", "survey-link-secret"}


def test_compose_mails_to_mailpit_and_records_the_other_channels(compose: dict[str, Any]) -> None:
    """The notifier has no default driver: compose sets each channel's explicitly, e-mail
    through the ``smtp`` driver to the mail catcher (SMTP 1025, no TLS; UI on :8025)."""
    services = compose["services"]
    mailpit = services["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:v")
    assert mailpit["ports"] == ["8025:8025"]
    assert "readyz" in " ".join(mailpit["healthcheck"]["test"])
    notifier = services["notifier"]
    assert notifier["depends_on"]["mailpit"]["condition"] == "service_healthy"
    env = notifier["environment"]
    drivers = json.loads(env["DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS"])
    assert drivers == {**dict.fromkeys(("sms", "wechat", "webhook"), "recording"), "email": "smtp"}
    assert env["DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER"] == "recording"
    assert (env["DEALERFLOW_NOTIFIER_SMTP_HOST"], env["DEALERFLOW_NOTIFIER_SMTP_PORT"]) == (
        "mailpit",
        "1025",
    )
    assert env["DEALERFLOW_NOTIFIER_SMTP_TLS"] == "none"
    assert "@" in env["DEALERFLOW_NOTIFIER_SMTP_FROM"]


def test_k8s_notifier_drivers_come_from_a_config_map_that_dev_generates() -> None:
    deployment = next(d for d in _docs(K8S / "base" / "notifier.yaml") if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    refs = [e["configMapRef"] for e in container["envFrom"]]
    assert {"name": "dealerflow-notifier-channels", "optional": True} in refs
    dev = _docs(K8S / "overlays" / "dev" / "kustomization.yaml")[0]
    generated = dev["configMapGenerator"]
    (channels,) = [c for c in generated if c["name"] == "dealerflow-notifier-channels"]
    literals = dict(item.split("=", 1) for item in channels["literals"])
    drivers = json.loads(literals["DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS"])
    assert set(drivers) == {"sms", "wechat", "email", "webhook"}
    assert literals["DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER"] == "recording"


def test_ci_lints_first_then_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands == ['make lint UV="$UV"', 'make test UV="$UV"']  # lint fails fast
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile[makefile.index("\nlint:") : makefile.index("\nfmt:")]
    for step in ("ruff check", "ruff format --check", "mypy $(MYPY_PATHS)"):
        assert step in lint
    assert "$(wildcard services/*/src)" in makefile  # mypy covers the services too
