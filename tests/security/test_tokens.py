"""Access-token attacks (RFC 8725, ASVS V9): every forged, stale or misplaced token is a 401
with the error envelope, never a 500 and never a signed-in answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.security.forge import (
    ServerKey,
    claims_of,
    ec_key,
    hand_made,
    public_pem,
    rsa_key,
)

Forge = Callable[[dict[str, Any], ServerKey], str]


def _without(claim: str) -> Forge:
    def forge(claims: dict[str, Any], key: ServerKey) -> str:
        return key.sign({k: v for k, v in claims.items() if k != claim})

    return forge


def _with(**changes: Any) -> Forge:
    def forge(claims: dict[str, Any], key: ServerKey) -> str:
        return key.sign({**claims, **changes})

    return forge


def _with_kid(kid: Any) -> Forge:
    def forge(claims: dict[str, Any], key: ServerKey) -> str:
        return hand_made({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, key.secret)

    return forge


def _alg_none(claims: dict[str, Any], key: ServerKey) -> str:
    return hand_made({"alg": "none", "typ": "JWT", "kid": key.kid}, claims, None)


def _alg_none_capitalised(claims: dict[str, Any], key: ServerKey) -> str:
    return hand_made({"alg": "None", "typ": "JWT", "kid": key.kid}, claims, None)


def _hs256_keyed_with_a_public_key(claims: dict[str, Any], key: ServerKey) -> str:
    # The classic confusion: a verifier that takes `alg` from the token would HMAC with the
    # public key text it holds for RS256. We hold none, but the attempt must fail cleanly.
    return hand_made({"alg": "HS256", "kid": key.kid}, claims, public_pem(rsa_key()))


def _rs256(claims: dict[str, Any], key: ServerKey) -> str:
    return jwt.encode(claims, rsa_key(), algorithm="RS256", headers={"kid": key.kid})


def _es256(claims: dict[str, Any], key: ServerKey) -> str:
    return jwt.encode(claims, ec_key(), algorithm="ES256", headers={"kid": key.kid})


def _embedded_jwk(claims: dict[str, Any], key: ServerKey) -> str:
    attacker = rsa_key()
    jwk = RSAAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    return jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": key.kid, "jwk": jwk})


def _embedded_jwk_hs256(claims: dict[str, Any], key: ServerKey) -> str:
    # A symmetric JWK carried in the header: a verifier that trusts it lets anyone sign.
    jwk = {"kty": "oct", "k": "YXR0YWNrZXI", "kid": "attacker"}
    return hand_made({"alg": "HS256", "kid": "attacker", "jwk": jwk}, claims, "attacker")


def _jku(claims: dict[str, Any], key: ServerKey) -> str:
    header = {"alg": "HS256", "kid": key.kid, "jku": "https://attacker.example/jwks.json"}
    return hand_made(header, claims, "attacker-secret")


def _x5u(claims: dict[str, Any], key: ServerKey) -> str:
    header = {"alg": "RS256", "kid": key.kid, "x5u": "https://attacker.example/cert.pem"}
    return jwt.encode(claims, rsa_key(), algorithm="RS256", headers=header)


def _tampered_roles(claims: dict[str, Any], key: ServerKey) -> str:
    token = key.sign(claims)
    header, _payload, signature = token.split(".")
    forged = jwt.encode({**claims, "roles": ["admin"]}, "x" * 32, algorithm="HS256").split(".")[1]
    return f"{header}.{forged}.{signature}"


def _tampered_subject(claims: dict[str, Any], key: ServerKey) -> str:
    token = key.sign(claims)
    header, _payload, signature = token.split(".")
    other = str(int(claims["sub"]) + 1)
    forged = jwt.encode({**claims, "sub": other}, "x" * 32, algorithm="HS256").split(".")[1]
    return f"{header}.{forged}.{signature}"


def _signature_stripped(claims: dict[str, Any], key: ServerKey) -> str:
    return key.sign(claims).rsplit(".", 1)[0] + "."


def _expired(claims: dict[str, Any], key: ServerKey) -> str:
    now = int(time.time())
    return key.sign({**claims, "iat": now - 3600, "exp": now - 60})


def _not_yet_valid(claims: dict[str, Any], key: ServerKey) -> str:
    return key.sign({**claims, "nbf": int(time.time()) + 3600})


# Signature and algorithm attacks (RFC 8725 §2.1, §3.1, §3.2).
FORGED_SIGNATURES: dict[str, Forge] = {
    "alg_none": _alg_none,
    "alg_None_capitalised": _alg_none_capitalised,
    "hs256_keyed_with_public_key_text": _hs256_keyed_with_a_public_key,
    "rs256_with_server_kid": _rs256,
    "es256_with_server_kid": _es256,
    "embedded_rsa_jwk": _embedded_jwk,
    "embedded_symmetric_jwk": _embedded_jwk_hs256,
    "jku_header": _jku,
    "x5u_header": _x5u,
    "tampered_roles": _tampered_roles,
    "tampered_subject": _tampered_subject,
    "signature_stripped": _signature_stripped,
}
# Correctly signed with the server's key, but the claims must still be refused.
BAD_CLAIMS: dict[str, Forge] = {
    "expired": _expired,
    "nbf_in_the_future": _not_yet_valid,
    "wrong_audience": _with(aud="someone-else"),
    "audience_list_without_ours": _with(aud=["a", "b"]),
    "wrong_issuer": _with(iss="https://attacker.example"),
    "missing_sid": _without("sid"),
    "missing_jti": _without("jti"),
    "missing_exp": _without("exp"),
    "missing_sub": _without("sub"),
    "missing_aud": _without("aud"),
    "missing_iss": _without("iss"),
    "sid_as_string": _with(sid="1"),
    "sid_negative": _with(sid=-1),
    "sid_beyond_bigint": _with(sid=2**63),
    "sid_huge": _with(sid=10**40),
    "sid_of_no_session": _with(sid=987_654_321),
    "sub_not_a_number": _with(sub="admin"),
    "sub_beyond_bigint": _with(sub=str(2**64)),
    "sub_with_thousands_of_digits": _with(sub="9" * 5000),
    "sub_of_another_user": _with(sub="987654321"),
    "exp_not_a_number": _with(exp="tomorrow"),
    "exp_beyond_any_date": _with(exp=10**30),
}
HOSTILE_KIDS: dict[str, Forge] = {
    "kid_unknown": _with_kid("0123456789abcdef"),
    "kid_path_traversal": _with_kid("../../x"),
    "kid_absolute_path": _with_kid("/dev/null"),
    "kid_sql_injection": _with_kid("' OR '1'='1' --"),
    "kid_sql_union": _with_kid("x' UNION SELECT 'secret"),
    "kid_very_long": _with_kid("k" * 100_000),
    "kid_integer": _with_kid(5),
    "kid_list": _with_kid(["a"]),
    "kid_object": _with_kid({"$ne": None}),
    "kid_null": _with_kid(None),
}


@pytest.fixture
def server_key(services: Services) -> ServerKey:
    return ServerKey.of(services.settings)


async def test_a_re_signed_copy_of_a_real_token_is_accepted(
    author: Person, anon: httpx.AsyncClient, server_key: ServerKey
) -> None:
    """The forgery kit is sound: with the right key and claims the server says yes, so every
    refusal below is the server's doing, not a broken test token."""
    token = server_key.sign(claims_of(author.access_token))
    reply = await anon.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["id"] == author.id


