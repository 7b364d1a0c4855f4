"""Kafka principals and ACLs of dealerflow: one table, generated into deployment files.

Every service connects as its own principal ``User:dealerflow-<service>`` (SCRAM user of
the same name) and may only:

- WRITE its own context's topic (the outbox relay) and the dead-letter topic
  ``<topic>.dlq`` of every topic it consumes (dead letters go to the consumed topic's DLQ);
- READ the topics it consumes: its subscriptions (:data:`SERVICE_ACCESS`) and the
  dealers topic, which the runtime subscribes every service to;
- READ (join, commit) the consumer groups ``<prefix><service>.*``.

Three more principals: ``dealerflow-integration`` WRITEs the topics outside systems
publish to (raw lead submissions and the contexts whose catalogue names an outside
emitter: a DMS's VehicleDelivered, RepairOrderOpened...), ``dealerflow-migrate`` creates
and describes the topics (``dealerflow-topics create``), ``dealerflow-operator`` reads
the dead-letter topics and writes the original topics (``dealerflow-dlq replay``).

``python -m dealerflow.runtime.kafka_acls`` writes ``deploy/kafka/acls.sh`` (for
``kafka-acls.sh``) and the Strimzi ``KafkaUser`` manifests under
``deploy/k8s/components/kafka-security/``; a test fails when they drift from this table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dealerflow.contracts.events import EVENTS_BY_CONTEXT
from dealerflow.contracts.topics import DLQ_SUFFIX, INBOUND_LEADS

__all__ = [
    "SERVICE_ACCESS",
    "Acl",
    "ServiceAccess",
    "acl_table",
    "acls_script",
    "generated_files",
    "outside_contexts",
    "principal_names",
]

Operation = Literal["Read", "Write", "Create", "Describe", "DescribeConfigs"]
ResourceType = Literal["topic", "group"]
PatternType = Literal["literal", "prefixed"]

#: The Strimzi Kafka cluster the KafkaUsers belong to (bootstrap Service
#: ``dealerflow-kafka-bootstrap``, as in deploy/k8s/base).
STRIMZI_CLUSTER = "dealerflow"
PRINCIPAL_PREFIX = "dealerflow-"


@dataclass(frozen=True)
class ServiceAccess:
    """What one service publishes and consumes (contexts, or ``inbound.leads``)."""

    service: str
    publishes: str
    #: Its own subscriptions and the runtime's erasure subscription (the leads topic, in
    #: every service with personal data); the dealers topic is added for every service.
    consumes: tuple[str, ...]

    @property
    def principal(self) -> str:
        """Its SCRAM user name, e.g. ``dealerflow-service-center``."""
        return PRINCIPAL_PREFIX + self.service

    def reads(self) -> tuple[str, ...]:
        """Every topic (context) it consumes, the runtime's dealers subscription included."""
        return tuple(dict.fromkeys((*self.consumes, "dealers")))


#: The one table (checked against every service's subscriptions and the catalogue's
#: emitters by libs/runtime/tests/test_kafka_acls.py).
SERVICE_ACCESS: tuple[ServiceAccess, ...] = (
    ServiceAccess("dealers", "dealers", ()),
    ServiceAccess("leads", "leads", ("sales", "notifier", INBOUND_LEADS, "leads")),
    ServiceAccess("sales", "sales", ("leads",)),
    ServiceAccess("service-center", "service", ("leads", "sales", "notifier")),
    ServiceAccess("complaints", "complaints", ("notifier", "service", "leads", "sales")),
    ServiceAccess("notifier", "notifier", ("leads", "sales", "service", "complaints", "notifier")),
)

