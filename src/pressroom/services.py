"""The service layer, built once per app and shared by REST, GraphQL and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.accounts.service import AccountService
from pressroom.auth.revocations import RevokedSessions
from pressroom.auth.service import AuthService
from pressroom.config import Settings
from pressroom.db.engine import Database
from pressroom.jobs.service import JobService
from pressroom.kit.client_address import TrustedProxies
from pressroom.kit.observability import Metrics
from pressroom.kit.passwords import PasswordHasher
from pressroom.kit.ratelimit import Policies, RateLimits
from pressroom.kit.shared_state import SharedState
from pressroom.kit.tokens import AccessTokens
from pressroom.posts.service import PostService
from pressroom.tags.service import TagService
from pressroom.users.service import UserService


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    metrics: Metrics
    shared: SharedState
    limits: RateLimits
    proxies: TrustedProxies
    hasher: PasswordHasher
    auth: AuthService
    accounts: AccountService
    users: UserService
    posts: PostService
    tags: TagService
    jobs: JobService

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Services:
        metrics = metrics or Metrics()
        db = Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeout_seconds=settings.database_timeout_seconds,
            command_timeout_seconds=settings.database_command_timeout_seconds,
        )
        metrics.watch_pool(db.engine)
        shared = SharedState(
            settings.redis_url, settings.redis_key_prefix, settings.redis_timeout_seconds
        )
        limits = RateLimits(
            shared, Policies.from_settings(settings), metrics, enabled=settings.rate_limits_enabled
        )
        revoked = RevokedSessions(shared, ttl_seconds=settings.access_token_ttl_seconds)
        hasher = PasswordHasher()
        tokens = AccessTokens(settings)
        auth = AuthService(hasher, tokens, settings, metrics, limits, revoked)
        accounts = AccountService(hasher, settings, metrics, limits, revoked)
        return cls(
            settings=settings,
            db=db,
            metrics=metrics,
            shared=shared,
            limits=limits,
            proxies=TrustedProxies(settings.trusted_proxies),
            hasher=hasher,
            auth=auth,
            accounts=accounts,
            # A deleted account's sessions are auth's to end (users.service.AccountSessions);
            # a new account's verification mail is accounts' to send.
            users=UserService(
                hasher, settings, metrics, limits, sessions=auth, verification=accounts
            ),
            posts=PostService(metrics, settings),
            tags=TagService(),
            jobs=JobService(),
        )

    async def close(self) -> None:
        self.hasher.close()
        await self.db.dispose()
        await self.shared.close()
