"""Business hours: a weekly schedule in one time zone, e.g. {"mon": ["09:00-18:00"]}.

An empty schedule means always open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["BusinessHours", "InvalidScheduleError"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class InvalidScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class BusinessHours:
    # weekday (0 = Monday) -> [(opens, closes)] in local time; closes may be 24:00 (time.max).
    spans: dict[int, tuple[tuple[time, time], ...]]
    zone: ZoneInfo

    @classmethod
    def parse(cls, schedule: dict[str, list[str]], timezone: str) -> BusinessHours:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidScheduleError(f"unknown time zone {timezone!r}") from exc
        spans: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, ranges in schedule.items():
            key = day.strip().lower()[:3]
            if key not in DAYS:
                raise InvalidScheduleError(f"unknown day {day!r}; use mon, tue, ... sun")
            spans[DAYS.index(key)] = tuple(_span(text) for text in ranges)
        return cls(spans, zone)

    @property
    def always_open(self) -> bool:
        return not self.spans

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        return any(
            opens <= now < closes or (closes == time.max and now >= opens)
            for opens, closes in self.spans.get(local.weekday(), ())
        )

    def next_open(self, moment: datetime) -> datetime | None:
        """When it next opens (UTC), or None if it is open now or never opens."""
        if self.is_open(moment) or not any(self.spans.values()):
            return None
        local = moment.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for opens, _closes in sorted(self.spans.get(day.weekday(), ())):
                start = datetime.combine(day, opens, tzinfo=self.zone)
                if start > local:
                    return start.astimezone(UTC)
        return None


def _span(text: str) -> tuple[time, time]:
    try:
        start, end = (part.strip() for part in text.split("-"))
        opens = time.fromisoformat(start)
        closes = time.max if end == "24:00" else time.fromisoformat(end)
    except ValueError as exc:
        raise InvalidScheduleError(f"bad opening hours {text!r}; use HH:MM-HH:MM") from exc
    if closes <= opens:
        raise InvalidScheduleError(f"opening hours {text!r} end before they start")
    return opens, closes
