"""Token forgery kit for the attack tests: what a hostile client can build with PyJWT or by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pressroom.config import Settings, key_id


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], payload: dict[str, Any], hmac_key: str | None) -> str:
    """A compact JWS built without PyJWT's checks (non-string `kid`, `alg: none`, ...)."""
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    if hmac_key is None:
        return signing_input + "."
    digest = hmac.new(hmac_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(digest)


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a real token, read the way an attacker reads it: without the key."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


class ServerKey:
    """The server's own signing key, for tokens that are correctly signed but wrong otherwise."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.kid = key_id(secret)

    @classmethod
    def of(cls, settings: Settings) -> ServerKey:
        return cls(settings.signing_secret)

    def sign(self, payload: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            payload, self.secret, algorithm="HS256", headers={"kid": self.kid, **headers}
        )


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
