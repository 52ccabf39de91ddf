"""A WeChat Official Account channel (issue 16, item 3), against WeChat played on loopback by a
real HTTP server that speaks its protocol (tests/channels/wechat_peer.py): the server-URL check,
pushes in plain and encrypted mode answered passively within the five seconds, WeChat's retries
stored once, an agent's later reply through the customer-service message API with its access
token cached and refreshed, and bad input refused with nothing stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.channels.wechat_peer import PushAnswer, WeChatPeer, signature
from tests.conftest import fresh_database
from tests.handoff.desk_helpers import go_online, wait_until
from tests.live import LiveServer, load_demo, serve

ADMIN = "/api/admin/channels/wechat"
APP_ID = "wx1234567890abcdef"
SECRET = "app-secret-for-tests"
TOKEN = "kefutoken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(scope="module")
def peer() -> Iterator[WeChatPeer]:
    played = WeChatPeer(app_id=APP_ID, app_secret=SECRET, token=TOKEN, aes_key=AES_KEY)
    yield played
    played.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceEmbedder,
    peer: WeChatPeer,
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("wechat")
    with fresh_database(request.param, root) as url:
        settings = Settings(
            data_dir=root / "var",
            database_url=url,
            handoff_tick_seconds=0.2,
            wechat_api_base=peer.url,
            # The outbox holds a bot's message this long + 1 s for the passive reply.
            wechat_passive_seconds=1.5,
            webhook_poll_seconds=0.2,
            webhook_retry_first_seconds=0.2,
            _env_file=None,
        )
        with serve(settings, embedder) as running:
            load_demo(running)
            yield running


_SERIAL = iter(range(1, 10_000))


def account(server: LiveServer, *, encrypted: bool = False) -> dict[str, Any]:
    body = {
        "name": f"wx-{next(_SERIAL)}",
        "app_id": APP_ID,
        "app_secret": SECRET,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY if encrypted else "",
    }
    created = server.admin().post(ADMIN, json=body)
    assert created.status_code == 201, created.text
    record: dict[str, Any] = created.json()
    assert "app_secret" not in created.text
    assert SECRET not in created.text
    assert TOKEN not in created.text
    return record


def push(
    server: LiveServer,
    peer: WeChatPeer,
    record: dict[str, Any],
    xml: str,
    *,
    encrypted: bool = False,
    query: dict[str, str] | None = None,
) -> PushAnswer:
    signed = query or peer.signed_query()
    body = xml
    if encrypted:
        body, signed = peer.encrypted_body(xml, signed)
    started = time.perf_counter()
    response = server.http().post(
        record["server_path"], params=signed, content=body.encode("utf-8")
    )
    seconds = time.perf_counter() - started
    return peer.read_reply(response.status_code, response.text, seconds)


def test_the_server_url_check(server: LiveServer, peer: WeChatPeer) -> None:
    record = account(server)
    query = peer.signed_query() | {"echostr": "hello-echo-42"}
    ok = server.http().get(record["server_path"], params=query)
    assert (ok.status_code, ok.text) == (200, "hello-echo-42")
    forged = query | {"signature": signature("wrong-token", query["timestamp"], query["nonce"])}
    refused = server.http().get(record["server_path"], params=forged)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_signature"
    assert server.http().get("/api/wechat/no-such", params=query).status_code == 404


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_text_message_is_answered_passively(
    server: LiveServer, peer: WeChatPeer, encrypted: bool
) -> None:
    record = account(server, encrypted=encrypted)
    answer = push(
        server, peer, record, peer.text_xml("o-ada", "怎么退货？", 9001), encrypted=encrypted
    )
    assert answer.status == 200
    assert answer.reply, answer.body
    assert "退" in answer.reply
    assert answer.reply_xml["ToUserName"] == "o-ada"
    assert answer.reply_xml["FromUserName"] == peer.account_id
    assert answer.reply_xml["MsgType"] == "text"
    assert answer.seconds < 5.0
    if encrypted:
        assert "<Encrypt>" in answer.body


def test_wechats_retries_of_one_message_store_it_once(server: LiveServer, peer: WeChatPeer) -> None:
    record = account(server)
    xml = peer.text_xml("o-bo", "How long does delivery take?", 9002)
    first = push(server, peer, record, xml)
    assert first.reply
    again = push(server, peer, record, xml)
    assert (again.status, again.body) == (200, "success")
    events = _contact_events(server, record, "o-bo")
    said = [e for e in events if e["author"] == "customer"]
    assert len(said) == 1
    # Answered passively, so the outbox, past its hold, sends nothing more.
    time.sleep(3.0)
    assert peer.sent_to("o-bo") == []


def test_an_agents_reply_goes_out_by_the_customer_service_api(
    server: LiveServer, peer: WeChatPeer
) -> None:
    peer.sent.clear()  # the peer serves both backends' modules
    record = account(server)
    agent = server.staff("wx-agent")
    go_online(agent)
    answer = push(server, peer, record, peer.text_xml("o-cy", "我要找人工客服", 9003))
    assert answer.status == 200
    # The only agent online is given the chat.
    ticket = wait_until(lambda: _ticket_of(agent), what="the WeChat chat assigned")
    assert ticket["channel"] == "wechat"
    fetched = peer.token_fetches
    reply = agent.post(
        f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "您好，我是客服小李"}
    )
    assert reply.status_code in (200, 201), reply.text
    assert "您好，我是客服小李" in peer.wait_sent("o-cy", 1)[-1]
    # An expired token is fetched again once, and the message still goes.
    peer.expire_tokens()
    agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "请问订单号是多少？"})
    sent = peer.wait_sent("o-cy", 2)
    assert sent[-1] == "请问订单号是多少？"
    assert peer.token_fetches >= fetched + 1


def test_a_clarifying_question_is_answered_by_its_number(
    server: LiveServer, peer: WeChatPeer
) -> None:
    record = account(server)
    asked = push(server, peer, record, peer.text_xml("o-cy", "coupon", 9101))
    assert asked.reply, asked.body
    lines = asked.reply.splitlines()
    numbered = [line for line in lines if line[:2] in {"1.", "2.", "3."}]
    assert len(numbered) >= 2, asked.reply
    second = numbered[1].partition(". ")[2]
    picked = push(server, peer, record, peer.text_xml("o-cy", "２", 9102))
    events = _contact_events(server, record, "o-cy")
    clarify, answer = [e for e in events if e["author"] == "bot"][-2:]
    entry_id = clarify["payload"]["suggestions"][1]["entry_id"]
    assert clarify["payload"]["suggestions"][1]["question"] == second
    assert answer["payload"]["entry_id"] == entry_id, answer["payload"]
    assert picked.reply == answer["payload"]["text"]
    # A number with no question before it, or past the list, is only text.
    beyond = push(server, peer, record, peer.text_xml("o-cy", "9", 9103))
    last = [e for e in _contact_events(server, record, "o-cy") if e["author"] == "bot"][-1]
    assert last["payload"].get("entry_id") != entry_id, beyond.reply


def test_other_messages_and_events(server: LiveServer, peer: WeChatPeer) -> None:
    record = account(server)
    subscribed = push(server, peer, record, peer.event_xml("o-dee", "subscribe"))
    assert (subscribed.status, subscribed.body) == (200, "success")
    image = peer.text_xml("o-dee", "x", 9004).replace("[text]", "[image]")
    answered = push(server, peer, record, image)
    assert answered.reply == "抱歉，这里目前只能处理文字消息。"


@pytest.mark.parametrize(
    "case",
    ["bad_signature", "stale", "malformed", "doctype", "no_sender", "encrypted_bad_signature"],
)
def test_bad_pushes_are_refused_and_store_nothing(
    server: LiveServer, peer: WeChatPeer, case: str
) -> None:
    record = account(server, encrypted=case.startswith("encrypted"))
    query = peer.signed_query()
    xml = peer.text_xml("o-evil", "hello", 9100)
    expected = 400
    if case == "bad_signature":
        query["signature"] = "0" * 40
        expected = 401
    elif case == "stale":
        query = peer.signed_query(timestamp=int(time.time()) - 3600)
        expected = 401
    elif case == "malformed":
        xml = "<xml><FromUserName>o-evil</xml"
    elif case == "doctype":
        xml = '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>'
    elif case == "no_sender":
        xml = xml.replace("<FromUserName><![CDATA[o-evil]]></FromUserName>", "")
    if case == "encrypted_bad_signature":
        body, signed = peer.encrypted_body(xml, query)
        signed["msg_signature"] = "f" * 40
        response = server.http().post(record["server_path"], params=signed, content=body)
        expected = 401
    else:
        response = server.http().post(record["server_path"], params=query, content=xml)
    assert response.status_code == expected, response.text
    assert response.json()["error"]["code"] in {"invalid_signature", "invalid_wechat_message"}
    assert _contact_events(server, record, "o-evil") == []


def test_bad_accounts_are_refused(server: LiveServer) -> None:
    admin = server.admin()
    good = {"name": "wx-good", "app_id": APP_ID, "app_secret": SECRET, "token": TOKEN}
    for field, value in [
        ("app_id", "not-an-app-id"),
        ("token", "x"),
        ("encoding_aes_key", "short"),
        ("name", "Bad Name"),
    ]:
        refused = admin.post(ADMIN, json=good | {field: value})
        assert refused.status_code == 422, (field, refused.text)
    assert admin.post(ADMIN, json=good).status_code == 201
    # One namespace and one record for every kind of channel.
    for path, body in [(ADMIN, good), ("/api/admin/channels", {"name": "wx-good"})]:
        again = admin.post(path, json=body)
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "duplicate_name"
        assert again.json()["error"]["details"] == [{"code": "duplicate_name", "field": "name"}]
    audit = admin.get("/api/admin/audit-log", params={"action": "channel.created", "limit": 200})
    made = [e for e in audit.json()["items"] if e["detail"].get("name") == "wx-good"]
    assert [e["detail"] for e in made] == [{"name": "wx-good", "kind": "wechat", "app_id": APP_ID}]


def _ticket_of(agent: httpx.Client) -> dict[str, Any] | None:
    """The agent's WeChat chat, once it is theirs (one reaches the desk in this module)."""
    mine = agent.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
    return next((t for t in mine if t.get("channel") == "wechat"), None)


