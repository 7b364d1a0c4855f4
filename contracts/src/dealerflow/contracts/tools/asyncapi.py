"""The AsyncAPI 3.0 document of dealerflow's topics and messages, built from the models."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from dealerflow.contracts.events import ALL_EVENTS, EVENTS_BY_CONTEXT, DomainEvent
from dealerflow.contracts.examples import EXAMPLES
from dealerflow.contracts.inbound import MAX_SUBMISSION_BYTES, LeadSubmission
from dealerflow.contracts.tools.schemas import ContractJsonSchema
from dealerflow.contracts.topics import (
    CONTEXTS,
    DEFAULT_PARTITIONS,
    INBOUND_LEADS,
    TopicRegistry,
    topic_key,
)

__all__ = ["ASYNCAPI_VERSION", "build_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"
_REF = "#/components/schemas/{model}"
_KAFKA_BINDING = "0.5.0"

_CLOUDEVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka protocol binding, binary mode. Consumers also "
    "accept structured mode (content-type application/cloudevents+json, the attributes "
    "below without the ce_ prefix and the payload in `data`).",
    "properties": {
        "ce_specversion": {"const": "1.0", "description": "CloudEvents version."},
        "ce_id": {"type": "string", "description": "Unique event id (inbox dedupe key)."},
        "ce_type": {
            "type": "string",
            "description": "dealerflow.<context>.<EventName>.v<major>.",
        },
        "ce_source": {"type": "string", "description": "URI of the producing system."},
        "ce_time": {"type": "string", "format": "date-time", "description": "UTC time."},
        "ce_subject": {"type": "string", "description": "Id of the record concerned."},
        "ce_dealerid": {"type": "string", "description": "Dealer code; equals data.dealer_id."},
        "ce_correlationid": {"type": "string", "description": "Conversation id."},
        "ce_causationid": {"type": "string", "description": "Id of the causing event."},
        "content-type": {"const": "application/json", "description": "Payload media type."},
        "traceparent": {"type": "string", "description": "W3C trace context."},
        "tracestate": {"type": "string", "description": "W3C trace state."},
    },
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source"],
}

_CHANNEL_TEXT = {
    "leads": "Potential customers, grading, assignment, contact log and invitations.",
    "sales": "Showroom, test drives, quotes, contracts, payments, invoices and delivery.",
    "service": "After-sales: appointments, repair orders, quality checks, handover, retention.",
    "complaints": "Complaint lifecycle, SLA breaches and escalations.",
    "notifier": "Staff tasks, customer messages, surveys and consent.",
    "dealers": "Dealer configuration: each store's full effective settings, versioned.",
}

# The Kafka key of a record, per key field of the events (see DomainEvent.key_field).
_KEY_SCHEMAS: dict[str, dict[str, Any]] = {
    "customer_id": {"type": "string", "format": "uuid", "description": "customer_id"},
    "dealer_id": {"type": "string", "description": "dealer_id"},
}


def _channel_id(context: str) -> str:
    return "inboundLeads" if context == INBOUND_LEADS else context


def _kafka_channel(topics: TopicRegistry, topic: str) -> dict[str, Any]:
    binding: dict[str, Any] = {"topic": topic, "partitions": DEFAULT_PARTITIONS}
    config = topics.config(topic)
    if "cleanup.policy" in config:
        # The binding (0.5.0) names cleanup.policy; the other settings are in the text.
        binding["topicConfiguration"] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    binding["bindingVersion"] = _KAFKA_BINDING
    return {"kafka": binding}


def _key_text(topics: TopicRegistry, context: str) -> str:
    text = f" Key: {topic_key(context).replace('_', ' ')}."
    config = topics.config(topics.name(context))
    if config.get("cleanup.policy") == "compact":
        settings = ", ".join(f"{name}={value}" for name, value in config.items())
        text += (
            " Log-compacted: Kafka keeps the latest record of every key and removes the "
            f"older ones ({settings})."
        )
    return text


def _message(cls: type[DomainEvent], source: str) -> dict[str, Any]:
    example = EXAMPLES[cls]
    headers: dict[str, Any] = {
        "ce_specversion": "1.0",
        "ce_id": "6f1c2a4e-0b7d-4c1e-9d53-3f0a9e2b7c11",
        "ce_type": cls.event_type,
        "ce_source": source,
        "ce_time": example.model_dump(mode="json")["occurred_at"],
        "ce_dealerid": example.dealer_id,
        "ce_correlationid": "6f1c2a4e-0b7d-4c1e-9d53-3f0a9e2b7c11",
        "content-type": "application/json",
    }
    if example.subject is not None:
        headers["ce_subject"] = example.subject
    doc = cls.doc
    description = "\n".join(
        [
            (cls.__doc__ or "").strip(),
            "",
            f"When: {doc.when}",
            f"Emitted by: {', '.join(map(str, doc.emitted_by))}",
            "Reacted to by:",
            *[f"- {reaction}" for reaction in doc.reacted_by],
        ]
    )
    return {
        "name": cls.event_type,
        "title": cls.event_name,
        "summary": (cls.__doc__ or "").strip().splitlines()[0],
        "description": description,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventHeaders"},
                {"properties": {"ce_type": {"const": cls.event_type}}},
            ]
        },
        "payload": {"$ref": _REF.format(model=cls.__name__)},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {
            "kafka": {
                "key": _KEY_SCHEMAS[cls.key_field],
                "bindingVersion": _KAFKA_BINDING,
            }
        },
        "examples": [
            {
                "name": f"{cls.event_name}Example",
                "headers": headers,
                "payload": example.model_dump(mode="json"),
            }
        ],
    }


def _inbound_messages() -> dict[str, Any]:
    return {
        "LeadSubmissionJson": {
            "name": "LeadSubmissionJson",
            "title": "Lead submission (JSON)",
            "summary": "A lead from an outside system in the normalised JSON shape.",
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model="LeadSubmission")},
        },
        "LeadSubmissionAdf": {
            "name": "LeadSubmissionAdf",
            "title": "Lead submission (ADF 1.0 XML)",
            "summary": "A lead in the Auto-lead Data Format 1.0 (prospect/vehicle/customer/"
            "vendor/provider); parsed leniently, DTDs and entities refused.",
            "contentType": "application/xml",
            "payload": {
                "type": "string",
                "contentMediaType": "application/xml",
                "maxLength": MAX_SUBMISSION_BYTES,
                "description": "ADF 1.0 XML document, at most 256 KiB.",
            },
        },
    }


def _dead_letter() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "Dead-lettered record",
        "summary": "A record a consumer could not process after bounded retries.",
        "description": "Key, value and headers of the original record unchanged, plus the "
        "dead-letter headers written by dealerflow.runtime (error, original topic, "
        "partition, offset, consumer). Replay with `dealerflow-dlq replay`.",
        "payload": {"description": "The original record value, unchanged."},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    }


def build_asyncapi(
    prefix: str = "dealerflow.", source: str = "/dealerflow/sales"
) -> dict[str, Any]:
    """Build the AsyncAPI 3.0 document for topics under `prefix`."""
    topics = TopicRegistry(prefix)
    models = [(cls, "validation") for cls in (*ALL_EVENTS, LeadSubmission)]
    _, definitions = models_json_schema(
        models,  # type: ignore[arg-type]
        ref_template=_REF,
        schema_generator=ContractJsonSchema,
    )
    schemas: dict[str, Any] = {"CloudEventHeaders": _CLOUDEVENT_HEADERS}
    schemas.update(definitions.get("$defs", {}))

    messages: dict[str, Any] = {cls.__name__: _message(cls, source) for cls in ALL_EVENTS}
    messages.update(_inbound_messages())
    messages["DeadLetter"] = _dead_letter()

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for context in (*CONTEXTS, INBOUND_LEADS):
        topic = topics.name(context)
        channel_id = _channel_id(context)
        if context == INBOUND_LEADS:
            names = ["LeadSubmissionJson", "LeadSubmissionAdf"]
            text = "Raw lead submissions from outside systems (JSON or ADF 1.0 XML)."
        else:
            names = [cls.__name__ for cls in EVENTS_BY_CONTEXT[context]]
            text = _CHANNEL_TEXT[context] + _key_text(topics, context)
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": text,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": _kafka_channel(topics, topic),
        }
        channels[f"{channel_id}Dlq"] = {
            "address": topics.dlq(topic),
            "title": topics.dlq(topic),
            "description": f"Dead letters of {topic}"
            + (" (not compacted)." if topics.config(topic) else "."),
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": _kafka_channel(topics, topics.dlq(topic)),
        }
        refs = [{"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in names]
        send = "receive" if context == INBOUND_LEADS else "send"
        operations[f"{send}{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": send,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"dealerflow {'consumes' if send == 'receive' else 'publishes'} {topic}.",
            "messages": refs,
        }
        operations[f"deadLetter{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}Dlq"},
            "summary": f"Consumers of {topic} dead-letter poison records here.",
            "messages": [{"$ref": f"#/channels/{channel_id}Dlq/messages/DeadLetter"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "dealerflow events",
            "version": "1.0.0",
            "description": "Events of the dealerflow dealership backend: CloudEvents 1.0 over "
            "Kafka, one topic per bounded context, keyed by customer id; dealer "
            "configuration is keyed by dealer id on a log-compacted topic. Generated from "
            "dealerflow.contracts; do not edit.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Local development Kafka (KRaft).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
