"""The principals/ACL table agrees with what the services consume and publish, and the
files generated from it (deploy/kafka/acls.sh, the Strimzi KafkaUsers) are up to date."""

from __future__ import annotations

import importlib
from pathlib import Path

from dealerflow.contracts.events import EVENTS_BY_CONTEXT
from dealerflow.contracts.topics import INBOUND_LEADS
from dealerflow.runtime.kafka_acls import (
    SERVICE_ACCESS,
    Acl,
    acl_table,
    generated_files,
    outside_contexts,
    principal_names,
)
from dealerflow.runtime.service import ServiceContext, ServiceDefinition
from dealerflow.runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
_PACKAGES = {access.service: access.service.replace("-", "_") for access in SERVICE_ACCESS}


def _definition(service: str) -> ServiceDefinition[ServiceSettings]:
    module = importlib.import_module(f"dealerflow.{_PACKAGES[service]}.app")
    definition: ServiceDefinition[ServiceSettings] = module.DEFINITION
    return definition


def test_the_generated_files_are_up_to_date() -> None:
    stale = [
        path
        for path, content in generated_files().items()
        if not (ROOT / path).is_file() or (ROOT / path).read_text() != content
    ]
    assert not stale, f"run `uv run --frozen python -m dealerflow.runtime.kafka_acls`: {stale}"


def test_each_service_reads_what_it_subscribes_to() -> None:
    for access in SERVICE_ACCESS:
        definition = _definition(access.service)
        settings = definition.settings_factory()
        ctx = ServiceContext(
            settings=settings,
            clock=settings.clock(),
            topics=None,  # type: ignore[arg-type]  # subscriptions only name contexts
            source="test",
            dealers=None,  # type: ignore[arg-type]
        )
        subscribed = {c for sub in definition.all_subscriptions(ctx) for c in sub.contexts}
        assert subscribed == set(access.reads()), access.service


def test_each_service_publishes_its_own_context_only() -> None:
    owners = {access.publishes: access.service for access in SERVICE_ACCESS}
    assert set(owners) == set(EVENTS_BY_CONTEXT)
    ours = set(owners.values())
    for context, events in EVENTS_BY_CONTEXT.items():
        for event in events:
            emitters = {str(e).split(" — ")[0] for e in event.doc.emitted_by} & ours
            assert emitters <= {owners[context]}, (event.__name__, emitters)


def test_outside_systems_write_the_catalogue_outside_emitters_name() -> None:
    # VehicleDelivered (a DMS), RepairOrderOpened/VehicleHandedOver (a DMS),
    # SurveyResponded (survey tools), and raw lead submissions
    assert outside_contexts() == (INBOUND_LEADS, "notifier", "sales", "service")


def test_sales_may_write_its_topic_and_nothing_else_but_dead_letters() -> None:
    sales = {a for a in acl_table("p.") if a.principal == "dealerflow-sales"}
    assert sales == {
        Acl("dealerflow-sales", "topic", "literal", "p.sales", "Write"),
        Acl("dealerflow-sales", "topic", "literal", "p.dealers", "Read"),
        Acl("dealerflow-sales", "topic", "literal", "p.dealers.dlq", "Write"),
        # the runtime's erasure subscription (CustomerErasureRequested)
        Acl("dealerflow-sales", "topic", "literal", "p.leads", "Read"),
        Acl("dealerflow-sales", "topic", "literal", "p.leads.dlq", "Write"),
        Acl("dealerflow-sales", "group", "prefixed", "p.sales.", "Read"),
    }
    notifier_writes = {
        a.resource
        for a in acl_table("p.")
        if a.principal == "dealerflow-notifier" and a.operation == "Write"
    }
    assert notifier_writes == {
        "p.notifier",
        # dead letters of its subscriptions: the notifier topic too (ConsentChanged)
        *(f"p.{c}.dlq" for c in ("leads", "sales", "service", "complaints", "notifier", "dealers")),
    }


def test_the_operations_guide_lists_every_principal() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    section = guide.split("## Kafka security", 1)[1].split("\n## ", 1)[0]
    for principal in principal_names():
        assert f"| `{principal}` |" in section, principal
