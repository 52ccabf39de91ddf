"""The agent API: presence, the queue, taking and working chats, canned responses, agent
assist."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from core.addresses import client_address
from core.api_types import DbInt, RowId, SeqNumber
from core.auth import StaffActor, SupervisorActor
from core.broker import Broker
from core.conversations import EVENTS_PAGE, ConversationEvent, EventPublic
from core.realtime import notify_activity, publish_events
from core.text import StoredText

from .agents import AgentPublic, ColleaguePublic
from .assist import AgentAssist, AssistOut, AssistUsage, AssistUsedIn
from .canned import CannedIn, CannedLibrary, CannedPublic
from .desk import HandoffDesk
from .masking import AgentEventPublic, agent_event, reveal
from .schemas import TicketPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/agent", tags=["agent desk"])


class PresenceIn(BaseModel):
    presence: str = Field(max_length=16)


class ProfileIn(BaseModel):
    teams: list[str] | None = None
    languages: list[str] | None = None
    topics: list[str] | None = None
    max_chats: DbInt | None = None
    presence: str | None = Field(default=None, max_length=16)


class TextIn(BaseModel):
    text: StoredText
    client_id: StoredText | None = Field(default=None, min_length=1, max_length=64)
    # Replies only: send even with phrases from the service-language list (docs/handoff.md).
    confirm_phrases: bool = False


class TransferIn(BaseModel):
    to_agent: StoredText | None = Field(default=None, max_length=64)
    to_team: StoredText | None = Field(default=None, max_length=64)
    note: StoredText | None = None


class TicketsOut(BaseModel):
    tickets: list[TicketPublic]


class TicketDetail(BaseModel):
    ticket: TicketPublic
    context: dict[str, Any]


class EventOut(BaseModel):
    event: EventPublic


class EventsOut(BaseModel):
    events: list[AgentEventPublic]
    # True when more events follow: ask again with ``after`` = the last ``seq`` returned.
    has_more: bool = False


def _desk(request: Request) -> HandoffDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk


def _broker(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


async def _published(request: Request, events: list[ConversationEvent]) -> None:
    await publish_events(_broker(request), events)


@router.get("/me", response_model=AgentPublic)
def me(request: Request, actor: StaffActor) -> AgentPublic:
    return _desk(request).me(actor)


@router.put("/me/presence", response_model=AgentPublic)
async def set_presence(request: Request, actor: StaffActor, body: PresenceIn) -> AgentPublic:
    agent = await run_in_threadpool(
        lambda: _desk(request).update_agent(
            username=None, actor=actor, changes={"presence": body.presence}
        )
    )
    # Someone coming online may take waiting chats; someone leaving changes the estimates.
    await notify_activity(_broker(request))
    return agent


@router.get("/agents")
def list_agents(request: Request, _actor: StaffActor) -> dict[str, list[ColleaguePublic]]:
    # Which accounts lack two-step sign-in or have a temporary password is for admins only
    # (/api/admin/users).
    agents = _desk(request).agents()
    return {"agents": [ColleaguePublic.model_validate(a.model_dump()) for a in agents]}


@router.put("/agents/{username}", response_model=AgentPublic)
async def update_agent(
    request: Request, username: str, actor: SupervisorActor, body: ProfileIn
) -> AgentPublic:
    agent = await run_in_threadpool(
        lambda: _desk(request).update_agent(
            username=username, actor=actor, changes=body.model_dump(exclude_none=True)
        )
    )
    await notify_activity(_broker(request))
    return agent


@router.get("/teams")
def list_teams(request: Request, _actor: StaffActor) -> dict[str, list[str]]:
    return {"teams": _desk(request).teams()}


@router.get("/tickets", response_model=TicketsOut)
def list_tickets(
    request: Request,
    actor: StaffActor,
    view: Annotated[str, Query(max_length=16)] = "queue",
) -> TicketsOut:
    return TicketsOut(tickets=_desk(request).tickets(actor=actor, view=view))


@router.get("/tickets/{ticket_id}", response_model=TicketDetail)
def read_ticket(request: Request, ticket_id: RowId, actor: StaffActor) -> TicketDetail:
    ticket, context = _desk(request).ticket(ticket_id=ticket_id, actor=actor)
    return TicketDetail(ticket=ticket, context=context)


@router.get("/conversations/{conversation_id}/events", response_model=EventsOut)
def read_events(
    request: Request,
    conversation_id: str,
    actor: StaffActor,
    after: SeqNumber = 0,
) -> EventsOut:
    events = _desk(request).events(
        conversation_id=conversation_id, actor=actor, after=after, limit=EVENTS_PAGE + 1
    )
    policy = _desk(request).config.pii
    return EventsOut(
        events=[agent_event(e, policy, actor.role) for e in events[:EVENTS_PAGE]],
        has_more=len(events) > EVENTS_PAGE,
    )


class RevealOut(BaseModel):
    conversation_id: str
    seq: int
    text: str


@router.post("/conversations/{conversation_id}/events/{seq}/reveal", response_model=RevealOut)
def reveal_event(
    request: Request, conversation_id: str, seq: SeqNumber, actor: StaffActor
) -> RevealOut:
    """The raw text of one masked message, for the roles ``KEFU_PII_REVEAL_ROLES`` names (403
    ``reveal_forbidden`` for others); each reveal is an audit entry (``pii.revealed``)."""
    text = reveal(
        _desk(request),
        conversation_id=conversation_id,
        seq=seq,
        actor=actor,
        address=client_address(request),
    )
    return RevealOut(conversation_id=conversation_id, seq=seq, text=text)


@router.post("/tickets/{ticket_id}/claim", response_model=TicketPublic)
async def claim(request: Request, ticket_id: RowId, actor: StaffActor) -> TicketPublic:
    ticket, events = await run_in_threadpool(
        lambda: _desk(request).claim(ticket_id=ticket_id, actor=actor)
    )
    await _published(request, events)
    return ticket


@router.post(
    "/tickets/{ticket_id}/messages", response_model=EventOut, status_code=status.HTTP_201_CREATED
)
async def reply(request: Request, ticket_id: RowId, actor: StaffActor, body: TextIn) -> EventOut:
    event, created = await run_in_threadpool(
        lambda: _desk(request).reply(
            ticket_id=ticket_id,
            actor=actor,
            text=body.text,
            client_id=body.client_id,
            confirm_phrases=body.confirm_phrases,
        )
    )
    if created:
        await _published(request, [event])
    return EventOut(event=EventPublic.of(event))


@router.post(
    "/tickets/{ticket_id}/notes", response_model=EventOut, status_code=status.HTTP_201_CREATED
)
async def add_note(request: Request, ticket_id: RowId, actor: StaffActor, body: TextIn) -> EventOut:
    event = await run_in_threadpool(
        lambda: _desk(request).note(ticket_id=ticket_id, actor=actor, text=body.text)
    )
    await _published(request, [event])
    return EventOut(event=EventPublic.of(event))


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
async def transfer(
    request: Request, ticket_id: RowId, actor: StaffActor, body: TransferIn
) -> TicketPublic:
    ticket, events = await run_in_threadpool(
        lambda: _desk(request).transfer(
            ticket_id=ticket_id,
            actor=actor,
            to_agent=body.to_agent,
            to_team=body.to_team,
            note=body.note,
        )
    )
    await _published(request, events)
    return ticket


@router.post("/tickets/{ticket_id}/handback", response_model=TicketPublic)
async def hand_back(request: Request, ticket_id: RowId, actor: StaffActor) -> TicketPublic:
    ticket, events = await run_in_threadpool(
        lambda: _desk(request).hand_back(ticket_id=ticket_id, actor=actor)
    )
    await _published(request, events)
    return ticket


@router.post("/tickets/{ticket_id}/close", response_model=TicketPublic)
async def close(request: Request, ticket_id: RowId, actor: StaffActor) -> TicketPublic:
    ticket, events = await run_in_threadpool(
        lambda: _desk(request).close(ticket_id=ticket_id, actor=actor)
    )
    await _published(request, events)
    return ticket


# -- canned responses -------------------------------------------------------------------------


def _canned(request: Request) -> CannedLibrary:
    library: CannedLibrary = request.app.state.canned
    return library


@router.get("/tickets/{ticket_id}/canned")
def canned_for_ticket(
    request: Request, ticket_id: RowId, actor: StaffActor
) -> dict[str, list[CannedPublic]]:
    conversation = _desk(request).conversation_of(ticket_id=ticket_id, actor=actor)
    return {
        "canned": _canned(request).for_conversation(conversation, agent_name=actor.display_name)
    }


@router.get("/canned")
def list_canned(request: Request, _actor: StaffActor) -> dict[str, list[CannedPublic]]:
    return {"canned": _canned(request).all()}


@router.post("/canned", response_model=CannedPublic, status_code=status.HTTP_201_CREATED)
def create_canned(request: Request, _actor: SupervisorActor, body: CannedIn) -> CannedPublic:
    return _canned(request).create(body)


@router.put("/canned/{canned_id}", response_model=CannedPublic)
def update_canned(
    request: Request, canned_id: RowId, _actor: SupervisorActor, body: CannedIn
) -> CannedPublic:
    return _canned(request).update(canned_id, body)


@router.delete("/canned/{canned_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_canned(request: Request, canned_id: RowId, _actor: SupervisorActor) -> Response:
    _canned(request).delete(canned_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- agent assist -----------------------------------------------------------------------------


def _assist(request: Request) -> AgentAssist:
    assist: AgentAssist = request.app.state.assist
    return assist


@router.get("/tickets/{ticket_id}/assist", response_model=AssistOut)
def assist_for_ticket(request: Request, ticket_id: RowId, actor: StaffActor) -> AssistOut:
    """The best knowledge-base answers and canned responses for the customer's latest message."""
    conversation = _desk(request).conversation_of(ticket_id=ticket_id, actor=actor)
    return _assist(request).suggest(conversation, agent_name=actor.display_name)


@router.post("/tickets/{ticket_id}/assist/used", status_code=status.HTTP_204_NO_CONTENT)
def assist_used(
    request: Request, ticket_id: RowId, actor: StaffActor, body: AssistUsedIn
) -> Response:
    """Count a suggestion that the agent put into a reply."""
    conversation = _desk(request).conversation_of(ticket_id=ticket_id, actor=actor)
    _assist(request).record_use(conversation_id=conversation.id, agent_id=actor.user_id, body=body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/assist/usage", response_model=AssistUsage)
def assist_usage(
    request: Request,
    _actor: SupervisorActor,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> AssistUsage:
    """How often each suggestion was used over the last ``days`` days, and by whom."""
    return _assist(request).usage(days=days)
