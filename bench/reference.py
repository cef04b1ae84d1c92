"""R, the reference handler: plain Starlette on asyncpg + orjson + PyJWT, no framework layers.

It serves the same routes as Pressroom for the benchmark's read scenarios with the same SQL text
Pressroom's repositories emit (captured with SQLAlchemy's echo, see docs/performance.md), the
same token check (HS256 pinned, `kid`, issuer, audience, required claims, then the session row
that `AuthService.authenticate` reads) and byte-for-byte the same JSON. What it leaves out is
exactly what the benchmark measures: dependency injection, the service layer, SQLAlchemy,
middleware, transactions around reads. It imports nothing from Pressroom.

Run: DATABASE_URL=postgresql://... JWT_SECRET=... uvicorn bench.reference:app
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DEFAULT_JWT_SECRET = "pressroom-development-secret-change-me-0123456789"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid"]
POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "10"))

# -- The statements, as Pressroom's repositories emit them on PostgreSQL -------------------
PRINCIPAL_SQL = """SELECT sessions.user_id, users.email, (SELECT string_agg(user_roles.role, ',') AS aggregate_strings_1 
FROM user_roles 
WHERE user_roles.user_id = users.id) AS roles, sessions.revoked_at IS NULL AND sessions.expires_at > $1::TIMESTAMP WITH TIME ZONE AND users.deleted_at IS NULL AS live 
FROM sessions JOIN users ON users.id = sessions.user_id 
WHERE sessions.id = $2::BIGINT"""  # noqa: W291, E501

POST_COLUMNS = """SELECT posts.id, posts.user_id, posts.title, posts.content, posts.published, posts.published_at, posts.created_at, posts.updated_at, profiles.first_name, profiles.last_name, profiles.avatar_url, profiles.bio"""  # noqa: E501
POST_SOURCE = """FROM posts JOIN profiles ON profiles.user_id = posts.user_id"""
# The live author as Pressroom checks it: a scalar subquery on each post row (posts/repository.py).
LIVE_AUTHOR = """(SELECT users.deleted_at IS NULL AS anon_1 
FROM users 
WHERE users.id = posts.user_id)"""  # noqa: W291

POST_PAGE_SQL = (
    POST_COLUMNS
    + """, (SELECT CAST(coalesce(sum(published_post_total.posts), 0) AS BIGINT) AS coalesce_1 
FROM published_post_total) AS page_total 
"""  # noqa: W291
    + POST_SOURCE
    + " \nWHERE "
    + LIVE_AUTHOR
    + """ AND posts.published = true ORDER BY posts.published_at DESC NULLS LAST, posts.id DESC 
 LIMIT $1::INTEGER OFFSET $2::INTEGER"""  # noqa: W291
)

ONE_POST_SQL = (
    POST_COLUMNS + " \n" + POST_SOURCE + " \nWHERE " + LIVE_AUTHOR + " AND posts.id = $1::BIGINT"
)

USER_SQL = """SELECT users.id, users.email, users.email_verified, users.created_at, users.updated_at, profiles.first_name, profiles.last_name, profiles.avatar_url, profiles.bio, user_settings.email_notifications, (SELECT string_agg(user_roles.role, ',') AS aggregate_strings_1 
FROM user_roles 
WHERE user_roles.user_id = users.id) AS roles 
FROM users JOIN profiles ON profiles.user_id = users.id LEFT OUTER JOIN user_settings ON user_settings.user_id = users.id 
WHERE users.id = $1::BIGINT AND users.deleted_at IS NULL"""  # noqa: W291, E501


def tags_sql(count: int) -> str:
    """SQLAlchemy expands `IN` to one parameter per id; so does R, for the same statement text."""
    params = ", ".join(f"${i}::BIGINT" for i in range(1, count + 1))
    return (
        "SELECT post_tags.post_id, tags.id, tags.name, tags.slug \n"
        "FROM post_tags JOIN tags ON tags.id = post_tags.tag_id \n"
        f"WHERE post_tags.post_id IN ({params}) ORDER BY post_tags.post_id, lower(tags.name)"
    )


TAGS_SQL = {n: tags_sql(n) for n in range(1, 101)}


# -- Tokens -----------------------------------------------------------------------------
def _key_id(secret: str) -> str:
    return hashlib.sha256(b"pressroom-kid:" + secret.encode()).hexdigest()[:16]


SECRET = os.environ.get("JWT_SECRET") or DEFAULT_JWT_SECRET
KEYS = {_key_id(SECRET): SECRET}
ISSUER = os.environ.get("JWT_ISSUER", "pressroom")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "pressroom")


class Unauthorized(Exception):
    pass


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _unauthorized(_request: Request, error: Exception) -> Response:
    body = {"error": {"code": "AUTHENTICATION_ERROR", "message": str(error)}}
    response = _json(body, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="pressroom"'
    return response


def _claims(request: Request) -> dict[str, Any]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authentication required")
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = KEYS.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("Invalid access token")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        raise Unauthorized("Invalid access token") from None
    return claims


async def _signed_in(conn: asyncpg.Connection, request: Request) -> int:
    """The user id behind the bearer token, after the same session check as Pressroom's."""
    claims = _claims(request)
    user_id = int(claims["sub"])
    row = await conn.fetchrow(PRINCIPAL_SQL, datetime.now(UTC), claims["sid"])
    if row is None or not row["live"] or row["user_id"] != user_id:
        raise Unauthorized("Session has ended; sign in again")
    return user_id


