"""Who is acting on the staff APIs.

Staff accounts with sessions and roles arrive with the handoff work; until then every staff
route already depends on ``StaffActor`` so that swapping in real authentication touches this
module only. The server binds to 127.0.0.1 by default for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

__all__ = ["Actor", "StaffActor", "current_admin"]


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


def current_admin(request: Request) -> Actor:
    name = request.headers.get("X-Kefu-Author", "").strip()[:128] or "admin"
    return Actor(name=name, role="admin")


StaffActor = Annotated[Actor, Depends(current_admin)]
