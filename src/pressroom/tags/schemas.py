"""Request bodies and response shapes of tags."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from pressroom.kit.openapi import Page
from pressroom.kit.validation import SINGLE_LINE, InputModel
from pressroom.tags.models import TagRecord, TagRef
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


class TagRefOut(BaseModel):
    id: int
    name: str
    slug: str


class TagOut(TagRefOut):
    postCount: int  # noqa: N815


class TagPage(Page[TagOut]):
    pass


def tag_ref_json(tag: TagRef) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name, "slug": tag.slug}


def tag_json(tag: TagRecord) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name, "slug": tag.slug, "postCount": tag.post_count}
