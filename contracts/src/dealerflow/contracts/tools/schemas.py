"""JSON Schema (draft 2020-12) of every event, generated from the pydantic models.

Files live at `contracts/schemas/v<major>/<context>/<EventName>.json`; the released copy,
which the compatibility gate compares against, at `contracts/schemas/released/...`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from dealerflow.contracts.events import ALL_EVENTS, DomainEvent

__all__ = [
    "MAX_SAFE_INTEGER",
    "RELEASED_DIR",
    "SCHEMA_DIALECT",
    "ContractJsonSchema",
    "event_schema",
    "event_schemas",
    "render_json",
    "schema_path",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
RELEASED_DIR = "released"

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON parser reads exactly (RFC 8259, section 6)."""


class ContractJsonSchema(GenerateJsonSchema):
    """pydantic's JSON Schema generator, plus bounds on every integer that has none.

    JSON Schema cannot tell `1e20` from `100000000000000000000`, both integers there; the
    decoder refuses an integer written with an exponent or fraction beyond 64 bits. So
    the published schemas keep integers to the range every JSON parser reads exactly,
    +-(2^53 - 1) (the decoder still reads larger ones written as plain digits).
    """

    def int_schema(self, schema: core_schema.IntSchema) -> JsonSchemaValue:
        json_schema = super().int_schema(schema)
        if "maximum" not in json_schema and "exclusiveMaximum" not in json_schema:
            json_schema["maximum"] = MAX_SAFE_INTEGER
        if "minimum" not in json_schema and "exclusiveMinimum" not in json_schema:
            json_schema["minimum"] = -MAX_SAFE_INTEGER
        return json_schema


def schema_path(cls: type[DomainEvent]) -> PurePosixPath:
    """Path of an event's schema relative to contracts/schemas/."""
    return PurePosixPath(f"v{cls.version}", cls.context, f"{cls.event_name}.json")


def event_schema(cls: type[DomainEvent]) -> dict[str, Any]:
    """The JSON Schema of one event's payload (the CloudEvents `data`)."""
    schema = cls.model_json_schema(mode="validation", schema_generator=ContractJsonSchema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:dealerflow:schema:{cls.event_type}",
        "x-dealerflow-ce-type": cls.event_type,
        **schema,
    }


def event_schemas() -> Mapping[PurePosixPath, dict[str, Any]]:
    """Schema of every event keyed by its path relative to contracts/schemas/."""
    return {schema_path(cls): event_schema(cls) for cls in ALL_EVENTS}


def render_json(document: Any) -> str:
    """Stable JSON text for committed artifacts (2-space indent, UTF-8, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
