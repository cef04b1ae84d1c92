"""Table definitions (SQLAlchemy Core): users, profiles, posts and tags, plus roles, settings,
sessions, events and webhooks.

Migrations in `migrations/versions/` create these; queries in the repositories use them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from pressroom.db.types import Id, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("email_verified", Boolean, nullable=False, server_default=text("false")),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
)
# Email is unique among live users, compared case-insensitively; deleted users free theirs.
Index(
    "uq_users_email_live",
    func.lower(users.c.email),
    unique=True,
    postgresql_where=users.c.deleted_at.is_(None),
    sqlite_where=users.c.deleted_at.is_(None),
)
Index("ix_users_created_at", users.c.created_at.desc())

profiles = Table(
    "profiles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("avatar_url", Text, nullable=True),
    Column("bio", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)
Index("ix_profiles_last_name", profiles.c.last_name)

user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("email_notifications", Boolean, nullable=False, server_default=text("true")),
)

roles = Table(
    "roles",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("description", String(255), nullable=False),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), ForeignKey("roles.name"), primary_key=True),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(255), nullable=False),
    Column("content", Text, nullable=False),
    Column("published", Boolean, nullable=False, server_default=text("false")),
    Column("published_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # A deleted post's id never comes back (SQLite reuses max(id) + 1 without it; migration 0003).
    sqlite_autoincrement=True,
)
Index("ix_posts_user_id", posts.c.user_id)
# The published list's exact order, so a page is an index range scan instead of a sort of every
# post; `user_id` rides along so the page's total is an index-only scan (PostgreSQL).
Index(
    "ix_posts_published_list",
    posts.c.published,
    posts.c.published_at.desc().nulls_last(),
    posts.c.id.desc(),
    postgresql_include=["user_id"],
)
Index("ix_posts_created_at", posts.c.created_at.desc())

tags = Table(
    "tags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False),
    Column("slug", String(50), nullable=False, unique=True),
    sqlite_autoincrement=True,
)
Index("uq_tags_name_lower", func.lower(tags.c.name), unique=True)

post_tags = Table(
    "post_tags",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Id, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_post_tags_tag_id", post_tags.c.tag_id)

# A session is one sign-in: the family of refresh tokens that rotation chains together.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_reason", String(32), nullable=True),
    Column("user_agent", String(255), nullable=True),
    Column("ip", String(64), nullable=True),
)
Index("ix_sessions_user_id", sessions.c.user_id)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("session_id", Id, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("parent_id", Id, ForeignKey("refresh_tokens.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("rotated_at", UtcDateTime, nullable=True),
)
Index("ix_refresh_tokens_session_id", refresh_tokens.c.session_id)
Index("ix_refresh_tokens_parent_id", refresh_tokens.c.parent_id)

# How many posts the published list holds (published, by an author not deleted): the sum of 16
# slots kept by the database's own triggers (migration 0004, which says why 16), so the list's
# total is a read of 16 rows, not a count of every published post on each request.
published_post_total = Table(
    "published_post_total",
    metadata,
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("posts", BigInteger, nullable=False),
    CheckConstraint("slot >= 0 AND slot < 16", name="ck_published_post_total_slot"),
)

# Background work (docs/design.md, "Background jobs"): a job is a row written in the transaction
# of the change that causes it; workers claim due rows under a lease and settle them.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    # pending → running → succeeded | failed; a running job whose lease ran out is due again.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("run_at", UtcDateTime, nullable=False),
    # No attempt starts after this: the job ends as failed instead (mail: 24 hours).
    Column("give_up_at", UtcDateTime, nullable=False),
    Column("locked_by", String(64), nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    # A periodic job's kind: at most one pending or running job holds it (the index below), so
    # every worker may ask for the next run and one is queued (jobs/periodic.py).
    Column("unique_key", String(64), nullable=True),
    sqlite_autoincrement=True,
)
Index("ix_jobs_status_run_at", jobs.c.status, jobs.c.run_at)
JOB_IS_OPEN = text("status IN ('pending', 'running')")
Index(
    "uq_jobs_unique_key_open",
    jobs.c.unique_key,
    unique=True,
    postgresql_where=JOB_IS_OPEN,
    sqlite_where=JOB_IS_OPEN,
)

# Single-use tokens mailed to an address: verification, password reset, email change.
email_tokens = Table(
    "email_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    # The address an email-change token moves the account to; the address a verification
    # token proves (a token for an address the account no longer has proves nothing).
    Column("email", String(320), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)
Index("ix_email_tokens_user_id", email_tokens.c.user_id, email_tokens.c.purpose)
# Idempotency-Key requests (docs/api.md): one row per key and caller. While `response_status` is
# null the first request is running, under `attempt` until `locked_until`; after it, the reply
# to send again. The row is completed in the same transaction as the change it answers.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(40), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("attempt", String(32), nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("response_status", SmallInteger, nullable=True),
    Column("response_location", String(255), nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
)
Index("ix_idempotency_keys_expires_at", idempotency_keys.c.expires_at)

# What changed (docs/webhooks.md), written in the change's transaction; `data` is JSON text, the
# resource as an anonymous reader would see it. Ids only grow: they order an endpoint's deliveries.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("data", Text, nullable=False),
    sqlite_autoincrement=True,
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    # JSON list of event types.
    Column("events", Text, nullable=False),
    # Kept to sign with (an HMAC needs the key itself), never shown after creation or rotation.
    Column("secret", String(100), nullable=False),
    # The secret before the last rotation, still signing until `previous_secret_expires_at`.
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_expires_at", UtcDateTime, nullable=True),
    Column("enabled", Boolean, nullable=False),
    # Why the server disabled it ("gone": 410; "failing": five days of failures); null otherwise.
    Column("disabled_reason", String(32), nullable=True),
    # The first failed delivery since the last success; null while deliveries succeed.
    Column("failing_since", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)

# One row per attempt to deliver one event to one endpoint: the delivery log.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "endpoint_id", Id, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    ),
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    # pending → succeeded | failed
    Column("status", String(16), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Pending: when it is due (pushed forward while an attempt holds it). Failed: when the next
    # attempt is due, null when none will be made.
    Column("next_attempt_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,
)
Index(
    "ix_webhook_deliveries_endpoint_id", webhook_deliveries.c.endpoint_id, webhook_deliveries.c.id
)
Index(
    "ix_webhook_deliveries_status",
    webhook_deliveries.c.status,
    webhook_deliveries.c.next_attempt_at,
)
Index("ix_webhook_deliveries_event_id", webhook_deliveries.c.event_id)
