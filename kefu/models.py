"""Every package's tables, imported in one place for migrations and tests."""

from __future__ import annotations

__all__ = ["import_all_models"]


def import_all_models() -> None:
    import analytics.models  # noqa: F401
    import bot.models
    import bot.turns  # noqa: F401
    import channels.deliveries
    import channels.idempotency
    import channels.models  # noqa: F401
    import core.audit
    import core.conversations
    import core.jobs
    import core.login_throttle
    import core.mail_outbox
    import core.mfa
    import core.staff  # noqa: F401
    import handoff.customer_mail
    import handoff.follow_up
    import handoff.models
    import handoff.presence  # noqa: F401
    import knowledge_base.models  # noqa: F401