INTEGRATION = PRINCIPAL_PREFIX + "integration"
MIGRATE = PRINCIPAL_PREFIX + "migrate"
OPERATOR = PRINCIPAL_PREFIX + "operator"


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule: ``principal`` may ``operation`` on a resource (any host)."""

    principal: str  # user name, without "User:"
    resource_type: ResourceType
    pattern_type: PatternType
    resource: str
    operation: Operation


def outside_contexts() -> tuple[str, ...]:
    """Topics outside systems publish to: raw lead submissions, and every context with
    an event whose catalogue entry names an emitter that is not one of our services."""
    ours = {access.service for access in SERVICE_ACCESS}
    found = [
        context
        for context, events in EVENTS_BY_CONTEXT.items()
        if any(
            isinstance(emitter, str) and emitter not in ours
            for event in events
            for emitter in event.doc.emitted_by
        )
    ]
    return (INBOUND_LEADS, *sorted(found))


def _all_topics() -> tuple[str, ...]:
    return (*EVENTS_BY_CONTEXT, INBOUND_LEADS)


def acl_table(prefix: str = "dealerflow.") -> list[Acl]:
    """Every ACL of every principal for topics named ``<prefix><context>``."""
    acls: list[Acl] = []

    def topic(principal: str, name: str, operation: Operation) -> None:
        acls.append(Acl(principal, "topic", "literal", prefix + name, operation))

    for access in SERVICE_ACCESS:
        topic(access.principal, access.publishes, "Write")
        for consumed in access.reads():
            topic(access.principal, consumed, "Read")
            topic(access.principal, consumed + DLQ_SUFFIX, "Write")
        acls.append(
            Acl(access.principal, "group", "prefixed", f"{prefix}{access.service}.", "Read")
        )
    for name in outside_contexts():
        topic(INTEGRATION, name, "Write")
    for operation in ("Create", "Describe", "DescribeConfigs"):
        acls.append(Acl(MIGRATE, "topic", "prefixed", prefix, operation))
    for name in _all_topics():
        topic(OPERATOR, name + DLQ_SUFFIX, "Read")
        topic(OPERATOR, name, "Write")
    return acls


def principal_names() -> list[str]:
    """Every principal of :func:`acl_table` (SCRAM user names), in table order."""
    return list(dict.fromkeys(acl.principal for acl in acl_table()))


# -- generated files --------------------------------------------------------------------

_SHELL_PREFIX = "${PREFIX}"
_GENERATED = "Generated by `python -m dealerflow.runtime.kafka_acls` from"
_SOURCE = "dealerflow.runtime.kafka_acls; do not edit."


def acls_script() -> str:
    """``deploy/kafka/acls.sh``: every ACL as a ``kafka-acls.sh --add`` call."""
    lines = [
        "#!/usr/bin/env bash",
        f"# {_GENERATED}",
        f"# {_SOURCE}",
        '# Adds the ACLs of dealerflow\'s principals (docs/operations.md, "Kafka security").',
        "#   BOOTSTRAP=broker:9093 COMMAND_CONFIG=admin.properties PREFIX=dealerflow. \\",
        "#     bash deploy/kafka/acls.sh",
        "# COMMAND_CONFIG: client properties of a principal allowed to alter ACLs.",
        "# Adding an ACL that exists is a no-op, so the script can be run again.",
        "set -euo pipefail",
        'BOOTSTRAP="${BOOTSTRAP:?set BOOTSTRAP to the brokers, e.g. kafka:9093}"',
        'PREFIX="${PREFIX:-dealerflow.}"',
        'KAFKA_ACLS="${KAFKA_ACLS:-kafka-acls.sh}"',
        'args=(--bootstrap-server "$BOOTSTRAP")',
        'if [ -n "${COMMAND_CONFIG:-}" ]; then args+=(--command-config "$COMMAND_CONFIG"); fi',
        "",
        "acl() {  # principal resource-flag pattern-type name operation",
        '  "$KAFKA_ACLS" "${args[@]}" --add --allow-principal "User:$1" \\',
        '    "$2" "$4" --resource-pattern-type "$3" --operation "$5" >/dev/null',
        "}",
        "",
    ]
    principal = None
    for acl in acl_table(_SHELL_PREFIX):
        if acl.principal != principal:
            principal = acl.principal
            lines.append(f"# {principal}")
        flag = "--topic" if acl.resource_type == "topic" else "--group"
        lines.append(
            f'acl {acl.principal} {flag} {acl.pattern_type} "{acl.resource}" {acl.operation}'
        )
    lines += ["", 'echo "dealerflow ACLs added at $BOOTSTRAP (prefix $PREFIX)"', ""]
    return "\n".join(lines)


def _kafka_user(principal: str, acls: Iterable[Acl]) -> str:
    lines = [
        f"# {_GENERATED}",
        f"# {_SOURCE}",
        "apiVersion: kafka.strimzi.io/v1beta2",
        "kind: KafkaUser",
        "metadata:",
        f"  name: {principal}",
        "  labels:",
        f"    strimzi.io/cluster: {STRIMZI_CLUSTER}",
        "spec:",
        "  authentication:",
        "    type: scram-sha-512",
        "  authorization:",
        "    type: simple",
        "    acls:",
    ]
    for acl in acls:
        lines += [
            "      - resource:",
            f"          type: {acl.resource_type}",
            f"          name: {acl.resource}",
            f"          patternType: {acl.pattern_type}",
            f"        operations: [{acl.operation}]",
            '        host: "*"',
        ]
    return "\n".join(lines) + "\n"


_COMPONENT = "deploy/k8s/components/kafka-security"

_SERVICE_ENV = """\
  - target:
      kind: Deployment
      name: {service}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: DEALERFLOW_{env}_KAFKA_SASL_USERNAME
          value: {principal}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: DEALERFLOW_{env}_KAFKA_SASL_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {principal}
              key: password
