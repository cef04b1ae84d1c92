"""Request bodies and response shapes of posts: a post is its record (`PostRecord`, with its
`Author` and `TagRef`s), a page of them `PostPage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, StringConstraints

from pressroom.kit.output import Pagination, output
from pressroom.kit.validation import FREE_TEXT, SINGLE_LINE, InputModel
from pressroom.posts.models import PostRecord
from pressroom.tags.schemas import TagName

MAX_TITLE_CHARS = 255
MAX_CONTENT_CHARS = 100_000
MAX_TAGS_PER_POST = 10
Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS), SINGLE_LINE]
Content = Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS), FREE_TEXT]


class CreatePostRequest(InputModel):
    title: Title
    content: Content
    published: bool = False
    tags: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS_PER_POST)


class UpdatePostRequest(InputModel):
    title: Title | None = None
    content: Content | None = None
    published: bool | None = None
    tags: list[TagName] | None = Field(default=None, max_length=MAX_TAGS_PER_POST)


@output
@dataclass(slots=True)
class PostPage:
    data: list[PostRecord]
    pagination: Pagination
