"""Access tokens: keys rotate by `kid`, the algorithm and claims are pinned, roles come from now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from pressroom.config import key_id
from pressroom.kit.clock import utcnow
from pressroom.kit.tokens import AccessTokens
from tests.auth.conftest import me_with
from tests.conftest import Person, assert_error, make_settings

CURRENT_SECRET = "current-signing-secret-0123456789-abcdefghij"
PREVIOUS_SECRET = "previous-signing-secret-0123456789-abcdefghij"
UNKNOWN_SECRET = "unknown-signing-secret-0123456789-abcdefghij"
ROTATED_KEYS = {"jwt_secret": CURRENT_SECRET, "jwt_previous_secrets": [PREVIOUS_SECRET]}


def claims_of(person: Person) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(person.access_token, options={"verify_signature": False})
    return claims


def token_signed_with(secret: str, database_url: str, person: Person) -> str:
    claims = claims_of(person)
    issuer = AccessTokens(make_settings(database_url, jwt_secret=secret))
    return issuer.issue(
        user_id=person.id, session_id=claims["sid"], email=person.email, roles=["user"]
    )


@pytest.mark.parametrize("settings_overrides", [ROTATED_KEYS])
async def test_a_token_signed_with_a_previous_secret_still_verifies(
    anon: httpx.AsyncClient, author: Person, database_url: str
) -> None:
    assert jwt.get_unverified_header(author.access_token)["kid"] == key_id(CURRENT_SECRET)
    old = token_signed_with(PREVIOUS_SECRET, database_url, author)
    assert jwt.get_unverified_header(old)["kid"] == key_id(PREVIOUS_SECRET)
    reply = await me_with(anon, old)
    assert reply.status_code == 200, reply.text
    assert reply.json()["id"] == author.id


@pytest.mark.parametrize("settings_overrides", [ROTATED_KEYS])
async def test_a_token_with_an_unknown_kid_is_refused(
    anon: httpx.AsyncClient, author: Person, database_url: str
) -> None:
    unknown = token_signed_with(UNKNOWN_SECRET, database_url, author)
    reply = await me_with(anon, unknown)
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("settings_overrides", [ROTATED_KEYS])
async def test_a_known_kid_with_another_key_is_refused(
    anon: httpx.AsyncClient, author: Person
) -> None:
    claims = claims_of(author)
    forged = jwt.encode(claims, UNKNOWN_SECRET, headers={"kid": key_id(CURRENT_SECRET)})
    assert_error(await me_with(anon, forged), 401, "AUTHENTICATION_ERROR")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_unsigned_and_other_algorithm_tokens_are_refused(
    anon: httpx.AsyncClient, author: Person
) -> None:
    claims = claims_of(author)
    kid = jwt.get_unverified_header(author.access_token)["kid"]
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    assert_error(await me_with(anon, unsigned), 401, "AUTHENTICATION_ERROR")
    # Same secret, another HMAC: the algorithm is pinned, not taken from the header.
    secret = make_settings("sqlite://").signing_secret
    hs512 = jwt.encode(claims, secret, algorithm="HS512", headers={"kid": kid})
    assert_error(await me_with(anon, hs512), 401, "AUTHENTICATION_ERROR")


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "expired"),
        ("aud", "someone-else"),
        ("iss", "someone-else"),
        ("sub", "missing"),
        ("jti", "missing"),
        ("sid", "missing"),
    ],
)
async def test_expired_or_misaddressed_tokens_are_refused(
    anon: httpx.AsyncClient, author: Person, claim: str, value: str
) -> None:
    claims = claims_of(author)
    if value == "missing":
        del claims[claim]
    elif value == "expired":
        claims["iat"] = int((utcnow() - timedelta(minutes=20)).timestamp())
        claims["exp"] = int((utcnow() - timedelta(minutes=5)).timestamp())
    else:
        claims[claim] = value
    kid = jwt.get_unverified_header(author.access_token)["kid"]
    secret = make_settings("sqlite://").signing_secret
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})
    assert_error(await me_with(anon, token), 401, "AUTHENTICATION_ERROR")
    # The genuine token of the same session still works: only the altered one is refused.
    assert (await me_with(anon, author.access_token)).status_code == 200


async def test_a_token_naming_another_users_session_is_refused(
    anon: httpx.AsyncClient, author: Person, stranger: Person
) -> None:
    claims = claims_of(author)
    claims["sid"] = claims_of(stranger)["sid"]
    kid = jwt.get_unverified_header(author.access_token)["kid"]
    secret = make_settings("sqlite://").signing_secret
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})
    assert_error(await me_with(anon, token), 401, "AUTHENTICATION_ERROR")
