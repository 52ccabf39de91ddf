"""Arbitrary JSON at the customer chat API's REST bodies: only 2xx or 4xx, and every 4xx in
the app's error shape (issue 13). Property-based with hypothesis, derandomised for CI."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bot.chat_helpers import Customer

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: 2^63 and beyond included
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
ANY_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _shaped(*keys: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the endpoint's own keys (any values, some left out), so values are probed
    past the "unknown shape" stage."""
    return st.dictionaries(st.sampled_from(keys), ANY_JSON, max_size=len(keys))


# Each call: (path under the conversation, or "" for starting one; bodies to try).
CALLS: dict[str, st.SearchStrategy[Any]] = {
    "": ANY_JSON
    | _shaped(
        "language", "name", "email", "tier", "external_id", "identity_expires", "identity_hash"
    ),
    "/messages": ANY_JSON | _shaped("text", "client_id", "suggestion"),
    "/ratings": ANY_JSON | _shaped("seq", "helpful"),
    "/handoff": ANY_JSON,
    "/offline-message": ANY_JSON | _shaped("email", "text", "name"),
    "/feedback": ANY_JSON | _shaped("csat", "nps", "comment"),
    "/close": ANY_JSON,
    "/reopen": ANY_JSON,
}


def _assert_client_or_success(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert error["code"]
        assert isinstance(error["message"], str)
        assert isinstance(error["details"], list)


def test_arbitrary_json_bodies_get_2xx_or_4xx_in_the_error_shape(client: TestClient) -> None:
    customer = Customer(client)

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.sampled_from(sorted(CALLS)).flatmap(lambda p: st.tuples(st.just(p), CALLS[p])))
    def call(path_and_body: tuple[str, Any]) -> None:
        path, body = path_and_body
        url = f"/api/chat/conversations/{customer.id}{path}" if path else "/api/chat/conversations"
        _assert_client_or_success(client.post(url, json=body, headers=customer.headers))

    call()
