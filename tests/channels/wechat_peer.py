"""WeChat, played on loopback by a real HTTP server that speaks its published protocol.

Both sides of the Official Account protocol, written here from the specification rather than
with the library the product uses, so a test checks the product against the protocol:

* **The API** kefu calls (``KEFU_WECHAT_API_BASE`` points here): ``GET /cgi-bin/token`` hands out
  access tokens (and can expire them), ``POST /cgi-bin/message/custom/send`` records
  customer-service messages, refusing an unknown or expired token with WeChat's errcodes.
* **The push** WeChat makes to the account's server URL: ``url_check`` (GET with ``echostr``)
  and ``push_text`` (POST of signed XML, in plain or encrypted mode), which returns the passive
  reply, decrypted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["PushAnswer", "WeChatPeer"]


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@dataclass
class PushAnswer:
    status: int
    body: str
    seconds: float
    reply: str | None = None  # the passive reply's Content, when there is one
    reply_xml: dict[str, str] = field(default_factory=dict)


class WeChatPeer:
    def __init__(self, *, app_id: str, app_secret: str, token: str, aes_key: str = "") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.token = token
        self.aes_key = aes_key
        self.account_id = "gh_kefu_test"
        self.expires_in = 7200
        self.tokens: dict[str, bool] = {}  # token -> still valid
        self.token_fetches = 0
        self.sent: list[dict[str, Any]] = []
        self.refuse_next: list[int] = []  # errcodes the next custom sends answer with
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/token":
                    self._json(404, {"errcode": 404, "errmsg": "not found"})
                    return
                if query.get("appid") != peer.app_id or query.get("secret") != peer.app_secret:
                    self._json(200, {"errcode": 40013, "errmsg": "invalid appid"})
                    return
                with peer.lock:
                    peer.token_fetches += 1
                    token = f"tok-{peer.token_fetches}-{secrets.token_hex(4)}"
                    peer.tokens[token] = True
                self._json(200, {"access_token": token, "expires_in": peer.expires_in})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                if url.path != "/cgi-bin/message/custom/send":
                    self._json(404, {"errcode": 404, "errmsg": "not found"})
                    return
                with peer.lock:
                    valid = peer.tokens.get(query.get("access_token", ""))
                    if valid is None:
                        self._json(200, {"errcode": 40001, "errmsg": "invalid credential"})
                        return
                    if not valid:
                        self._json(200, {"errcode": 42001, "errmsg": "token expired"})
                        return
                    if peer.refuse_next:
                        code = peer.refuse_next.pop(0)
                        self._json(200, {"errcode": code, "errmsg": "refused"})
                        return
                    peer.sent.append(body)
                self._json(200, {"errcode": 0, "errmsg": "ok"})

            def _json(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API side --------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, False)

    def sent_to(self, open_id: str) -> list[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m["touser"] == open_id]

    def wait_sent(self, open_id: str, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent_to(open_id)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.sent_to(open_id)

    # -- the push side -------------------------------------------------------------------------

    def signed_query(
        self, *, timestamp: int | None = None, token: str | None = None
    ) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(5)
        return {
            "timestamp": stamp,
            "nonce": nonce,
            "signature": signature(token or self.token, stamp, nonce),
        }

    def text_xml(self, open_id: str, text: str, msg_id: int) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{self.account_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{open_id}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>"
        )

    def event_xml(self, open_id: str, event: str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{self.account_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{open_id}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>"
        )

    def encrypted_body(self, xml: str, query: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The safe mode's body and query: AES-256-CBC of random(16) + length + xml + app id."""
        key = base64.b64decode(self.aes_key + "=")
        plain = os.urandom(16) + struct.pack(">I", len(xml.encode())) + xml.encode()
        plain += self.app_id.encode()
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        cipher_text = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
        body = f"<xml><ToUserName><![CDATA[{self.account_id}]]></ToUserName>"
        body += f"<Encrypt><![CDATA[{cipher_text}]]></Encrypt></xml>"
        signed = dict(query)
        signed["encrypt_type"] = "aes"
        signed["msg_signature"] = signature(
            self.token, query["timestamp"], query["nonce"], cipher_text
        )
        return body, signed

    def decrypt(self, cipher_text: str) -> str:
        key = base64.b64decode(self.aes_key + "=")
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(cipher_text)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length :].decode() == self.app_id
        return plain[20 : 20 + length].decode()

    def read_reply(self, status: int, body: str, seconds: float) -> PushAnswer:
        answer = PushAnswer(status=status, body=body, seconds=seconds)
        if status != 200 or not body.strip().startswith("<xml>"):
            return answer
        root = ET.fromstring(body)
        encrypted = root.findtext("Encrypt")
        if encrypted is not None:
            root = ET.fromstring(self.decrypt(encrypted))
        answer.reply_xml = {child.tag: child.text or "" for child in root}
        answer.reply = answer.reply_xml.get("Content")
        return answer
