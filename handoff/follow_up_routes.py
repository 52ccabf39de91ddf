"""The follow-up survey's routes: the widget's question and answer on the customer API (the
conversation token as a bearer token), and the small page the e-mail's links open
(``/survey/follow-up/{link_token}``; the token in the path is the credential).

The page never changes anything on GET (mail scanners open links): it asks, with the answer
from the link already chosen, and the POST of its form records it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from string import Template
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bot.routes import count_request, rate_limited
from core.auth import bearer_token
from core.broker import Broker
from core.errors import KefuError
from core.rate_limits import Action
from core.realtime import STAFF_CHANNEL, publish_events

from .complaints import Notice
from .follow_up import Answer, FollowUpPublic, FollowUps, LinkView
from .follow_up_text import ANSWERS, LANGUAGES, page_text

__all__ = ["page_router", "router"]

router = APIRouter(
    prefix="/api/chat/conversations",
    tags=["customer chat"],
    dependencies=[Depends(count_request)],
)
page_router = APIRouter(include_in_schema=False)
Authorization = Annotated[str | None, Header()]


class FollowUpOut(BaseModel):
    follow_up: FollowUpPublic | None


class FollowUpAnswerIn(BaseModel):
    answer: Literal["solved", "not_solved"]


def _follow_ups(request: Request) -> FollowUps:
    follow_ups: FollowUps = request.app.state.follow_ups
    return follow_ups


def _broker(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


async def _tell_staff(broker: Broker, notices: list[Notice]) -> None:
    for notice in notices:
        await broker.publish(STAFF_CHANNEL, notice.envelope())


@router.get("/{conversation_id}/follow-up", response_model=FollowUpOut)
def read_follow_up(
    request: Request, conversation_id: str, authorization: Authorization = None
) -> FollowUpOut:
    """The question the widget asks on the customer's return: null when there is none."""
    found = _follow_ups(request).for_widget(
        conversation_id=conversation_id, token=bearer_token(authorization)
    )
    return FollowUpOut(follow_up=found)


@router.post(
    "/{conversation_id}/follow-up",
    response_model=FollowUpPublic,
    dependencies=[Depends(rate_limited(Action.rating))],
)
async def answer_follow_up(
    request: Request,
    conversation_id: str,
    body: FollowUpAnswerIn,
    authorization: Authorization = None,
) -> FollowUpPublic:
    answer: Answer = body.answer
    found, events, notices = await run_in_threadpool(
        lambda: _follow_ups(request).answer_in_widget(
            conversation_id=conversation_id, token=bearer_token(authorization), answer=answer
        )
    )
    await publish_events(_broker(request), events)
    await _tell_staff(_broker(request), notices)
    return found


# -- the page the e-mail's links open -----------------------------------------------------------


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def _choices(token: str, language: str, chosen: str | None) -> str:
    buttons = "".join(
        f'<button type="submit" name="answer" value="{answer}" class="{answer}'
        f'{" chosen" if answer == chosen else ""}" data-testid="follow-up-{answer}">'
        f"{escape(page_text(language, answer))}</button>"
        for answer in ANSWERS
    )
    return f'<form method="post" action="/survey/follow-up/{escape(token)}">{buttons}</form>'


def _para(text: str, css: str = "") -> str:
    return f"<p{f' class={css!r}' if css else ''}>{escape(text)}</p>"


def _page(request: Request, *, state: str, language: str, body: str, status: int) -> HTMLResponse:
    template: Template = request.app.state.follow_up_page
    html = template.substitute(
        lang="zh-CN" if language == "zh" else "en",
        title=escape(page_text(language, "title")),
        state=state,
        body=body,
    )
    # The path holds the link's token: no other site may learn it from a Referer.
    return HTMLResponse(html, status_code=status, headers={"Referrer-Policy": "no-referrer"})


def _refused(request: Request, view: LinkView | None, status: int) -> HTMLResponse:
    """The link names no follow-up (404), its answers closed (410), or it was answered (409)."""
    if view is None:
        # Not a follow-up we know: nothing says which language to use, so both.
        body = "".join(_para(page_text(language, "invalid")) for language in LANGUAGES)
        return _page(request, state="invalid", language="en", body=body, status=status)
    language = view.language
    if view.state == "answered" and view.answer:
        line = page_text(language, "already", answer=page_text(language, view.answer))
    else:
        line = page_text(language, "expired", expires=_day(view.expires_at))
    return _page(request, state=view.state, language=language, body=_para(line), status=status)


def _thanks(request: Request, view: LinkView, answer: str, status: int = 200) -> HTMLResponse:
    language = view.language
    body = _para(page_text(language, f"thanks_{answer}"))
    if answer == "not_solved":
        chat_url: str = request.app.state.settings.follow_up_chat_url
        body += (
            f'<p><a class="button" href="{escape(chat_url)}" data-testid="follow-up-chat">'
            f"{escape(page_text(language, 'chat'))}</a></p>"
            if chat_url
            else _para(page_text(language, "chat_hint"), "muted")
        )
    return _page(request, state="answered", language=language, body=body, status=status)


def _view(request: Request, link_token: str) -> LinkView | None:
    try:
        return _follow_ups(request).view_link(link_token)
    except KefuError:
        return None


@page_router.get("/survey/follow-up/{link_token}")
def follow_up_page(request: Request, link_token: str, answer: str | None = None) -> HTMLResponse:
    view = _view(request, link_token)
    if view is None:
        return _refused(request, None, 404)
    if view.state == "expired":
        return _refused(request, view, 410)
    if view.state == "answered":
        return _refused(request, view, 200)  # a second visit: what was answered
    language = view.language
    question = _para(page_text(language, "question", closed=_day(view.closed_at)))
    if answer is not None and answer not in ANSWERS:
        refused = _para(page_text(language, "bad_answer"))
        body = question + refused + _choices(link_token, language, None)
        return _page(request, state="open", language=language, body=body, status=422)
    hint = _para(page_text(language, "confirm_hint"), "muted") if answer else ""
    body = question + hint + _choices(link_token, language, answer)
    return _page(request, state="open", language=language, body=body, status=200)


@page_router.post("/survey/follow-up/{link_token}")
async def answer_follow_up_page(
    request: Request, link_token: str, answer: Annotated[str, Form()] = ""
) -> HTMLResponse:
    view = await run_in_threadpool(_view, request, link_token)
    if view is None:
        return _refused(request, None, 404)
    if answer not in ANSWERS:
        language = view.language
        body = _para(page_text(language, "bad_answer")) + _choices(link_token, language, None)
        return _page(request, state=view.state, language=language, body=body, status=422)
    chosen: Answer = "solved" if answer == "solved" else "not_solved"
    try:
        answered, events, notices = await run_in_threadpool(
            _follow_ups(request).answer_by_link, link_token, chosen
        )
    except KefuError as error:
        later = await run_in_threadpool(_view, request, link_token)
        return _refused(request, later, error.status)
    await publish_events(_broker(request), events)
    await _tell_staff(_broker(request), notices)
    return _thanks(request, answered, chosen)
