"""``by_channel`` (docs/metrics.md): each channel's conversations, containment and escalation,
on hand-built rows with hand-computed answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics import metrics
from analytics.rows import ConversationRow, Dataset, EventRow, TicketRow
from analytics.stats import rate

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def conv(cid: str, channel: str, *, wrote: bool = True) -> ConversationRow:
    return ConversationRow(id=cid, created_at=T0, customer_wrote=wrote, channel=channel)


def escalated(cid: str, seq: int = 2) -> EventRow:
    return EventRow(cid, seq, "conversation.escalated", T0, {"reason": "asked_for_person"})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (Dataset(), []),
        # Nobody wrote in the API conversation: it is not counted, and no row shows it.
        (Dataset(conversations=(conv("w1", "web"), conv("a1", "api", wrote=False))), ["web"]),
        (
            Dataset(
                conversations=(
                    conv("w1", "web"),
                    conv("w2", "web"),
                    conv("a1", "api"),
                    conv("a2", "api"),
                    conv("a3", "api"),
                ),
                # One web conversation escalated; two API ones, one by a ticket alone.
                events=(escalated("w1"), escalated("a1")),
                tickets=(TicketRow(id=1, conversation_id="a2", created_at=T0),),
            ),
            ["api", "web"],
        ),
    ],
)
def test_each_channel_has_its_own_figures(data: Dataset, expected: list[str]) -> None:
    found = metrics.by_channel(data)
    assert [f.channel for f in found] == expected
    figures = {f.channel: f for f in found}
    if "api" in figures and len(data.conversations) == 5:
        api, web = figures["api"], figures["web"]
        assert (api.conversations, web.conversations) == (3, 2)
        assert api.escalation == rate(2, 3)
        assert api.containment == rate(1, 3)
        assert web.escalation == rate(1, 2)
        assert web.containment == rate(1, 2)


def test_the_channels_add_up_to_the_whole() -> None:
    data = Dataset(
        conversations=tuple(conv(f"c{n}", "api" if n % 3 else "web") for n in range(9)),
        events=tuple(escalated(f"c{n}") for n in range(0, 9, 2)),
    )
    whole = metrics.summarise(data)
    parts = whole.by_channel
    assert sum(p.conversations for p in parts) == whole.conversations
    assert sum(p.escalation.numerator for p in parts) == whole.escalation.overall.numerator
    assert sum(p.containment.numerator for p in parts) == whole.containment.numerator
