"""The service layer, built once per app and shared by REST, GraphQL and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.auth.service import AuthService
from pressroom.config import Settings
from pressroom.db.engine import Database
from pressroom.kit.observability import Metrics
from pressroom.kit.passwords import PasswordHasher
from pressroom.kit.tokens import AccessTokens
from pressroom.posts.service import PostService
from pressroom.tags.service import TagService
from pressroom.users.service import UserService


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    metrics: Metrics
    hasher: PasswordHasher
    auth: AuthService
    users: UserService
    posts: PostService
    tags: TagService

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Services:
        metrics = metrics or Metrics()
        db = Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeout_seconds=settings.database_timeout_seconds,
        )
        hasher = PasswordHasher()
        tokens = AccessTokens(settings)
        return cls(
            settings=settings,
            db=db,
            metrics=metrics,
            hasher=hasher,
            auth=AuthService(db, hasher, tokens, settings, metrics),
            users=UserService(db, hasher, settings, metrics),
            posts=PostService(db, metrics),
            tags=TagService(db),
        )

    async def close(self) -> None:
        await self.db.dispose()
