"""POST /auth/login: tokens for the right password, one indistinguishable refusal otherwise."""

from __future__ import annotations

import bcrypt
import httpx
import jwt
from sqlalchemy import select, update

from pressroom.db.tables import users
from pressroom.services import Services
from tests.auth.conftest import sql
from tests.conftest import PASSWORD, Person, assert_error

UNRELATED_HEADERS = {"x-request-id", "date"}


async def login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/auth/login", json={"email": email, "password": password})


async def test_login_returns_a_bearer_pair_and_is_not_cached(
    anon: httpx.AsyncClient, author: Person
) -> None:
    reply = await login(anon, author.email, PASSWORD)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert len(body["refreshToken"]) >= 22  # at least 128 random bits, url-safe base64
    assert reply.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == str(author.id)
    assert claims["exp"] - claims["iat"] == 900
    assert {"iss", "aud", "jti", "sid", "email", "roles"} <= set(claims)
    assert jwt.get_unverified_header(body["accessToken"])["alg"] == "HS256"
    me = await anon.get("/users/me", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert me.status_code == 200
    assert me.json()["id"] == author.id


async def test_login_compares_the_email_case_insensitively(
    anon: httpx.AsyncClient, author: Person
) -> None:
    reply = await login(anon, author.email.upper(), PASSWORD)
    assert reply.status_code == 200, reply.text


async def test_unknown_email_and_wrong_password_get_identical_replies(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    before = services.hasher.verifications
    wrong_password = await login(anon, author.email, PASSWORD + "x")
    assert services.hasher.verifications == before + 1
    unknown_email = await login(anon, "nobody@example.com", PASSWORD)
    assert services.hasher.verifications == before + 2

    assert_error(wrong_password, 401, "AUTHENTICATION_ERROR")
    assert wrong_password.status_code == unknown_email.status_code
    assert wrong_password.content == unknown_email.content

    def comparable(reply: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in reply.headers.items() if k not in UNRELATED_HEADERS}

    assert comparable(wrong_password) == comparable(unknown_email)
    assert wrong_password.headers["www-authenticate"].startswith("Bearer")
    assert wrong_password.headers["cache-control"] == "no-store"


async def test_a_soft_deleted_user_cannot_log_in(anon: httpx.AsyncClient, author: Person) -> None:
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    refused = await login(anon, author.email, PASSWORD)
    unknown = await login(anon, "nobody@example.com", PASSWORD)
    assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert refused.content == unknown.content


async def test_login_body_is_validated(anon: httpx.AsyncClient) -> None:
    error = assert_error(
        await anon.post("/auth/login", json={"email": "a@b.co"}), 400, "VALIDATION_ERROR"
    )
    assert "password" in error["details"]
    error = assert_error(
        await anon.post("/auth/login", json={"email": "a@b.co", "password": "x", "userId": 1}),
        400,
        "VALIDATION_ERROR",
    )
    assert error["details"] == {"userId": ["Unknown field"]}


async def test_bcrypt_hash_still_verifies_and_is_upgraded_to_argon2id(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    legacy = bcrypt.hashpw(b"Legacy-Secret-9", bcrypt.gensalt(rounds=4)).decode()
    await sql(services, update(users).where(users.c.id == author.id).values(password_hash=legacy))
    stored_hash = select(users.c.password_hash).where(users.c.id == author.id)

    assert_error(await login(anon, author.email, PASSWORD), 401, "AUTHENTICATION_ERROR")
    assert (await sql(services, stored_hash)) == [(legacy,)]

    reply = await login(anon, author.email, "Legacy-Secret-9")
    assert reply.status_code == 200, reply.text
    [(upgraded,)] = await sql(services, stored_hash)
    assert upgraded.startswith("$argon2id$")
    assert (await login(anon, author.email, "Legacy-Secret-9")).status_code == 200


async def test_a_missing_or_malformed_bearer_is_401_with_www_authenticate(
    anon: httpx.AsyncClient, author: Person
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {author.access_token}"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {author.access_token}x"},
    ):
        reply = await anon.get("/users/me", headers=headers)
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
        assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_in_the_query_string_is_ignored(
    anon: httpx.AsyncClient, author: Person
) -> None:
    for name in ("access_token", "token", "accessToken"):
        reply = await anon.get("/users/me", params={name: author.access_token})
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
        assert reply.headers["www-authenticate"].startswith("Bearer")
