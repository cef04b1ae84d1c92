"""Request bodies and response shapes of tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, StringConstraints

from pressroom.kit.output import Pagination, output
from pressroom.kit.validation import SINGLE_LINE, InputModel
from pressroom.tags.models import TagRecord
from pressroom.tags.slugs import MAX_SLUG_CHARS, SLUG_PATTERN

MAX_TAG_NAME_CHARS = 50
# Stripped like the names `POST /posts` creates tags from, so a rename cannot keep spaces that
# a new tag of the same name would not have.
TagName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_NAME_CHARS),
    SINGLE_LINE,
]


class UpdateTagRequest(InputModel):
    name: TagName | None = None
    slug: str | None = Field(
        default=None, min_length=1, max_length=MAX_SLUG_CHARS, pattern=SLUG_PATTERN
    )


# A tag is its record (`TagRecord`; a post's tags are `TagRef`s), a page of them `TagPage`.
@output
@dataclass(slots=True)
class TagPage:
    data: list[TagRecord]
    pagination: Pagination
