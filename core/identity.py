"""Signed customer identity: the embedding site vouches for who its signed-in customer is.

The site's server computes ``HMAC-SHA256(KEFU_IDENTITY_SECRET, payload)`` over the canonical
payload below and puts the hex digest in the widget's tag with the claims it covers. kefu
recomputes it; only a match (compared in constant time) makes the conversation's identity
verified. The payload is six lines joined by ``\\n`` (no trailing newline), UTF-8 encoded::

    kefu-identity-v1
    <external id>
    <e-mail>
    <name>
    <tier>            standard or vip ("standard" when the site gives none)
    <expires>         Unix seconds after which the signature is refused, or empty

An absent claim is an empty line. No claim may hold a control character (a newline would let
one claim pass for two), so every payload has exactly one reading.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from .errors import InvalidInputError, KefuError

__all__ = [
    "IdentityClaims",
    "IdentityExpiredError",
    "IdentityIncompleteError",
    "IdentityInvalidError",
    "IdentityNotConfiguredError",
    "IdentityUnsignedError",
    "canonical_payload",
    "sign_identity",
    "verified_identity",
    "verify_identity",
]

VERSION = "kefu-identity-v1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX = re.compile(r"[0-9a-fA-F]{64}")


class IdentityInvalidError(KefuError):
    code = "identity_invalid"
    status = 401


class IdentityExpiredError(KefuError):
    code = "identity_expired"
    status = 401


class IdentityNotConfiguredError(InvalidInputError):
    code = "identity_not_configured"


@dataclass(frozen=True)
class IdentityClaims:
    external_id: str | None = None
    email: str | None = None
    name: str | None = None
    tier: str = "standard"
    expires: int | None = None


def canonical_payload(claims: IdentityClaims) -> bytes:
    fields = [
        claims.external_id or "",
        claims.email or "",
        claims.name or "",
        claims.tier,
        "" if claims.expires is None else str(claims.expires),
    ]
    for value in fields:
        if _CONTROL.search(value):
            raise InvalidInputError(
                "a signed claim may not contain a control character",
                details=[{"code": "invalid_claim"}],
            )
    return "\n".join([VERSION, *fields]).encode()


def sign_identity(secret: str, claims: IdentityClaims) -> str:
    """The hex HMAC-SHA256 the embedding site puts in ``data-customer-hash``."""
    return hmac.new(secret.encode(), canonical_payload(claims), hashlib.sha256).hexdigest()


def verify_identity(
    secret: str, claims: IdentityClaims, signature: str, *, now: float | None = None
) -> None:
    """Raise unless ``signature`` is this secret's over exactly these claims, unexpired."""
    if not secret:
        raise IdentityNotConfiguredError(
            "this server has no identity secret (KEFU_IDENTITY_SECRET); it cannot verify a "
            "signed identity"
        )
    expected = sign_identity(secret, claims)
    if _HEX.fullmatch(signature) is None or not hmac.compare_digest(expected, signature.lower()):
        raise IdentityInvalidError(
            "the identity signature does not match the claims",
            details=[{"code": "identity_invalid"}],
        )
    if claims.expires is not None and claims.expires <= (time.time() if now is None else now):
        raise IdentityExpiredError(
            "the identity signature has expired; the page must sign it again",
            details=[{"code": "identity_expired"}],
        )


class IdentityUnsignedError(InvalidInputError):
    code = "identity_unsigned"


class IdentityIncompleteError(InvalidInputError):
    code = "identity_incomplete"


def verified_identity(secret: str, claims: IdentityClaims, signature: str | None) -> bool:
    """Whether the claims come signed (raising when a signature is there but wrong, expired
    or unverifiable). Unsigned name, e-mail and tier are taken as unverified; an external id
    or an expiry means nothing without a signature and is refused."""
    if signature is None:
        if claims.external_id is not None or claims.expires is not None:
            raise IdentityUnsignedError(
                "external_id and identity_expires are only taken with identity_hash",
                details=[{"code": "identity_unsigned"}],
            )
        return False
    if not claims.external_id and not claims.email:
        raise IdentityIncompleteError(
            "a signed identity needs an external_id or an email",
            details=[{"code": "identity_incomplete"}],
        )
    verify_identity(secret, claims, signature)
    return True
