"""Access tokens (JWT, HS256 pinned, keys rotated by `kid`) and opaque refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from pressroom.config import Settings, key_id
from pressroom.kit.clock import utcnow
from pressroom.kit.errors import AuthenticationFailed
from pressroom.kit.ids import is_row_id

ALGORITHM = "HS256"
REFRESH_TOKEN_BYTES = 32  # 256 bits; docs/api.md asks for at least 128
# Mailed tokens are 256-bit HMACs of a 192-bit seed (`email_token`).
EMAIL_TOKEN_SEED_BYTES = 24
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid"]
# Verified tokens are remembered (expiry re-checked on every use): a client sends the same token
# for its whole lifetime, and each verification cost ~0.1 ms of CPU (docs/performance.md).
VERIFIED_TOKENS_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    email: str
    roles: tuple[str, ...]
    token_id: str
    expires_at: datetime


class AccessTokens:
    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.ttl_seconds = settings.access_token_ttl_seconds
        self._signing_kid = key_id(settings.signing_secret)
        self._signing_key = settings.signing_secret
        self._verifying_keys = {key_id(s): s for s in settings.jwt_previous_secrets}
        self._verifying_keys[self._signing_kid] = self._signing_key
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, *, user_id: int, session_id: int, email: str, roles: list[str]) -> str:
        now = utcnow()
        payload = {
            "sub": str(user_id),
            "sid": session_id,
            "email": email,
            "roles": roles,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            payload, self._signing_key, algorithm=ALGORITHM, headers={"kid": self._signing_kid}
        )

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; AuthenticationFailed for anything else, whatever it is."""
        claims = self._verified.get(token)
        if claims is not None and claims.expires_at > utcnow():
            return claims
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_REMEMBERED:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self._verifying_keys.get(kid) if isinstance(kid, str) else None
            if key is None or header.get("alg") != ALGORITHM:
                raise AuthenticationFailed("Invalid access token")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
            )
            roles = claims.get("roles", [])
            return AccessClaims(
                user_id=int(claims["sub"]),
                session_id=_row_id(claims["sid"]),
                email=str(claims.get("email", "")),
                roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
                token_id=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("Access token has expired") from None
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError):
            raise AuthenticationFailed("Invalid access token") from None


def _row_id(value: object) -> int:
    if not is_row_id(value):
        raise ValueError("not a row id")
    return value


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_digest(token: str) -> str:
    """Refresh tokens are stored only as this digest; 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_email_token_seed() -> str:
    return secrets.token_urlsafe(EMAIL_TOKEN_SEED_BYTES)


def email_token(secret: str, seed: str) -> str:
    """The token mailed to an account, derived from a seed kept in the mail's job.

    A job row must carry what the mail will say until it is sent; carrying the token itself
    would put a usable credential in the database next to its hash. The seed alone is useless
    without the signing secret, and the database keeps only `email_token_digest` of the result.
    """
    mac = hmac.new(secret.encode(), b"pressroom-email-token:" + seed.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def email_token_digest(token: str) -> str:
    return refresh_token_digest(token)