# -- Shapes (the same JSON as Pressroom's PostRecord / UserOut shapes) ----------------------------
def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _profile(m: Any) -> dict[str, Any]:
    return {
        "firstName": m["first_name"],
        "lastName": m["last_name"],
        "avatarUrl": m["avatar_url"],
        "bio": m["bio"],
    }


def _post(m: Any, tags: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": m["id"],
        "title": m["title"],
        "content": m["content"],
        "published": m["published"],
        "publishedAt": _time(m["published_at"]),
        "author": {"id": m["user_id"], "profile": _profile(m)},
        "tags": tags,
        "createdAt": _time(m["created_at"]),
        "updatedAt": _time(m["updated_at"]),
    }


async def _tags_of(conn: asyncpg.Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    by_post: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for r in await conn.fetch(TAGS_SQL[len(ids)], *ids):
            by_post[r["post_id"]].append({"id": r["id"], "name": r["name"], "slug": r["slug"]})
    return by_post


# -- Routes -----------------------------------------------------------------------------
def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


async def list_posts(request: Request) -> Response:
    limit = _int_param(request, "limit", 20, 1, 100)
    page = _int_param(request, "page", 1, 1, 1_000_000)
    if limit is None or page is None:
        return _json({"error": {"code": "VALIDATION_FAILED", "message": "bad page"}}, 400)
    async with request.app.state.pool.acquire() as conn:
        await _signed_in(conn, request)
        rows = await conn.fetch(POST_PAGE_SQL, limit, (page - 1) * limit)
        tags = await _tags_of(conn, [r["id"] for r in rows])
    total = rows[0]["page_total"] if rows else 0
    return _json(
        {
            "data": [_post(r, tags[r["id"]]) for r in rows],
            "pagination": {
                "page": page,
                "limit": limit,
                "total": total,
                "totalPages": (total + limit - 1) // limit,
            },
        }
    )


async def get_post(request: Request) -> Response:
    post_id = int(request.path_params["post_id"])
    async with request.app.state.pool.acquire() as conn:
        user_id = await _signed_in(conn, request)
        row = await conn.fetchrow(ONE_POST_SQL, post_id)
        if row is None or not (row["published"] or row["user_id"] == user_id):
            return _json({"error": {"code": "NOT_FOUND", "message": "Post not found"}}, 404)
        tags = await _tags_of(conn, [post_id])
    return _json(_post(row, tags[post_id]))


async def me(request: Request) -> Response:
    async with request.app.state.pool.acquire() as conn:
        user_id = await _signed_in(conn, request)
        m = await conn.fetchrow(USER_SQL, user_id)
    if m is None:
        raise Unauthorized("Session has ended; sign in again")
    roles = sorted(m["roles"].split(",")) if m["roles"] else []
    return _json(
        {
            "id": m["id"],
            "email": m["email"],
            "emailVerified": m["email_verified"],
            "roles": roles,
            "profile": _profile(m),
            "settings": {
                "emailNotifications": True
                if m["email_notifications"] is None
                else m["email_notifications"]
            },
            "createdAt": _time(m["created_at"]),
            "updatedAt": _time(m["updated_at"]),
        }
    )


def _dsn() -> str:
    url = os.environ["DATABASE_URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _no_reset(_conn: asyncpg.Connection) -> None:
    return None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # No reset on release: asyncpg's default (RESET ALL, UNLISTEN, ...) is a round trip that
    # a handler without session state does not need; the issue measured it at 8–35%.
    app.state.pool = await asyncpg.create_pool(
        _dsn(), min_size=POOL_SIZE, max_size=POOL_SIZE, reset=_no_reset
    )
    yield
    await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/posts", list_posts),
        Route("/api/v1/posts/{post_id:int}", get_post),
        Route("/api/v1/users/me", me),
    ],
    lifespan=lifespan,
    exception_handlers={Unauthorized: _unauthorized},
)
