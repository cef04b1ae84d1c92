"""Input models shared by both front doors: REST parses bodies with them, GraphQL builds them
from its plain-string inputs, so a bad value gets the same message through either door."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from pressroom.kit.errors import ValidationFailed
from pressroom.kit.http_errors import validation_details
from pressroom.kit.openapi import document_nulls

M = TypeVar("M", bound=BaseModel)
_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}
_TEXT_CONTROL = _CONTROL - {"\n", "\r", "\t"}


def _single_line(value: str) -> str:
    if any(c in _CONTROL for c in value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _text(value: str) -> str:
    if any(c in _TEXT_CONTROL for c in value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


# Use as `Annotated[str, StringConstraints(...), SINGLE_LINE]`: one line, not blank (names, titles).
SINGLE_LINE = AfterValidator(_single_line)
# Free text: line breaks and tabs allowed, other control characters not.
FREE_TEXT = AfterValidator(_text)


class InputModel(BaseModel):
    """camelCase JSON, strict types, unknown fields refused (the mass-assignment defence)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        strict=True,
        frozen=True,
        json_schema_extra=document_nulls,
    )

    # Fields that may be set to null explicitly; any other field given as null is refused, so
    # a PATCH can leave a field out but never blank a required one.
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("must not be null")
        return value

    def given(self) -> set[str]:
        return set(self.model_fields_set)


def parse_input(model: type[M], data: dict[str, Any]) -> M:
    """Validate a plain dict (GraphQL input) the way FastAPI validates a REST body."""
    try:
        # Through JSON, so GraphQL inputs meet exactly the strictness REST bodies meet.
        return model.model_validate_json(orjson.dumps(data))
    except ValidationError as error:
        raise ValidationFailed(details=validation_details(error.errors())) from None
