"""L, the lean reference: the fewest steps that give the same bytes as Pressroom's anonymous reads.

R (bench/reference.py) runs Pressroom's own statements, so it shows what the framework layers
cost. L shows what the answer itself costs: the anonymous post list (default order) and one
published post, each in ONE statement (the tags as arrays from a lateral subselect, the list's
total as a scalar subselect over the kept `published_post_total` slots, timestamps formatted by
PostgreSQL), serialised by orjson on plain Starlette. It checks no token (the anonymous answer
does not depend on one) and imports nothing from Pressroom; its pool (no reset round trip on
release) and page parameters are R's. `make bench` and tests/benchmark/test_lean_reference.py
check that its bodies equal Pressroom's byte for byte.

Run: DATABASE_URL=postgresql://... uvicorn bench.lean:app
"""

from __future__ import annotations

from typing import Any

import orjson
from bench.reference import _int_param, lifespan
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _utc_text(column: str) -> str:
    # Pressroom's format, microseconds always written: PostgreSQL formats it, Python never sees
    # a datetime.
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


_COLUMNS = f"""posts.id, posts.user_id, posts.title, posts.content, posts.published,
    {_utc_text("posts.published_at")} AS published_at,
    {_utc_text("posts.created_at")} AS created_at,
    {_utc_text("posts.updated_at")} AS updated_at,
    profiles.first_name, profiles.last_name, profiles.avatar_url, profiles.bio,
    post_tag_list.ids AS tag_ids, post_tag_list.names AS tag_names,
    post_tag_list.slugs AS tag_slugs"""
_SOURCE = """FROM posts
    JOIN users ON users.id = posts.user_id AND users.deleted_at IS NULL
    JOIN profiles ON profiles.user_id = posts.user_id
    CROSS JOIN LATERAL (
        SELECT array_agg(tags.id ORDER BY lower(tags.name)) AS ids,
               array_agg(tags.name ORDER BY lower(tags.name)) AS names,
               array_agg(tags.slug ORDER BY lower(tags.name)) AS slugs
        FROM post_tags JOIN tags ON tags.id = post_tags.tag_id
        WHERE post_tags.post_id = posts.id
    ) AS post_tag_list"""
_TOTAL = "(SELECT CAST(coalesce(sum(posts), 0) AS BIGINT) FROM published_post_total)"

LIST_SQL = f"""SELECT {_COLUMNS}, {_TOTAL} AS total
{_SOURCE}
WHERE posts.published = true
ORDER BY posts.published_at DESC NULLS LAST, posts.id DESC
LIMIT $1::INTEGER OFFSET $2::INTEGER"""
ONE_POST_SQL = f"""SELECT {_COLUMNS}
{_SOURCE}
WHERE posts.id = $1::BIGINT AND posts.published = true"""
# Only for a page past the end, where no row carries the total: not the benchmarked path.
TOTAL_SQL = f"SELECT {_TOTAL}"

NOT_FOUND = orjson.dumps({"error": {"code": "NOT_FOUND", "message": "Post not found"}})
BAD_PAGE = orjson.dumps({"error": {"code": "VALIDATION_FAILED", "message": "bad page"}})


def _post(m: Any) -> dict[str, Any]:
    ids = m["tag_ids"]
    return {
        "id": m["id"],
        "title": m["title"],
        "content": m["content"],
        "published": m["published"],
        "publishedAt": m["published_at"],
        "author": {
            "id": m["user_id"],
            "profile": {
                "firstName": m["first_name"],
                "lastName": m["last_name"],
                "avatarUrl": m["avatar_url"],
                "bio": m["bio"],
            },
        },
        "tags": [
            {"id": i, "name": n, "slug": s}
            for i, n, s in zip(ids, m["tag_names"], m["tag_slugs"], strict=True)
        ]
        if ids
        else [],
        "createdAt": m["created_at"],
        "updatedAt": m["updated_at"],
    }


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


async def list_posts(request: Request) -> Response:
    limit = _int_param(request, "limit", 20, 1, 100)
    page = _int_param(request, "page", 1, 1, 1_000_000)
    if limit is None or page is None:
        return _json(BAD_PAGE, 400)
    pool = request.app.state.pool
    rows = await pool.fetch(LIST_SQL, limit, (page - 1) * limit)
    total = rows[0]["total"] if rows else (await pool.fetchval(TOTAL_SQL) if page > 1 else 0)
    body = {
        "data": [_post(r) for r in rows],
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "totalPages": (total + limit - 1) // limit,
        },
    }
    return _json(orjson.dumps(body))


async def get_post(request: Request) -> Response:
    row = await request.app.state.pool.fetchrow(ONE_POST_SQL, request.path_params["post_id"])
    if row is None:
        return _json(NOT_FOUND, 404)
    return _json(orjson.dumps(_post(row)))


app = Starlette(
    routes=[
        Route("/api/v1/posts", list_posts),
        Route("/api/v1/posts/{post_id:int}", get_post),
    ],
    lifespan=lifespan,
)
