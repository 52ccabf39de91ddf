"""WeChat's HTTP API as kefu uses it: the access token and the customer-service message.

* ``GET {base}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` gives an
  ``access_token`` valid for ``expires_in`` seconds (7,200). Fetching a new one retires the old
  one within minutes, so the token lives in the database (``channel_token``), shared by every
  process, and is fetched again only when it is within ``REFRESH_MARGIN`` of expiring or
  WeChat calls it invalid (errcode 40001, 40014, 42001), then the call is made once more.
* ``POST {base}/cgi-bin/message/custom/send?access_token=…`` with
  ``{"touser": OpenID, "msgtype": "text", "text": {"content": …}}`` sends a message outside
  the five seconds of a passive reply, up to 48 hours after the customer last wrote.

The base URL is ``KEFU_WECHAT_API_BASE`` (tests point it at a server on loopback).
Blocking (httpx's client): callers run it in a thread.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from core.clock import utcnow

from .models import ChannelToken
from .wechat import WeChatAccount

__all__ = ["REFRESH_MARGIN", "WeChatApi", "WeChatApiError"]

REFRESH_MARGIN = timedelta(minutes=5)
# The token is not (or no longer) valid: fetch another and try again once.
_TOKEN_ERRORS = {40001, 40014, 42001}
# Retrying cannot help: the customer's 48 hours are over (45015), the OpenID is not this
# account's (40003), they unfollowed (43004), or the reply quota for their message is spent
# (45047), or the app id / secret are wrong (40013, 40125, 40164: the address is not on the
# account's IP whitelist).
_PERMANENT_ERRORS = {40003, 40013, 40125, 40164, 43004, 45015, 45047}
# WeChat's own limit for a customer-service text message is 2,048 bytes.
MAX_TEXT_BYTES = 2048


class WeChatApiError(Exception):
    """A call WeChat refused or that did not reach it; ``permanent`` when retrying is useless."""

    def __init__(self, message: str, *, errcode: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.errcode = errcode
        self.permanent = permanent


def _clip(text: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_TEXT_BYTES:
        return text
    return encoded[: MAX_TEXT_BYTES - 3].decode("utf-8", "ignore") + "…"


class WeChatApi:
    def __init__(
        self,
        engine: Engine,
        base_url: str,
        *,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._engine = engine
        self._base = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    # -- the token -----------------------------------------------------------------------------

    def access_token(self, channel_id: int, account: WeChatAccount, *, stale: str = "") -> str:
        """The channel's current token; a fresh one when the stored one is about to expire or
        is ``stale`` (the one WeChat just refused). Another process may have fetched a newer
        one in the meantime: that one is used as it is."""
        with Session(self._engine) as session:
            row = session.get(ChannelToken, channel_id)
            if (
                row is not None
                and row.access_token != stale
                and row.expires_at - REFRESH_MARGIN > utcnow()
            ):
                return row.access_token
        return self._fetch(channel_id, account)

    def _fetch(self, channel_id: int, account: WeChatAccount) -> str:
        answer = self._call(
            "GET",
            "/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": account.app_id,
                "secret": account.app_secret,
            },
        )
        token = answer.get("access_token")
        expires_in = answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatApiError("WeChat's token answer has no access_token")
        fetched = utcnow()
        with Session(self._engine) as session:
            row = session.get(ChannelToken, channel_id) or ChannelToken(
                channel_id=channel_id, access_token=token, expires_at=fetched
            )
            row.access_token = token
            row.expires_at = fetched + timedelta(seconds=expires_in)
            row.fetched_at = fetched
            session.add(row)
            session.commit()
        return token

    # -- messages ------------------------------------------------------------------------------

    def send_text(self, channel_id: int, account: WeChatAccount, open_id: str, text: str) -> None:
        """One customer-service text message; raises ``WeChatApiError``."""
        body = {"touser": open_id, "msgtype": "text", "text": {"content": _clip(text)}}
        token = self.access_token(channel_id, account)
        try:
            self._call("POST", "/cgi-bin/message/custom/send", token=token, body=body)
        except WeChatApiError as error:
            if error.errcode not in _TOKEN_ERRORS:
                raise
            token = self.access_token(channel_id, account, stale=token)
            self._call("POST", "/cgi-bin/message/custom/send", token=token, body=body)

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token
        try:
            response = self._client.request(
                method,
                self._base + path,
                params=query,
                # WeChat reads UTF-8 JSON; \\u escapes of Chinese would count against the limit.
                content=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
                headers=None if body is None else {"Content-Type": "application/json"},
            )
        except httpx.HTTPError as error:
            raise WeChatApiError(f"WeChat did not answer: {type(error).__name__}") from None
        if response.status_code != 200:
            raise WeChatApiError(f"WeChat answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise WeChatApiError("WeChat's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WeChatApiError("WeChat's answer is not a JSON object")
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None):
            code = int(errcode) if isinstance(errcode, int) else None
            raise WeChatApiError(
                f"WeChat refused the call: errcode {errcode} ({answer.get('errmsg', '')})",
                errcode=code,
                permanent=code in _PERMANENT_ERRORS,
            )
        return answer
