"""Request bodies and response shapes of posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from pressroom.kit.clock import rfc3339
from pressroom.kit.openapi import Page
from pressroom.kit.validation import FREE_TEXT, SINGLE_LINE, InputModel
from pressroom.posts.models import PostRecord
from pressroom.tags.schemas import TagName, TagRefOut, tag_ref_json
from pressroom.users.schemas import ProfileOut, profile_json

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


class AuthorOut(BaseModel):
    id: int
    profile: ProfileOut


class PostOut(BaseModel):
    id: int
    title: str
    content: str
    published: bool
    publishedAt: datetime | None  # noqa: N815
    author: AuthorOut
    tags: list[TagRefOut]
    createdAt: datetime  # noqa: N815
    updatedAt: datetime  # noqa: N815


class PostPage(Page[PostOut]):
    pass


def post_json(post: PostRecord) -> dict[str, Any]:
    return {
        "id": post.id,
        "title": post.title,
        "content": post.content,
        "published": post.published,
        "publishedAt": rfc3339(post.published_at),
        "author": {"id": post.author.id, "profile": profile_json(post.author.profile)},
        "tags": [tag_ref_json(t) for t in post.tags],
        "createdAt": rfc3339(post.created_at),
        "updatedAt": rfc3339(post.updated_at),
    }
