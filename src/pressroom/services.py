"""The service layer, built once per app and shared by REST, GraphQL and the CLI."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pressroom.accounts.service import AccountService
from pressroom.auth.revocations import RevokedSessions
from pressroom.auth.service import AuthService
from pressroom.config import Settings
from pressroom.db.engine import Database
from pressroom.events.recorder import EventRecorder
from pressroom.idempotency.service import IdempotencyService
from pressroom.jobs.service import JobService
from pressroom.kit.client_address import TrustedProxies
from pressroom.kit.hot_reads import HotReadCache
from pressroom.kit.observability import Metrics
from pressroom.kit.outbound_http import Resolver, TargetGuard, TargetPolicy
from pressroom.kit.passwords import PasswordHasher
from pressroom.kit.ratelimit import Policies, RateLimits
from pressroom.kit.shared_state import SharedState
from pressroom.kit.tokens import AccessTokens
from pressroom.posts.service import PostService
from pressroom.tags.service import TagService
from pressroom.users.service import UserService
from pressroom.webhooks.delivery import WebhookDeliverer
from pressroom.webhooks.queue import DeliveryJobs
from pressroom.webhooks.service import DeliveryFanout, WebhookService


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    metrics: Metrics
    shared: SharedState
    hot_reads: HotReadCache
    limits: RateLimits
    proxies: TrustedProxies
    hasher: PasswordHasher
    auth: AuthService
    accounts: AccountService
    users: UserService
    posts: PostService
    tags: TagService
    jobs: JobService
    idempotency: IdempotencyService
    # Keys the fingerprints of Idempotency-Key requests (kit/idempotency.py says why).
    idempotency_secret: bytes
    events: EventRecorder
    webhooks: WebhookService
    deliverer: WebhookDeliverer

    @classmethod
    def build(
        cls, settings: Settings, metrics: Metrics | None = None, resolver: Resolver | None = None
    ) -> Services:
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
        hot_reads = HotReadCache(shared, ttl_seconds=settings.hot_read_cache_seconds)
        revoked = RevokedSessions(shared, ttl_seconds=settings.access_token_ttl_seconds)
        hasher = PasswordHasher()
        tokens = AccessTokens(settings)
        auth = AuthService(hasher, tokens, settings, metrics, limits, revoked)
        accounts = AccountService(hasher, settings, metrics, limits, revoked)
        # Every event fans out to the webhooks subscribed to it, on the change's transaction,
        # each delivery attempt a background job written there too.
        queue = DeliveryJobs()
        events = EventRecorder(DeliveryFanout(queue))
        guard = TargetGuard(
            TargetPolicy(
                allow_http=not settings.is_production,
                allow_private=settings.webhook_allow_private_targets,
            ),
            resolver,
        )
        deliverer = WebhookDeliverer(events, queue, guard, metrics)
        return cls(
            settings=settings,
            db=db,
            metrics=metrics,
            shared=shared,
            hot_reads=hot_reads,
            limits=limits,
            proxies=TrustedProxies(settings.trusted_proxies),
            hasher=hasher,
            auth=auth,
            accounts=accounts,
            # A deleted account's sessions are auth's to end (users.service.AccountSessions);
            # a new account's verification mail is accounts' to send.
            users=UserService(
                hasher,
                settings,
                metrics,
                limits,
                sessions=auth,
                verification=accounts,
                hot_reads=hot_reads,
                events=events,
            ),
            posts=PostService(metrics, settings, hot_reads, events),
            tags=TagService(hot_reads, events),
            jobs=JobService(),
            idempotency=IdempotencyService(settings.idempotency_key_ttl_seconds),
            idempotency_secret=hashlib.sha256(
                b"pressroom idempotency fingerprints\0" + settings.signing_secret.encode()
            ).digest(),
            events=events,
            webhooks=WebhookService(guard, queue),
            deliverer=deliverer,
        )

    async def close(self) -> None:
        await self.deliverer.close()
        self.hasher.close()
        await self.hot_reads.close()
        await self.db.dispose()
        await self.shared.close()
