"""The desk's settings, taken from ``core.settings.Settings`` once at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from core.pii_policy import PersonalDataPolicy
from core.settings import Settings

from .schedule import BusinessHours

__all__ = ["DeskConfig"]


@dataclass(frozen=True)
class DeskConfig:
    assignment: str = "auto"
    first_response: timedelta = timedelta(seconds=30)
    default_team: str = "support"
    team_routes: dict[str, str] = field(default_factory=dict)
    max_chats: int = 3
    hours: BusinessHours = field(default_factory=lambda: BusinessHours.parse({}, "UTC"))
    reopen_window: timedelta = timedelta(hours=72)
    default_handle_seconds: float = 240.0
    max_message_chars: int = 2000
    away_after_disconnect: timedelta = timedelta(seconds=60)
    # What agents see masked, and who may reveal it.
    pii: PersonalDataPolicy = field(default_factory=PersonalDataPolicy)

    @classmethod
    def of(cls, settings: Settings) -> DeskConfig:
        return cls(
            assignment=settings.assignment,
            first_response=timedelta(seconds=settings.first_response_seconds),
            default_team=settings.default_team,
            team_routes=dict(settings.team_routes),
            max_chats=settings.max_concurrent_chats,
            hours=BusinessHours.parse(settings.business_hours, settings.business_timezone),
            reopen_window=timedelta(hours=settings.reopen_window_hours),
            default_handle_seconds=settings.default_handle_seconds,
            max_message_chars=settings.max_message_chars,
            away_after_disconnect=timedelta(seconds=settings.agent_away_after_seconds),
            pii=PersonalDataPolicy.of(settings),
        )

    def team_for(self, topic: str | None) -> str:
        return self.team_routes.get(topic or "", self.default_team)