def assert_refused(reply: httpx.Response) -> None:
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def refused_everywhere(anon: httpx.AsyncClient, headers: Any) -> list[str]:
    """What went wrong with these credentials, on a private and on a public route (empty: all
    refused). Public routes answer anonymous callers, but never a caller with bad credentials."""
    problems = []
    for route in ("/users/me", "/posts"):
        reply = await anon.get(route, headers=headers)
        body = reply.json()
        if reply.status_code != 401 or body.get("error", {}).get("code") != "AUTHENTICATION_ERROR":
            problems.append(f"{route}: {reply.status_code} {reply.text[:200]}")
        elif not reply.headers.get("www-authenticate", "").startswith("Bearer"):
            problems.append(f"{route}: no WWW-Authenticate: Bearer")
    return problems


async def assert_every_forgery_refused(
    attacks: dict[str, Forge], author: Person, anon: httpx.AsyncClient, key: ServerKey
) -> None:
    claims = claims_of(author.access_token)
    failures = {}
    for name, attack in attacks.items():
        token = attack(claims, key)
        problems = await refused_everywhere(anon, {"Authorization": f"Bearer {token}"})
        if problems:
            failures[name] = problems
    assert failures == {}


async def test_token_with_a_forged_signature_or_algorithm_is_refused(
    author: Person, anon: httpx.AsyncClient, server_key: ServerKey
) -> None:
    await assert_every_forgery_refused(FORGED_SIGNATURES, author, anon, server_key)


