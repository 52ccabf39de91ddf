"""Turning two-step sign-in (TOTP) on and off for oneself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from .account import confirm_mfa, disable_mfa, start_mfa
from .addresses import client_address
from .auth import EnrollingActor, StaffActor
from .login import throttle_of
from .settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api/auth/mfa", tags=["staff accounts"])


class MfaSetup(BaseModel):
    secret: str = Field(description="Base32, for typing into an app that cannot scan.")
    otpauth_uri: str
    qr_svg: str = Field(description="The URI as a QR code: an inline SVG document.")


class MfaCode(BaseModel):
    code: str = Field(min_length=1, max_length=64)


class MfaDisable(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(min_length=1, max_length=64, description="A TOTP code or a recovery code.")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Each works once; shown only now.")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post("/setup", response_model=MfaSetup)
def setup(request: Request, actor: EnrollingActor) -> MfaSetup:
    """A new secret to scan; not in force until confirmed with a code from it."""
    issuer = _settings(request).mfa_issuer
    return MfaSetup(**start_mfa(request.app.state.engine, user_id=actor.user_id, issuer=issuer))


@router.post("/confirm", response_model=RecoveryCodes)
def confirm(request: Request, actor: EnrollingActor, body: MfaCode) -> RecoveryCodes:
    codes = confirm_mfa(
        request.app.state.engine,
        user_id=actor.user_id,
        address=client_address(request),
        code=body.code,
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post("/disable", status_code=204)
def disable(request: Request, actor: StaffActor, body: MfaDisable) -> None:
    disable_mfa(
        request.app.state.engine,
        throttle_of(_settings(request)),
        user_id=actor.user_id,
        address=client_address(request),
        password=body.password,
        code=body.code,
    )
