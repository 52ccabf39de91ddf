"""Two-step sign-in: TOTP (RFC 6238, pyotp) with a QR code for enrolment (segno, SVG), ten
one-time recovery codes stored as hashes, and the short-lived challenge that links a login's
password step to its code step.

The TOTP secret is stored as it is (a verifier must know it); the database is trusted with it
as it is with everything else. Recovery codes have 80 random bits, so a SHA-256 hash of one
cannot be reversed by trying them all.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from sqlmodel import Field, Session, SQLModel, col, delete, select

from .clock import utcnow
from .db import UTCDateTime
from .errors import ConflictError, InvalidInputError
from .staff import StaffUser

__all__ = [
    "CHALLENGE_TTL",
    "RECOVERY_CODES",
    "MfaChallenge",
    "RecoveryCode",
    "begin_enrolment",
    "confirm_enrolment",
    "open_challenge",
    "reset_mfa",
    "take_challenge",
    "verify_second_factor",
]

CHALLENGE_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read and typed


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "staff_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    code_hash: str = Field(max_length=64)


class MfaChallenge(SQLModel, table=True):
    """A password step that succeeded for an account with two-step sign-in on."""

    __tablename__ = "staff_mfa_challenge"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _normalised(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def begin_enrolment(session: Session, user: StaffUser, *, issuer: str) -> dict[str, str]:
    """A new secret, not in force until a code from it is confirmed: the otpauth URI and an SVG
    QR code of it for an authenticator app."""
    if user.mfa_enabled:
        raise ConflictError("two-step sign-in is already on; turn it off first")
    user.mfa_secret = pyotp.random_base32()
    session.add(user)
    uri = pyotp.TOTP(user.mfa_secret).provisioning_uri(name=user.username, issuer_name=issuer)
    # A standalone document (with its namespace), so a page can show it as an image.
    svg = io.BytesIO()
    segno.make(uri, error="m").save(
        svg, kind="svg", xmldecl=False, scale=4, dark="#1f2430", light="#ffffff"
    )
    return {"secret": user.mfa_secret, "otpauth_uri": uri, "qr_svg": svg.getvalue().decode()}


def _totp_step(user: StaffUser, code: str) -> int | None:
    """The time step a code belongs to (one step of clock drift either way), or None."""
    digits = _normalised(code)
    if not user.mfa_secret or len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(user.mfa_secret)
    now = utcnow()
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=30 * drift)
        if secrets.compare_digest(totp.at(at), digits):
            return totp.timecode(at)
    return None


def confirm_enrolment(session: Session, user: StaffUser, code: str) -> list[str]:
    """Turn two-step sign-in on with a code from the new secret; returns the recovery codes,
    the only time they are shown."""
    if user.mfa_enabled:
        raise ConflictError("two-step sign-in is already on")
    if not user.mfa_secret:
        raise ConflictError("start the set-up first")
    step = _totp_step(user, code)
    if step is None:
        raise InvalidInputError(
            "that code is not right; check the time on the device",
            details=[{"field": "code", "code": "wrong_code"}],
        )
    user.mfa_enabled = True
    user.mfa_last_step = step
    session.add(user)
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        session.add(RecoveryCode(user_id=user.id or 0, code_hash=_digest(raw)))
    return codes


def verify_second_factor(session: Session, user: StaffUser, code: str) -> str | None:
    """A current TOTP code not used before (``"totp"``), or an unused recovery code (then used
    up: ``"recovery"``); None when it is neither."""
    step = _totp_step(user, code)
    if step is not None:
        if user.mfa_last_step is not None and step <= user.mfa_last_step:
            return None  # a code already used, seen again: a replay
        user.mfa_last_step = step
        session.add(user)
        return "totp"
    raw = _normalised(code)
    if len(raw) != 16:
        return None
    found = session.exec(
        select(RecoveryCode).where(
            col(RecoveryCode.user_id) == user.id, col(RecoveryCode.code_hash) == _digest(raw)
        )
    ).first()
    if found is None:
        return None
    session.delete(found)
    return "recovery"


def reset_mfa(session: Session, user: StaffUser) -> None:
    """Two-step sign-in off, its secret and recovery codes gone."""
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_last_step = None
    session.add(user)
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))


def open_challenge(session: Session, user: StaffUser) -> str:
    now = utcnow()
    session.exec(delete(MfaChallenge).where(col(MfaChallenge.expires_at) <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        MfaChallenge(
            token_hash=_digest(token), user_id=user.id or 0, expires_at=now + CHALLENGE_TTL
        )
    )
    return token


def take_challenge(session: Session, token: str) -> tuple[MfaChallenge, StaffUser] | None:
    """The challenge and its account while the challenge is live and the account enabled."""
    challenge = session.get(MfaChallenge, _digest(token))
    if challenge is None or challenge.expires_at <= utcnow():
        return None
    user = session.get(StaffUser, challenge.user_id)
    if user is None or user.disabled or not user.mfa_enabled:
        return None
    return challenge, user
