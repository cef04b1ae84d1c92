"""Settings from the environment (docs/api.md); with none, SQLite in the working directory."""

from __future__ import annotations

import hashlib
import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from limits import parse as parse_rate_limit
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pressroom.mail.sender import SmtpServer

DEFAULT_DATABASE_URL = "sqlite:///pressroom.db"
# Development only: production mode refuses to start with it (see `production_problems`).
DEFAULT_JWT_SECRET = "pressroom-development-secret-change-me-0123456789"
MIN_SECRET_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class PasswordPolicyName(StrEnum):
    SEED = "seed"
    NIST = "nist"


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    pressroom_env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Every Redis key this deployment writes starts with it: several deployments may share one.
    redis_key_prefix: str = "pressroom"
    redis_timeout_seconds: float = 1.0
    host: str = "127.0.0.1"
    port: int = 8000

    jwt_secret: str | None = None
    jwt_secret_file: Path | None = None
    jwt_previous_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jwt_issuer: str = "pressroom"
    jwt_audience: str = "pressroom"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    # RFC 9700 §4.14 leeway: the parent of a just-rotated token answers 401 without revoking.
    refresh_reuse_grace_seconds: int = 10

    password_policy: PasswordPolicyName = PasswordPolicyName.SEED
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 1024 * 1024
    rate_limits_enabled: bool = True
    # `limits` notation: "600/minute", "10 per 15 minutes".
    rate_limit_per_address: str = "600/minute"
    rate_limit_per_user: str = "1200/minute"
    rate_limit_login_per_address: str = "30/minute"
    rate_limit_failed_logins_per_account: str = "10 per 15 minutes"
    rate_limit_sign_up_per_address: str = "30/hour"
    rate_limit_refresh_per_address: str = "60/minute"
    # GraphQL spends nodes (an operation's computed cost), not requests: a 20-post page costs
    # about 500, the largest operation allowed (GRAPHQL_MAX_COST) 10,000.
    rate_limit_graphql_cost_per_address: str = "200000/minute"
    rate_limit_graphql_cost_per_user: str = "400000/minute"
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    docs_enabled: bool | None = None
    graphql_introspection: bool | None = None
    # GraphQL limits, checked before a resolver runs (docs: the GraphQL section of the README).
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_query_bytes: int = 16 * 1024
    # Worst-case values an operation's answer may hold (graphql/cost.py); larger ones never run.
    graphql_max_cost: int = Field(10_000, ge=1)
    # How long an instance may keep a reply to an anonymous read of published content; 0 turns
    # the cache off. Changes drop kept replies at once (on every instance, through Redis); this
    # bounds what a lost invalidation, or an instance without Redis, can show (docs/design.md).
    hot_read_cache_seconds: float = Field(1.0, ge=0, le=60)
    # Idempotency-Key replays are kept this long (the IETF draft suggests at least 24 hours).
    idempotency_key_ttl_seconds: int = Field(24 * 3600, ge=60)
    database_pool_size: int = 10
    database_timeout_seconds: float = 5.0
    # A query still unanswered after this long fails (503), so a stuck database cannot hang us.
    database_command_timeout_seconds: float = 15.0
    log_level: str = "INFO"
    # Webhook URLs may resolve to loopback, private or link-local addresses (a receiver on this
    # machine or network): for development and test rigs only (docs/webhooks.md).
    webhook_allow_private_targets: bool = False

    # Mail (docs/api.md, "Accounts by email"). Without SMTP_URL, development writes `.eml` files.
    smtp_url: str | None = None
    smtp_timeout_seconds: float = 20.0
    mail_from: str = "Pressroom <no-reply@localhost>"
    mail_dir: Path = Path("mail")
    email_link_base_url: str = "http://127.0.0.1:8000"
    email_verification_required: bool = False
    rate_limit_password_reset_per_address: str = "5/hour"
    rate_limit_password_reset_per_email: str = "3/hour"
    rate_limit_verification_per_account: str = "3/hour"

    # Background jobs (docs/operations.md, "Workers"). None: in-process on SQLite only.
    worker_in_process: bool | None = None
    worker_concurrency: int = Field(4, ge=1, le=256)
    # A job held longer than this is taken to be lost (its worker died) and runs again; each
    # attempt is cut off before it, so two workers never run one job at the same time.
    job_lease_seconds: float = Field(60.0, gt=1)
    # How long an idle worker sleeps between looks when nothing wakes it (PostgreSQL NOTIFY and
    # the in-process queue wake it at once).
    worker_poll_seconds: float = Field(1.0, gt=0)

    @field_validator("jwt_previous_secrets", "trusted_proxies", "cors_allow_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator(
        "rate_limit_per_address",
        "rate_limit_per_user",
        "rate_limit_login_per_address",
        "rate_limit_failed_logins_per_account",
        "rate_limit_sign_up_per_address",
        "rate_limit_refresh_per_address",
        "rate_limit_graphql_cost_per_address",
        "rate_limit_graphql_cost_per_user",
        "rate_limit_password_reset_per_address",
        "rate_limit_password_reset_per_email",
        "rate_limit_verification_per_account",
    )
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        parse_rate_limit(value)  # raises ValueError with the notation it expected
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value:
            SmtpServer.from_url(value)  # raises ValueError saying what is wrong
        return value or None

    @field_validator("email_link_base_url")
    @classmethod
    def _link_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # raises ValueError naming the entry
        return value

    @field_validator("cors_allow_origins")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        # A wildcard would let any site read replies; with cookies Starlette even reflects it.
        if "*" in value:
            raise ValueError("list each allowed origin; '*' is refused")
        return value

    @property
    def is_production(self) -> bool:
        return self.pressroom_env is Environment.PRODUCTION

    @cached_property
    def signing_secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret
        if self.jwt_secret_file is not None:
            return self.jwt_secret_file.read_text().strip()
        return DEFAULT_JWT_SECRET

    @property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.database_url.startswith("sqlite")

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def allow_introspection(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return not self.is_production

    def production_problems(self) -> list[str]:
        """Reasons this configuration must not serve production traffic (empty when it may)."""
        if not self.is_production:
            return []
        problems = []
        secrets = {"JWT_SECRET": self.signing_secret}
        secrets.update(
            {f"JWT_PREVIOUS_SECRETS[{i}]": s for i, s in enumerate(self.jwt_previous_secrets)}
        )
        for name, secret in secrets.items():
            if secret == DEFAULT_JWT_SECRET:
                problems.append(f"{name} is the development default; set a random secret")
            elif len(secret.encode()) < MIN_SECRET_BYTES:
                problems.append(f"{name} is shorter than {MIN_SECRET_BYTES} bytes")
        if not self.rate_limits_enabled:
            problems.append("RATE_LIMITS_ENABLED=false is refused in production mode")
        if not self.smtp_url:
            problems.append("SMTP_URL is not set; production mail needs an SMTP server")
        return problems


def key_id(secret: str) -> str:
    """A stable, non-reversible name for a signing key, carried in the JWT `kid` header."""
    return hashlib.sha256(b"pressroom-kid:" + secret.encode()).hexdigest()[:16]
