"""The authorisation policy, route by route: who may use each endpoint and socket of the app.

``tests/kefu/test_authorization_matrix.py`` reads the app's own routes and fails for any route
without an entry here, then tries every route as every actor. The actors, all on customer A's
conversation and its ticket:

* ``anonymous``: no credentials at all;
* ``customer_a``: A's own conversation token;
* ``customer_b``: another conversation's token, used on A's conversation;
* ``owner``: the agent who claimed A's ticket (team ``support``);
* ``teammate``: another agent of team ``support``;
* ``outsider``: an agent of team ``billing`` only;
* ``supervisor`` and ``admin``.

An allowed actor must never get 401 or 403 (a 2xx, or a 4xx about the request or the state of
things: 404 for an id that is gone, 409 for a chat already claimed, 422 for a body); a denied
actor must get 401, 403 or 404, never anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTORS",
    "ADMIN",
    "ANYONE",
    "MATRIX",
    "NOBODY",
    "STAFF",
    "SUPERVISORS",
    "Entry",
]

ACTORS = (
    "anonymous",
    "customer_a",
    "customer_b",
    "owner",
    "teammate",
    "outsider",
    "supervisor",
    "admin",
)
CUSTOMERS = ("anonymous", "customer_a", "customer_b")

ANYONE = frozenset(ACTORS)
NOBODY: frozenset[str] = frozenset()
A_ONLY = frozenset({"customer_a"})
STAFF = frozenset({"owner", "teammate", "outsider", "supervisor", "admin"})
# Who sees A's ticket: its agent, the agents of its team, and supervisors.
TEAM = frozenset({"owner", "teammate", "supervisor", "admin"})
# Who acts on A's chat (replies, transfers, hands back, closes): its agent and supervisors.
ACTING = frozenset({"owner", "supervisor", "admin"})
SUPERVISORS = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Entry:
    """``allowed``: the actors who may use the route. ``body``: JSON to send, or the name of a
    ``World`` method giving it. ``fresh``: the route changes A's chat or removes what it names,
    so the next attempt after a success gets new ones. ``own_session``: the route ends
    sessions, so each staff attempt uses a session of its own. ``files``: a multipart upload.
    ``frames``: for a socket, what each actor then tries on it (see the test)."""

    allowed: frozenset[str]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    fresh: bool = False
    own_session: bool = False
    files: dict[str, tuple[str, bytes]] | None = None
    why: str = ""


_FAQ = {"question": "How long does delivery take?", "answer": "Three to five days."}
_CANNED = {"shortcut": "hello", "title": "Hello", "text": "Hello {name}"}
_PHRASE = {"phrase": "whatever", "language": "en", "alternatives": ["I see"]}
_CRITERION = {"key": "greeting", "name": "Greeting", "name_zh": "问候", "max_points": 2}
_ACTION = {
    "name": "matrix_lookup",
    "intent": "no_such_intent",
    "url": "http://127.0.0.1:9/orders/{order_number}",
    "reply": {"en": "Order {{ order_number }}"},
}
_YAML = b"- question: Do you ship abroad?\n  answer: To 30 countries.\n"

MATRIX: dict[str, Entry] = {
    # -- pages and operations: public by design ------------------------------------------------
    "GET /": Entry(ANYONE, why="the demo store page"),
    "GET /widget.js": Entry(ANYONE),
    "GET /widget-chat.en.js": Entry(ANYONE, why="the English chat panel widget.js loads"),
    "GET /widget-chat.zh.js": Entry(ANYONE, why="the Chinese chat panel widget.js loads"),
    "GET /console": Entry(ANYONE, why="the page only; its data needs a session"),
    "GET /console/reviews": Entry(ANYONE, why="the page only; its data needs a session"),
    "GET /admin": Entry(ANYONE, why="the page only; its data needs a session"),
    "GET /wall": Entry(ANYONE, why="the page only; its data needs a supervisor's session"),
    "GET /admin/vendor/plotly.min.js": Entry(ANYONE),
    "GET /demo/api/orders/{order_number}": Entry(ANYONE, why="the demo store's order API"),
    "GET /healthz": Entry(ANYONE),
    "GET /readyz": Entry(ANYONE),
    "GET /metrics": Entry(ANYONE, why="counts only, never a customer's words"),
    # -- staff sign-in and one's own account ---------------------------------------------------
    "POST /api/auth/login": Entry(ANYONE, body="login", why="the password is the credential"),
    "POST /api/auth/login/mfa": Entry(ANYONE, body="second_step", why="the code is"),
    "POST /api/auth/logout": Entry(STAFF, own_session=True),
    "GET /api/auth/me": Entry(STAFF),
    "POST /api/auth/password": Entry(
        STAFF, body={"current_password": "not the password", "new_password": "x"}
    ),
    "GET /api/auth/sessions": Entry(STAFF),
    "POST /api/auth/sessions/revoke-others": Entry(STAFF, own_session=True),
    "DELETE /api/auth/sessions/{session_id}": Entry(
        NOBODY, why="the session is another member's: no one may end it but its owner"
    ),
    "POST /api/auth/mfa/setup": Entry(STAFF),
    "POST /api/auth/mfa/confirm": Entry(STAFF, body={"code": "000000"}),
    "POST /api/auth/mfa/disable": Entry(STAFF, body="mfa_disable"),
    # -- the customer's chat: A's token on A's conversation, nobody else ------------------------
    "POST /api/chat/conversations": Entry(ANYONE, body={"language": "en"}),
    "POST /api/chat/conversations/{conversation_id}/token": Entry(A_ONLY, fresh=True),
    "POST /api/chat/conversations/{conversation_id}/messages": Entry(
        A_ONLY, body={"text": "is anyone there?"}
    ),
    "GET /api/chat/conversations/{conversation_id}/events": Entry(A_ONLY),
    "POST /api/chat/conversations/{conversation_id}/ratings": Entry(
        A_ONLY, body={"seq": 1, "helpful": True}
    ),
    "POST /api/chat/conversations/{conversation_id}/handoff": Entry(A_ONLY),
    "GET /api/chat/conversations/{conversation_id}/status": Entry(A_ONLY),
    "POST /api/chat/conversations/{conversation_id}/offline-message": Entry(
        A_ONLY, body={"email": "a@example.com", "text": "call me back"}
    ),
    "POST /api/chat/conversations/{conversation_id}/close": Entry(A_ONLY, fresh=True),
    "POST /api/chat/conversations/{conversation_id}/feedback": Entry(A_ONLY, body={"csat": 5}),
    "POST /api/chat/conversations/{conversation_id}/reopen": Entry(A_ONLY),
    "GET /api/chat/conversations/{conversation_id}/follow-up": Entry(
        A_ONLY, why="null: A's chat is open, no follow-up is due"
    ),
    "POST /api/chat/conversations/{conversation_id}/follow-up": Entry(
        A_ONLY, body={"answer": "solved"}, why="404 no_follow_up: none is due on A's chat"
    ),
    "GET /survey/follow-up/{link_token}": Entry(
        ANYONE, why="the link's token is the credential; an unknown one is a 404 page"
    ),
    "POST /survey/follow-up/{link_token}": Entry(
        ANYONE, why="the link's token is the credential; an unknown one is a 404 page"
    ),
    "WS /api/chat/ws": Entry(A_ONLY),
    # -- the agent desk --------------------------------------------------------------------------
    "GET /api/agent/me": Entry(STAFF),
    "PUT /api/agent/me/presence": Entry(STAFF, body={"presence": "online"}),
    "GET /api/agent/agents": Entry(STAFF),
    "PUT /api/agent/agents/{username}": Entry(
        SUPERVISORS, body={"max_chats": 3}, why="the target is an agent"
    ),
    "GET /api/agent/teams": Entry(STAFF),
    "GET /api/agent/tickets": Entry(STAFF, why="each sees only the tickets they may (below)"),
    "GET /api/agent/tickets/{ticket_id}": Entry(TEAM),
    "GET /api/agent/conversations/{conversation_id}/events": Entry(TEAM),
    "POST /api/agent/conversations/{conversation_id}/events/{seq}/reveal": Entry(
        SUPERVISORS, why="KEFU_PII_REVEAL_ROLES (supervisor, admin by default), audited"
    ),
    "POST /api/agent/tickets/{ticket_id}/claim": Entry(TEAM, why="409 for a chat already taken"),
    "POST /api/agent/tickets/{ticket_id}/messages": Entry(ACTING, body={"text": "hello"}),
    "POST /api/agent/tickets/{ticket_id}/notes": Entry(
        TEAM, body={"text": "note"}, why="a team mate may leave an internal note"
    ),
    "POST /api/agent/tickets/{ticket_id}/transfer": Entry(
        ACTING, body={"to_team": "billing"}, fresh=True
    ),
    "POST /api/agent/tickets/{ticket_id}/handback": Entry(ACTING, fresh=True),
    "POST /api/agent/tickets/{ticket_id}/close": Entry(ACTING, fresh=True),
    "GET /api/agent/tickets/{ticket_id}/canned": Entry(TEAM),
    "GET /api/agent/canned": Entry(STAFF),
    "POST /api/agent/canned": Entry(SUPERVISORS, body="canned"),
    "PUT /api/agent/canned/{canned_id}": Entry(SUPERVISORS, body=_CANNED),
    "DELETE /api/agent/canned/{canned_id}": Entry(SUPERVISORS, fresh=True),
    "GET /api/agent/tickets/{ticket_id}/assist": Entry(TEAM),
    "POST /api/agent/tickets/{ticket_id}/assist/used": Entry(
        TEAM, body={"kind": "faq", "id": "no-such-entry", "rank": 1}, why="404: no such entry"
    ),
    "GET /api/agent/assist/usage": Entry(SUPERVISORS),
    "GET /api/agent/complaints/options": Entry(STAFF),
    "GET /api/agent/complaints": Entry(STAFF, why="agents see only the complaints they own"),
    "POST /api/agent/tickets/{ticket_id}/complaint": Entry(
        ACTING, body={"level": "normal"}, why="409 once A's chat is a complaint"
    ),
    "GET /api/agent/complaints/{complaint_id}": Entry(TEAM),
    "PATCH /api/agent/complaints/{complaint_id}": Entry(ACTING, body={"category": "delivery"}),
    "POST /api/agent/complaints/{complaint_id}/resolve": Entry(
        ACTING, body={"root_cause": "other", "resolution": "done"}, why="409 once resolved"
    ),
    "GET /api/agent/quality/rubric": Entry(STAFF, why="agents see what they are scored on"),
    "PUT /api/agent/quality/rubric": Entry(ADMIN, body={"criteria": [_CRITERION]}),
    "POST /api/agent/quality/samples": Entry(SUPERVISORS, body={"size": 1}),
    "GET /api/agent/quality/reviews": Entry(SUPERVISORS),
    "GET /api/agent/quality/me": Entry(STAFF, why="the reviews of one's own chats only"),
    "GET /api/agent/quality/reviews/{review_id}": Entry(
        frozenset({"owner", "supervisor", "admin"}),
        why="the reviewed agent once it is submitted (404 while pending); nobody else's",
    ),
    "POST /api/agent/quality/reviews/{review_id}/submit": Entry(
        SUPERVISORS, body={"scores": {"greeting": 2}}, why="409 once submitted"
    ),
    "DELETE /api/agent/quality/reviews/{review_id}": Entry(SUPERVISORS, fresh=True),
    "GET /api/agent/service-language": Entry(STAFF, why="agents see what their replies meet"),
    "POST /api/agent/service-language": Entry(SUPERVISORS, body="service_phrase"),
    "PUT /api/agent/service-language/{phrase_id}": Entry(SUPERVISORS, body=_PHRASE),
    "DELETE /api/agent/service-language/{phrase_id}": Entry(SUPERVISORS, fresh=True),
    "GET /api/agent/service-language/report": Entry(SUPERVISORS),
    "WS /api/agent/ws": Entry(STAFF),
    "WS /api/agent/ws subscribe": Entry(TEAM, why="a live transcript of A's chat"),
    "WS /api/agent/ws message": Entry(ACTING, why="a reply on A's chat"),
    # -- staff management: admins only ----------------------------------------------------------
    "GET /api/admin/users": Entry(ADMIN),
    "POST /api/admin/users": Entry(ADMIN, body="new_user"),
    "PATCH /api/admin/users/{username}": Entry(ADMIN, body={"display_name": "Target"}),
    "POST /api/admin/users/{username}/password": Entry(ADMIN, body={}),
    "DELETE /api/admin/users/{username}/mfa": Entry(ADMIN),
    # -- the knowledge base: admins only --------------------------------------------------------
    "GET /api/admin/kb/faqs": Entry(ADMIN),
    "POST /api/admin/kb/faqs": Entry(ADMIN, body=_FAQ),
    "GET /api/admin/kb/faqs/{entry_id}": Entry(ADMIN),
    "PATCH /api/admin/kb/faqs/{entry_id}": Entry(ADMIN, body={"answer": "Two to four days."}),
    "DELETE /api/admin/kb/faqs/{entry_id}": Entry(ADMIN, fresh=True),
    "POST /api/admin/kb/faqs/{entry_id}/publish": Entry(ADMIN),
    "POST /api/admin/kb/faqs/{entry_id}/unpublish": Entry(ADMIN),
    "POST /api/admin/kb/faqs/{entry_id}/archive": Entry(ADMIN, fresh=True),
    "GET /api/admin/kb/faqs/{entry_id}/history": Entry(ADMIN),
    "POST /api/admin/kb/faqs/{entry_id}/rollback": Entry(ADMIN, body={"version": 1}),
    "GET /api/admin/kb/search": Entry(ADMIN, params={"q": "delivery"}),
    "GET /api/admin/kb/audit": Entry(ADMIN),
    "POST /api/admin/kb/import": Entry(ADMIN, files={"file": ("faq.yaml", _YAML)}),
    "POST /api/admin/kb/import-jobs": Entry(ADMIN, files={"file": ("faq.yaml", _YAML)}),
    "POST /api/admin/kb/reindex-jobs": Entry(ADMIN),
    "GET /api/admin/kb/export": Entry(ADMIN),
    "GET /api/admin/kb/intents": Entry(ADMIN),
    "POST /api/admin/kb/intents": Entry(ADMIN, body="new_intent"),
    "GET /api/admin/kb/intents/{name}": Entry(ADMIN),
    "PATCH /api/admin/kb/intents/{name}": Entry(ADMIN, body={"description": "changed"}),
    "DELETE /api/admin/kb/intents/{name}": Entry(ADMIN, fresh=True),
    "GET /api/admin/kb/intents/{name}/history": Entry(ADMIN),
    # -- the bot's models, the learning loop, jobs: admins only ---------------------------------
    "POST /api/admin/bot/test": Entry(ADMIN, body={"text": "where is my order"}),
    "GET /api/admin/bot/models": Entry(ADMIN),
    # An unknown kind: the admin's answer is a 422, and no training starts on the test machine.
    "POST /api/admin/bot/train": Entry(ADMIN, params={"kind": "none"}),
    "POST /api/admin/bot/models/{version}/activate": Entry(ADMIN),
    # Actions: {name} is a fresh intent's name, so no action has it (404); the body names an
    # intent that does not exist (422). Either way nothing calls out from the test machine.
    "GET /api/admin/bot/actions": Entry(ADMIN),
    "POST /api/admin/bot/actions": Entry(ADMIN, body=_ACTION),
    "GET /api/admin/bot/actions/{name}": Entry(ADMIN),
    "PUT /api/admin/bot/actions/{name}": Entry(ADMIN, body=_ACTION),
    "DELETE /api/admin/bot/actions/{name}": Entry(ADMIN),
    "POST /api/admin/bot/actions/{name}/test": Entry(
        ADMIN, body={"slots": {"order_number": "SO123456"}}
    ),
    "GET /api/admin/learning/clusters": Entry(ADMIN),
    "POST /api/admin/learning/faq": Entry(ADMIN, body={"exchange_ids": [1], "entry": _FAQ}),
    "POST /api/admin/learning/intent": Entry(
        ADMIN, body={"exchange_ids": [1], "intent": "shipping", "examples": ["ship abroad?"]}
    ),
    "POST /api/admin/learning/dismiss": Entry(ADMIN, body={"exchange_ids": [1]}),
    "GET /api/admin/jobs/{job_id}": Entry(ADMIN),
    "GET /api/admin/audit-log": Entry(ADMIN),
    "GET /api/admin/audit-log/export.csv": Entry(ADMIN),
    # -- retention, legal holds, one customer's data: admins only (docs/security.md) ------------
    "GET /api/admin/privacy/retention": Entry(ADMIN),
    "POST /api/admin/privacy/purge": Entry(ADMIN, body={"dry_run": True}, why="counts only"),
    "GET /api/admin/customers/export": Entry(ADMIN, params={"email": "nobody@example.com"}),
    "POST /api/admin/customers/erase": Entry(
        ADMIN,
        body={"email": "nobody@example.com", "confirm": True},
        why="an address no conversation gave: nothing is erased",
    ),
    "GET /api/admin/conversations/{conversation_id}/legal-hold": Entry(ADMIN),
    "POST /api/admin/conversations/{conversation_id}/legal-hold": Entry(
        ADMIN, body={"reason": "authorisation matrix"}
    ),
    "DELETE /api/admin/conversations/{conversation_id}/legal-hold": Entry(
        ADMIN, body={"reason": "authorisation matrix"}
    ),
    # -- channels: admins manage them; apps call in with the channel's own secret -------------
    # {name} is a fresh intent's name, so no channel has it: the admin gets 404 unknown_channel.
    "GET /api/admin/channels": Entry(ADMIN),
    "POST /api/admin/channels": Entry(ADMIN, body="new_intent", why="a fresh name each time"),
    "GET /api/admin/channels/{name}": Entry(ADMIN),
    "PATCH /api/admin/channels/{name}": Entry(ADMIN, body={"enabled": True}),
    "POST /api/admin/channels/{name}/rotate-secret": Entry(ADMIN),
    "POST /api/admin/channels/{name}/rotate-signing-secret": Entry(ADMIN),
    # The webhook delivery log: admins read and replay; {delivery_id} names none (404).
    "GET /api/admin/channels/{channel_id}/deliveries": Entry(ADMIN),
    "GET /api/admin/channels/{channel_id}/deliveries/{delivery_id}": Entry(ADMIN),
    "POST /api/admin/channels/{channel_id}/deliveries/{delivery_id}/replay": Entry(ADMIN),
    "POST /api/admin/channels/{channel_id}/deliveries/replay-failed": Entry(
        ADMIN, why="a new channel has no failed deliveries: replays none"
    ),
    # No staff session or conversation token opens these: the channel's secret is the
    # credential (401 invalid_channel_secret; tests/channels). Here {name} names no channel:
    # 404 unknown_channel for everyone alike.
    "POST /api/channels/{name}/messages": Entry(
        ANYONE, body={"contact": {"id": "a"}, "text": "hi"}, why="the channel secret is"
    ),
    "GET /api/channels/{name}/contacts/{contact_id}/events": Entry(
        ANYONE, why="the channel secret is the credential"
    ),
    # WeChat accounts: admins add them and read a customer's chat by OpenID; WeChat's pushes
    # carry the account token's signature, no session (401 invalid_signature; tests/channels).
    "POST /api/admin/channels/wechat": Entry(ADMIN, why="no body: the admin gets a 422"),
    "GET /api/admin/channels/wechat/{name}/contacts/{open_id}": Entry(ADMIN),
    "GET /api/wechat/{name}": Entry(ANYONE, why="the account token's signature is"),
    "POST /api/wechat/{name}": Entry(ANYONE, why="the account token's signature is"),
    # -- what supervisors read: the exchange log and analytics ----------------------------------
    "GET /api/admin/exchanges": Entry(SUPERVISORS),
    "GET /api/admin/analytics/complaints": Entry(SUPERVISORS),
    "GET /api/admin/analytics/summary": Entry(SUPERVISORS),
    "GET /api/admin/analytics/export.csv": Entry(SUPERVISORS),
    # -- the live wall: the floor at a glance, for supervisors ----------------------------------
    "GET /api/supervisor/wall": Entry(SUPERVISORS),
    "WS /api/supervisor/wall/ws": Entry(SUPERVISORS),
}
