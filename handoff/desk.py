"""The handoff desk: opens tickets when the bot escalates, and carries out what agents do.

Every write is one transaction through ``session_scope``; methods return the events they wrote
so the caller publishes them after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.escalation import Escalation, announce_escalation
from core.auth import Actor, ForbiddenError
from core.clock import utcnow
from core.conversations import (
    Conversation,
    ConversationEvent,
    ConversationState,
    append_event,
    events_after,
    find_client_event,
)
from core.db import session_scope
from core.errors import InvalidInputError, NotFoundError
from core.staff import Role, StaffUser

from .agents import (
    AgentPublic,
    agent_public,
    can_act,
    can_see,
    candidates,
    ensure_profile,
    update_profile,
    user_named,
)
from .assignment import is_eligible
from .complaints import ComplaintDesk, ComplaintRules
from .config import DeskConfig
from .context import build_context, summary_line
from .errors import (
    AgentDisabledError,
    InvalidReplyError,
    NotAnAgentError,
    TicketClosedError,
    UnknownAgentError,
    UnknownTeamError,
)
from .models import AgentProfile, Ticket
from .priority import initial_priority, trusted_tier
from .queue import claim_ticket, open_ticket_of, places, release_agent, rows_changed
from .schemas import ChannelNamer, TicketPublic, channel_of, ticket_public
from .service_language import ServiceLanguage, ServiceLanguageError

__all__ = ["Availability", "HandoffDesk"]

VIEWS = ("queue", "mine", "offline", "closed")


@dataclass(frozen=True)
class Availability:
    open: bool
    reason: str | None = None  # no_agents | outside_hours
    next_open: str | None = None

    def as_payload(self) -> dict[str, Any] | None:
        return None if self.open else {"reason": self.reason, "next_open": self.next_open}


# A handover for these reasons, on a complaint intent (``ComplaintRules.intents``), opens a
# complaint: the intent's own rule, or the customer's feelings while on it.
_COMPLAINT_REASONS = frozenset({"intent_rule", "negative_sentiment", "worsening_sentiment"})


class HandoffDesk:
    def __init__(
        self,
        engine: Engine,
        config: DeskConfig,
        service_language: ServiceLanguage | None = None,
        complaints: ComplaintRules | None = None,
        channel_namer: ChannelNamer | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        # Names a conversation's channel on tickets and in the context packet.
        self.channel_namer = channel_namer
        self.service_language = service_language or ServiceLanguage(engine)
        self.complaints = ComplaintDesk(engine, config, complaints or ComplaintRules())

    # -- escalation (runs inside the bot's transaction) -----------------------------------------

    def availability(self, session: Session, *, team: str, language: str) -> Availability:
        now = utcnow()
        if not self.config.hours.is_open(now):
            opens = self.config.hours.next_open(now)
            return Availability(False, "outside_hours", opens.isoformat() if opens else None)
        if not any(is_eligible(a, team=team, language=language) for a in candidates(session)):
            return Availability(False, "no_agents")
        return Availability(True)

    def escalate(
        self, session: Session, conversation: Conversation, escalation: Escalation
    ) -> list[ConversationEvent]:
        team = self.config.team_for(escalation.topic)
        available = self.availability(session, team=team, language=escalation.language)
        conversation.escalation_reason = escalation.reason
        queue: dict[str, int] | None = None
        ticket: Ticket | None = None
        if available.open:
            scores = conversation.sentiment_scores
            ticket = Ticket(
                conversation_id=conversation.id,
                reason=escalation.reason,
                detail=escalation.detail[:500],
                priority=initial_priority(
                    reason=escalation.reason,
                    sentiment=scores[-1] if scores else None,
                    tier=trusted_tier(
                        conversation.customer_tier, verified=conversation.identity_verified
                    ),
                ),
                language=escalation.language,
                topic=escalation.topic,
                team=team,
                summary=summary_line(
                    session, conversation.id, mask=self.config.pii.masks("agents")
                ),
                customer_tier=trusted_tier(
                    conversation.customer_tier, verified=conversation.identity_verified
                ),
            )
            session.add(ticket)
            conversation.state = ConversationState.waiting_for_agent
            session.add(conversation)
            session.flush()
            place = places(session, self.config).get(conversation.id)
            queue = (
                {"position": place.position, "eta_seconds": place.eta_seconds} if place else None
            )
        events = announce_escalation(
            session,
            conversation,
            escalation,
            said="escalate" if available.open else "escalate_offline",
            offline=available.as_payload(),
            queue=queue,
        )
        if escalation.reason in _COMPLAINT_REASONS:
            opened = self.complaints.open_from_bot(
                session, conversation, intent=escalation.topic, ticket=ticket
            )
            if opened is not None:
                events.append(opened)
        return events

    # -- agents ---------------------------------------------------------------------------------

    def me(self, actor: Actor) -> AgentPublic:
        with session_scope(self.engine) as session:
            return self._public(session, actor.user_id)

    def update_agent(
        self, *, username: str | None, actor: Actor, changes: dict[str, Any]
    ) -> AgentPublic:
        with session_scope(self.engine) as session:
            target = user_named(session, username) if username else None
            # Supervisors manage agents; an admin's or another supervisor's teams and capacity
            # are an admin's to change.
            if (
                target is not None
                and actor.role == Role.supervisor
                and target.id != actor.user_id
                and target.role != Role.agent
            ):
                raise NotAnAgentError(
                    f"{target.username} is a {target.role}: a supervisor changes only agents' "
                    "profiles and their own"
                )
            user_id = target.id if target is not None else actor.user_id
            profile = ensure_profile(session, user_id or 0, self.config)
            update_profile(profile, changes)
            session.add(profile)
            session.flush()
            return self._public(session, profile.user_id)

    def set_away_if_online(self, user_id: int) -> bool:
        """Online -> away, in one conditional UPDATE; any other presence is left as chosen."""
        with session_scope(self.engine) as session:
            changed = session.execute(
                update(AgentProfile)
                .where(col(AgentProfile.user_id) == user_id, col(AgentProfile.presence) == "online")
                .values(presence="away", presence_changed_at=utcnow())
            )
            return rows_changed(changed) > 0

    def agents(self) -> list[AgentPublic]:
        with session_scope(self.engine) as session:
            users = session.exec(select(StaffUser).order_by(col(StaffUser.username))).all()
            return [agent_public(u, ensure_profile(session, u.id or 0, self.config)) for u in users]

    def teams(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(self._teams(session))

    def _teams(self, session: Session) -> set[str]:
        """The configured teams and those of members who are not disabled."""
        found = {self.config.default_team, *self.config.team_routes.values()}
        profiles = session.exec(
            select(AgentProfile)
            .join(StaffUser, col(StaffUser.id) == col(AgentProfile.user_id))
            .where(col(StaffUser.disabled).is_(False))
        ).all()
        for profile in profiles:
            found.update(profile.teams)
        return found

    def _transfer_target(self, session: Session, username: str) -> StaffUser:
        user = session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()
        if user is None:
            raise UnknownAgentError(f"no staff member {username!r}")
        if user.disabled:
            raise AgentDisabledError(f"{username} is disabled and can take no chats")
        return user

    def _transfer_team(self, session: Session, team: str) -> str:
        known = self._teams(session)
        if team not in known:
            raise UnknownTeamError(
                f"no team {team!r}; the teams are {', '.join(sorted(known))}",
                details=[{"field": "to_team", "code": "unknown_team"}],
            )
        return team

    def _public(self, session: Session, user_id: int) -> AgentPublic:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFoundError("no such staff member")
        return agent_public(user, ensure_profile(session, user_id, self.config))

    # -- tickets --------------------------------------------------------------------------------

    def tickets(self, *, actor: Actor, view: str, limit: int = 200) -> list[TicketPublic]:
        if view not in VIEWS:
            raise InvalidInputError(f"'view' must be one of {', '.join(VIEWS)}")
        with session_scope(self.engine) as session:
            profile = ensure_profile(session, actor.user_id, self.config)
            statement = select(Ticket)
            if view == "queue":
                statement = statement.where(col(Ticket.status) == "queued").order_by(
                    col(Ticket.priority).desc(), col(Ticket.created_at)
                )
            elif view == "mine":
                statement = statement.where(
                    col(Ticket.status) == "active", col(Ticket.agent_id) == actor.user_id
                ).order_by(col(Ticket.assigned_at))
            elif view == "offline":
                statement = statement.where(col(Ticket.status) == "offline").order_by(
                    col(Ticket.created_at)
                )
            else:
                statement = statement.where(col(Ticket.status) == "closed").order_by(
                    col(Ticket.closed_at).desc()
                )
            rows = [
                t for t in session.exec(statement.limit(limit)).all() if can_see(actor, profile, t)
            ]
            # Two queries load every row's conversation and agent into the session, so
            # ticket_public's lookups find them there instead of querying once per ticket.
            # (The session holds loaded objects weakly: ``loaded`` keeps them alive meanwhile.)
            conversation_ids = {t.conversation_id for t in rows}
            agent_ids = {t.agent_id for t in rows if t.agent_id}
            loaded: list[object] = []
            if conversation_ids:
                loaded += session.exec(
                    select(Conversation).where(col(Conversation.id).in_(conversation_ids))
                ).all()
            if agent_ids:
                loaded += session.exec(
                    select(StaffUser).where(col(StaffUser.id).in_(agent_ids))
                ).all()
            return [ticket_public(session, t, self.channel_namer) for t in rows]

    def _ticket(self, session: Session, ticket_id: int, actor: Actor, *, act: bool) -> Ticket:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        profile = ensure_profile(session, actor.user_id, self.config)
        if not can_see(actor, profile, ticket) or (act and not can_act(actor, ticket)):
            raise ForbiddenError("this conversation belongs to another agent or team")
        if act and ticket.status == "closed":
            raise TicketClosedError("this chat is closed")
        return ticket

    def ticket(self, *, ticket_id: int, actor: Actor) -> tuple[TicketPublic, dict[str, Any]]:
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=False)
            conversation = session.get(Conversation, ticket.conversation_id)
            assert conversation is not None
            context = build_context(
                session,
                conversation,
                mask=self.config.pii.masks("agents"),
                channel=channel_of(session, conversation, self.channel_namer),
            )
            return ticket_public(session, ticket, self.channel_namer), context

    def conversation_of(self, *, ticket_id: int, actor: Actor) -> Conversation:
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=False)
            conversation = session.get(Conversation, ticket.conversation_id)
            assert conversation is not None
            return conversation

    def check_conversation(self, *, conversation_id: str, actor: Actor) -> None:
        """Raise unless the actor may read this conversation (through one of its tickets)."""
        with session_scope(self.engine) as session:
            profile = ensure_profile(session, actor.user_id, self.config)
            tickets = session.exec(
                select(Ticket).where(col(Ticket.conversation_id) == conversation_id)
            ).all()
            if session.get(Conversation, conversation_id) is None:
                raise NotFoundError("no such conversation")
            if not any(can_see(actor, profile, t) for t in tickets) and actor.role == "agent":
                raise ForbiddenError("this conversation belongs to another team")

    def events(
        self, *, conversation_id: str, actor: Actor, after: int, limit: int
    ) -> list[ConversationEvent]:
        self.check_conversation(conversation_id=conversation_id, actor=actor)
        with Session(self.engine) as session:
            return events_after(session, conversation_id, after, limit=limit, include_internal=True)

    def claim(
        self, *, ticket_id: int, actor: Actor
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=False)
            ensure_profile(session, actor.user_id, self.config)
            return self._assign(session, ticket, actor.user_id)

    def _assign(
        self, session: Session, ticket: Ticket, agent_id: int
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        claim_ticket(session, ticket_id=ticket.id or 0, agent_id=agent_id)
        agent = session.get(StaffUser, agent_id)
        assert agent is not None
        joined = append_event(
            session,
            conversation_id=ticket.conversation_id,
            type="agent.joined",
            author="system",
            payload={"agent": agent.display_name},
        )
        fresh = session.get(Ticket, ticket.id)
        assert fresh is not None
        return ticket_public(session, fresh, self.channel_namer), [joined]

    def assign(
        self, *, ticket_id: int, agent_id: int
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        """Automatic assignment: the same atomic claim, on the dispatcher's behalf."""
        with session_scope(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFoundError(f"no ticket {ticket_id}")
            return self._assign(session, ticket, agent_id)

    def _text(self, text: object) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidReplyError("the message is empty", details=[{"code": "empty_message"}])
        if len(text) > self.config.max_message_chars:
            raise InvalidReplyError(
                f"the message is longer than {self.config.max_message_chars} characters",
                details=[{"code": "message_too_long"}],
            )
        return text.strip()

    def reply(
        self,
        *,
        ticket_id: int,
        actor: Actor,
        text: object,
        client_id: str | None = None,
        confirm_phrases: bool = False,
    ) -> tuple[ConversationEvent, bool]:
        """Send the customer a message; a repeated ``client_id`` returns the stored one.

        A reply with phrases from the service-language list is refused (422
        ``service_language``, nothing written) unless ``confirm_phrases``; a confirmed one
        records each phrase's use with the message."""
        cleaned = self._text(text)
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=True)
            if ticket.status != "active":
                raise TicketClosedError("claim this chat before replying")
            if client_id:
                existing = find_client_event(session, ticket.conversation_id, client_id)
                if existing is not None:
                    return existing, False
            # Places are reported in the text as sent, so a console can replace what it shows.
            phrases = self.service_language.find_in(session, str(text), ticket.language)
            if phrases and not confirm_phrases:
                raise ServiceLanguageError(phrases)
            self.service_language.record_uses(
                session, phrases, agent_id=actor.user_id, conversation_id=ticket.conversation_id
            )
            event = append_event(
                session,
                conversation_id=ticket.conversation_id,
                type="message",
                author=f"agent:{actor.name}",
                payload={"text": cleaned, "agent": actor.display_name},
                client_id=client_id,
            )
            if ticket.first_response_at is None:
                ticket.first_response_at = event.created_at
                session.add(ticket)
            return event, True

    def note(self, *, ticket_id: int, actor: Actor, text: object) -> ConversationEvent:
        cleaned = self._text(text)
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=False)
            return self._note(session, ticket, actor, cleaned)

    def _note(
        self, session: Session, ticket: Ticket, actor: Actor, text: str, **extra: Any
    ) -> ConversationEvent:
        return append_event(
            session,
            conversation_id=ticket.conversation_id,
            type="note",
            author=f"agent:{actor.name}",
            payload={"text": text, "agent": actor.display_name, **extra},
            internal=True,
        )

    def transfer(
        self,
        *,
        ticket_id: int,
        actor: Actor,
        to_agent: str | None,
        to_team: str | None,
        note: str | None,
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        if bool(to_agent) == bool(to_team):
            raise InvalidInputError("transfer to exactly one of 'to_agent' or 'to_team'")
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=True)
            # Checked before anything changes: a chat sent nowhere is a chat nobody sees.
            target_user = self._transfer_target(session, to_agent) if to_agent else None
            team = None if target_user else self._transfer_team(session, str(to_team).strip())
            events: list[ConversationEvent] = []
            if note and note.strip():
                target = to_agent or f"team {to_team}"
                events.append(
                    self._note(session, ticket, actor, self._text(note), transfer_to=target)
                )
            leaving = session.get(StaffUser, ticket.agent_id) if ticket.agent_id else None
            release_agent(session, ticket.agent_id)
            ticket.transfers += 1
            if leaving is not None:
                events.append(self._agent_left(session, ticket, leaving, "transferred"))
            if target_user is not None:
                ensure_profile(session, target_user.id or 0, self.config)
                ticket.status, ticket.agent_id = "queued", None
                session.add(ticket)
                session.flush()
                public, joined = self._assign(session, ticket, target_user.id or 0)
                return public, [*events, *joined]
            ticket.status, ticket.agent_id, ticket.team = "queued", None, str(team)
            session.add(ticket)
            conversation = session.get(Conversation, ticket.conversation_id)
            assert conversation is not None
            conversation.state = ConversationState.waiting_for_agent
            session.add(conversation)
            events.append(
                append_event(
                    session,
                    conversation_id=ticket.conversation_id,
                    type="conversation.transferred",
                    author="system",
                    payload={"team": ticket.team},
                )
            )
            session.flush()
            return ticket_public(session, ticket, self.channel_namer), events

    def hand_back(
        self, *, ticket_id: int, actor: Actor
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=True)
            events = self._finish(session, ticket, resolution="handed_back")
            conversation = session.get(Conversation, ticket.conversation_id)
            assert conversation is not None
            conversation.state = ConversationState.bot
            conversation.consecutive_misses = 0
            session.add(conversation)
            events.append(
                append_event(
                    session,
                    conversation_id=ticket.conversation_id,
                    type="conversation.returned_to_bot",
                    author="system",
                    payload={},
                )
            )
            return ticket_public(session, ticket, self.channel_namer), events

    def close(
        self, *, ticket_id: int, actor: Actor
    ) -> tuple[TicketPublic, list[ConversationEvent]]:
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor, act=True)
            events = self._finish(session, ticket, resolution="closed", announce=False)
            conversation = session.get(Conversation, ticket.conversation_id)
            assert conversation is not None
            events.append(
                self.close_conversation(session, conversation, by="agent", agent=actor.display_name)
            )
            return ticket_public(session, ticket, self.channel_namer), events

    def _finish(
        self, session: Session, ticket: Ticket, *, resolution: str, announce: bool = True
    ) -> list[ConversationEvent]:
        release_agent(session, ticket.agent_id)
        leaving = session.get(StaffUser, ticket.agent_id) if ticket.agent_id else None
        ticket.status, ticket.resolution, ticket.closed_at = "closed", resolution, utcnow()
        session.add(ticket)
        if not announce or leaving is None:
            return []
        return [self._agent_left(session, ticket, leaving, resolution)]

    @staticmethod
    def _agent_left(
        session: Session, ticket: Ticket, leaving: StaffUser, reason: str
    ) -> ConversationEvent:
        return append_event(
            session,
            conversation_id=ticket.conversation_id,
            type="agent.left",
            author="system",
            payload={
                "agent": leaving.display_name,
                "username": leaving.username,
                "reason": reason,
            },
        )

    def close_conversation(
        self, session: Session, conversation: Conversation, *, by: str, agent: str | None = None
    ) -> ConversationEvent:
        now = utcnow()
        conversation.state = ConversationState.closed
        conversation.closed_at = now
        conversation.reopen_until = now + self.config.reopen_window
        session.add(conversation)
        return append_event(
            session,
            conversation_id=conversation.id,
            type="conversation.closed",
            author="system",
            payload={
                "by": by,
                "agent": agent,
                "reopen_until": conversation.reopen_until.isoformat(),
                "survey": {"csat": True, "nps": True},
            },
        )

    def finish_open_ticket(self, session: Session, conversation_id: str, resolution: str) -> None:
        ticket = open_ticket_of(session, conversation_id)
        if ticket is not None:
            self._finish(session, ticket, resolution=resolution, announce=False)
