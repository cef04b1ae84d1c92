"""Per-request DataLoaders: one SQL statement per level of a query, whatever the list sizes.

- `users`: authors of posts (primed with every user a query already loaded, so the posts of
  a user list find their author without asking again);
- `posts_of_users`: a slice of the posts of many users (`User.posts`);
- `tag_post_counts`: `Tag.postCount` for the tags of many posts.
Tags of posts come with the posts: the posts repository loads them for a whole list at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from pressroom.auth.actor import Actor
from pressroom.db.units import UnitOfWork
from pressroom.kit.cursors import Slice, SliceRequest
from pressroom.posts.models import PostRecord
from pressroom.services import Services
from pressroom.users.models import UserView

PostsOfUserKey = tuple[int, SliceRequest]


class Loaders:
    def __init__(self, services: Services, uow: UnitOfWork, actor: Actor) -> None:
        self.services = services
        self.uow = uow
        self.actor = actor
        self.users = DataLoader[int, UserView | None](load_fn=self._users)
        self.posts_of_users = DataLoader[PostsOfUserKey, Slice[PostRecord]](
            load_fn=self._posts_of_users
        )
        self.tag_post_counts = DataLoader[int, int](load_fn=self._tag_post_counts)

    def saw_users(self, views: Sequence[UserView]) -> None:
        self.users.prime_many({view.user.id: view for view in views})

    async def _users(self, user_ids: Sequence[int]) -> list[UserView | None]:
        found = await self.services.users.views(self.uow, self.actor, user_ids)
        return [found.get(user_id) for user_id in user_ids]

    async def _posts_of_users(self, keys: Sequence[PostsOfUserKey]) -> list[Slice[PostRecord]]:
        # Users asked with the same `first`/`after` share one statement (in practice: all).
        by_request: dict[SliceRequest, list[int]] = defaultdict(list)
        for user_id, request in keys:
            by_request[request].append(user_id)
        found: dict[PostsOfUserKey, Slice[PostRecord]] = {}
        for request, user_ids in by_request.items():
            slices = await self.services.posts.slices_by_authors(
                self.uow, self.actor, user_ids, request
            )
            found.update({(user_id, request): slices[user_id] for user_id in user_ids})
        return [found[key] for key in keys]

    async def _tag_post_counts(self, tag_ids: Sequence[int]) -> list[int]:
        counts = await self.services.tags.post_counts(self.uow, tag_ids)
        return [counts.get(tag_id, 0) for tag_id in tag_ids]
