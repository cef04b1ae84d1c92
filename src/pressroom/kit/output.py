"""Response shapes: one definition per resource gives both its OpenAPI schema and its bytes.

A resource's shape is a plain slotted dataclass marked `@output` (most often the very record
the service returns, so nothing is copied on the way out): FastAPI documents it from the
JSON schema pydantic derives (`response_model=`), and `json_bytes` serialises it with the
serializer pydantic-core compiles from the same definition. Field names are snake_case in
Python and camelCase on the wire; timestamps are `Timestamp`, RFC 3339 UTC with six digits
(`kit.clock.rfc3339`). Building a record stays a plain dataclass call: the config and the
annotations are read only when the serializer is compiled, once per type.

Measured against hand-written dicts rendered by orjson and against msgspec Structs in
docs/performance.md ("One output schema per resource").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import ConfigDict, Field, PlainSerializer, TypeAdapter, WithJsonSchema, with_config
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo
from pydantic_core import SchemaSerializer

from pressroom.kit.clock import rfc3339
from pressroom.kit.openapi import without_null

C = TypeVar("C", bound=type)


def _title(name: str, _field: FieldInfo | ComputedFieldInfo) -> str:
    # The titles the document had when the shapes were camelCase pydantic models ("Createdat"),
    # so that the document changes only where it becomes more exact.
    return to_camel(name).title()


OUTPUT_CONFIG = ConfigDict(
    alias_generator=to_camel, serialize_by_alias=True, field_title_generator=_title
)

# Every timestamp the API writes: pydantic's own format drops zero microseconds, which the API
# keeps (docs/api.md, tests/contract/test_timestamp_format.py).
Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def _absent(value: object) -> bool:
    return value is None


# `field: Annotated[X | None, SHOWN_TO_SOME] = None`: a field some viewers are not shown; left
# out of the JSON for them (None), never null, and documented as optional and never null.
SHOWN_TO_SOME: Any = Field(exclude_if=_absent, json_schema_extra=without_null)


def output(cls: C) -> C:
    """Marks a dataclass as a response shape: camelCase on the wire, `json_bytes` renders it."""
    return with_config(OUTPUT_CONFIG)(cls)


# Compiled on first use, when every module the shapes' annotations name is loaded.
_SERIALIZERS: dict[type, SchemaSerializer] = {}


def json_bytes(content: Any) -> bytes:
    """The one way a response body becomes bytes: an `@output` shape through its compiled
    serializer, plain JSON data (dicts, lists) through orjson."""
    if isinstance(content, dict | list):
        return orjson.dumps(content)
    return _serializer(type(content)).to_json(content)


def json_data(content: Any) -> Any:
    """What `json_bytes` would write, as JSON values (dicts, lists, strings) rather than bytes:
    for data stored or sent inside another document (an event's `data`), in the same shape."""
    return _serializer(type(content)).to_python(content, mode="json")


def _serializer(shape: type) -> SchemaSerializer:
    serializer = _SERIALIZERS.get(shape)
    if serializer is None:
        serializer = _SERIALIZERS[shape] = TypeAdapter(shape).serializer
    return serializer


@output
@dataclass(slots=True)
class Pagination:
    page: int
    limit: int
    total: int
    total_pages: int