"""


def _kustomization(users: Sequence[str]) -> str:
    head = f"""\
# {_GENERATED}
# {_SOURCE}
# Kafka security for every service: SCRAM-SHA-512 over TLS to the Strimzi cluster
# `{STRIMZI_CLUSTER}`, one KafkaUser (principal, ACLs) per service and tool. Strimzi puts
# each user's password in a Secret of the user's name and the cluster CA in
# `{STRIMZI_CLUSTER}-cluster-ca-cert`. See docs/operations.md, "Kafka security".
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
{"".join(f"  - users/{user}.yaml{chr(10)}" for user in users)}\
configMapGenerator:
  - name: dealerflow-config
    behavior: merge
    literals:
      - DEALERFLOW_KAFKA_BOOTSTRAP={STRIMZI_CLUSTER}-kafka-bootstrap:9093
      - DEALERFLOW_KAFKA_SECURITY_PROTOCOL=SASL_SSL
      - DEALERFLOW_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
      - DEALERFLOW_KAFKA_SSL_CAFILE=/etc/dealerflow/kafka-ca/ca.crt
patches:
  - target:
      kind: Deployment
      labelSelector: app.kubernetes.io/component=service
    patch: |-
      - op: add
        path: /spec/template/spec/volumes/-
        value:
          name: kafka-ca
          secret:
            secretName: {STRIMZI_CLUSTER}-cluster-ca-cert
            items:
              - key: ca.crt
                path: ca.crt
      - op: add
        path: /spec/template/spec/containers/0/volumeMounts/-
        value:
          name: kafka-ca
          mountPath: /etc/dealerflow/kafka-ca
          readOnly: true
  - target:
      kind: Job
      name: dealerflow-migrate
    patch: |-
      - op: add
        path: /spec/template/spec/volumes/-
        value:
          name: kafka-ca
          secret:
            secretName: {STRIMZI_CLUSTER}-cluster-ca-cert
            items:
              - key: ca.crt
                path: ca.crt
      - op: add
        path: /spec/template/spec/containers/0/volumeMounts/-
        value:
          name: kafka-ca
          mountPath: /etc/dealerflow/kafka-ca
          readOnly: true
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: DEALERFLOW_KAFKA_SASL_USERNAME
          value: {MIGRATE}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: DEALERFLOW_KAFKA_SASL_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {MIGRATE}
              key: password
"""
    services = "".join(
        _SERVICE_ENV.format(
            service=access.service,
            env=access.service.upper().replace("-", "_"),
            principal=access.principal,
        )
        for access in SERVICE_ACCESS
    )
    return head + services


def generated_files() -> dict[str, str]:
    """Repository path -> content of every file this module generates."""
    acls = acl_table()
    users = principal_names()
    files = {"deploy/kafka/acls.sh": acls_script()}
    for user in users:
        files[f"{_COMPONENT}/users/{user}.yaml"] = _kafka_user(
            user, [acl for acl in acls if acl.principal == user]
        )
    files[f"{_COMPONENT}/kustomization.yaml"] = _kustomization(users)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Write the generated files under ``--root`` (default: the current directory);
    ``--check`` only reports the ones that differ (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m dealerflow.runtime.kafka_acls")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for relative, content in generated_files().items():
        path = args.root / relative
        if path.is_file() and path.read_text() == content:
            continue
        stale.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    verb = "differ" if args.check else "written"
    sys.stdout.write(f"{len(stale)} file(s) {verb}: {', '.join(stale) or '-'}\n")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