def _contact_events(server: LiveServer, record: dict[str, Any], open_id: str) -> list[Any]:
    found = server.admin().get(f"/api/admin/channels/wechat/{record['name']}/contacts/{open_id}")
    if found.status_code == 404:
        return []
    assert found.status_code == 200, found.text
    events: list[Any] = found.json()["events"]
    return events


@pytest.fixture(scope="module")
def slow_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder, peer: WeChatPeer
) -> Iterator[LiveServer]:
    """A bot slower than the passive budget: its answers must go by the API instead."""
    root = tmp_path_factory.mktemp("wechat-slow")
    settings = Settings(
        data_dir=root / "var",
        database_url=f"sqlite:///{root / 'kefu.db'}",
        wechat_api_base=peer.url,
        wechat_passive_seconds=0.2,
        bot_reply_delay_ms=600,
        webhook_poll_seconds=0.2,
        _env_file=None,
    )
    with serve(settings, embedder) as running:
        load_demo(running)
        yield running


def test_an_answer_too_slow_for_a_passive_reply_goes_by_the_api(
    slow_server: LiveServer, peer: WeChatPeer
) -> None:
    record = account(slow_server)
    answer = push(slow_server, peer, record, peer.text_xml("o-slow", "怎么退货？", 9200))
    assert (answer.status, answer.body) == (200, "success")
    sent = peer.wait_sent("o-slow", 1)
    assert len(sent) == 1
    assert "退" in sent[0]
    # Exactly once: not also passively, not twice by the outbox.
    time.sleep(1.5)
    assert len(peer.sent_to("o-slow")) == 1
