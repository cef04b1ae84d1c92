"""The one place that decides what each event carries: the resource as an anonymous reader
would see it, in the output shapes REST answers with and through the same serializer.

A draft is only its id (its title and content are its author's until published); a user is the
public view (no email, roles or settings); a tag known only through drafts is only its id (its
name would tell what someone is writing, docs/api.md); a deleted resource is its id.
"""

from __future__ import annotations

from pressroom.events.models import Event, EventType
from pressroom.kit.output import json_data
from pressroom.posts.models import PostRecord
from pressroom.tags.models import TagRecord
from pressroom.users.models import UserRecord, UserView
from pressroom.users.schemas import UserOut


def user_event(type_: EventType, user: UserRecord) -> Event:
    return Event(type_, json_data(UserOut.of(UserView(user, full=False))))


def user_deleted(user_id: int) -> Event:
    return Event(EventType.USER_DELETED, {"id": user_id})


def post_event(type_: EventType, post: PostRecord) -> Event:
    return Event(type_, json_data(post) if post.published else {"id": post.id})


def post_deleted(post_id: int) -> Event:
    return Event(EventType.POST_DELETED, {"id": post_id})


def tag_updated(tag_id: int, public: TagRecord | None) -> Event:
    """`public`: the tag as an anonymous reader finds it, None when such a reader cannot."""
    return Event(EventType.TAG_UPDATED, json_data(public) if public is not None else {"id": tag_id})


def tag_deleted(tag_id: int) -> Event:
    return Event(EventType.TAG_DELETED, {"id": tag_id})


def webhook_disabled(endpoint_id: int, reason: str) -> Event:
    return Event(EventType.WEBHOOK_DISABLED, {"id": endpoint_id, "reason": reason})