async def test_correctly_signed_token_with_bad_claims_is_refused(
    author: Person, anon: httpx.AsyncClient, server_key: ServerKey
) -> None:
    await assert_every_forgery_refused(BAD_CLAIMS, author, anon, server_key)


async def test_token_with_an_unknown_or_hostile_kid_is_refused(
    author: Person, anon: httpx.AsyncClient, server_key: ServerKey
) -> None:
    await assert_every_forgery_refused(HOSTILE_KIDS, author, anon, server_key)


async def test_refresh_token_is_not_an_access_token(
    author: Person, anon: httpx.AsyncClient
) -> None:
    reply = await anon.get("/users/me", headers={"Authorization": f"Bearer {author.refresh_token}"})
    assert_refused(reply)


async def test_access_token_is_not_a_refresh_token(author: Person, anon: httpx.AsyncClient) -> None:
    for route in ("/auth/refresh", "/auth/logout"):
        reply = await anon.post(route, json={"refreshToken": author.access_token})
        assert_refused(reply)
    # The real refresh token still works: nothing above touched the session.
    reply = await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    assert reply.status_code == 200, reply.text


QUERY_TOKEN_NAMES = ("access_token", "token", "jwt", "authorization")


async def test_token_in_the_query_string_is_ignored(
    author: Person, anon: httpx.AsyncClient
) -> None:
    await author.post("/posts", json={"title": "Draft", "content": "x"})
    for name in QUERY_TOKEN_NAMES:
        assert_refused(await anon.get("/users/me", params={name: author.access_token}))
        # On a public route it counts for nothing: the caller stays anonymous, sees no drafts.
        reply = await anon.get("/posts", params={"published": "false", name: author.access_token})
        assert reply.status_code == 200, reply.text
        assert reply.json()["data"] == [], name


MALFORMED_HEADERS = {
    "bearer_alone": "Bearer",
    "bearer_and_space": "Bearer ",
    "empty": "",
    "basic": "Basic dXNlckBleGFtcGxlLmNvbTpDb3JyZWN0LUhvcnNlLTQy",
    "digest": 'Digest username="a", realm="b"',
    "token_without_scheme": "{token}",
    "two_tokens": "Bearer {token} {token}",
    "two_headers_in_one": "Bearer {token}, Bearer {token}",
    "tab_separated": "Bearer\t{token}",
    "scheme_only_garbage": "Bearer !!!",
    "three_dots": "Bearer ...",
    "huge": "Bearer " + "a" * 200_000,
    "huge_dotted": "Bearer " + ".".join(["a" * 50_000] * 3),
    "non_ascii": "Bearer \u00ff\u00fe\u00e9",
}


async def test_malformed_authorization_header_is_refused(
    author: Person, anon: httpx.AsyncClient
) -> None:
    failures = {}
    for name, template in MALFORMED_HEADERS.items():
        value = template.replace("{token}", author.access_token)
        problems = await refused_everywhere(anon, [("Authorization", value.encode("latin-1"))])
        if problems:
            failures[name] = problems
    assert failures == {}


async def test_two_authorization_headers_are_refused(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    headers = [
        ("Authorization", f"Bearer {author.access_token}"),
        ("Authorization", f"Bearer {stranger.access_token}"),
    ]
    assert_refused(await anon.get("/users/me", headers=headers))


async def test_bearer_scheme_is_case_insensitive(author: Person, anon: httpx.AsyncClient) -> None:
    # RFC 9110 §11.1: auth schemes are case-insensitive; refusing "bearer" would be a bug, not
    # a defence.
    reply = await anon.get("/users/me", headers={"Authorization": f"bearer {author.access_token}"})
    assert reply.status_code == 200, reply.text


async def test_token_signed_with_a_previous_key_is_refused_once_the_key_is_dropped(
    author: Person, anon: httpx.AsyncClient
) -> None:
    retired = ServerKey("a-retired-secret-that-is-long-enough-0123456789")
    token = retired.sign(claims_of(author.access_token))
    assert_refused(await anon.get("/users/me", headers={"Authorization": f"Bearer {token}"}))
