"""The out-of-scope threshold: chosen on simulated traffic, capped so answerable questions stay.

The selection is pure and gets table-driven cases on small, project-written arrays; the demo
knowledge base then shows the trained threshold at work through "test the bot".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bot.intents import choose_threshold, operating_point

# (case, [(P(right), answered right, unknown intent)], keep, expected threshold)
Rows = list[tuple[float, bool, bool]]

SEPARABLE: Rows = [
    (0.8, True, False),
    (0.9, True, False),
    (0.95, True, False),
    (0.1, False, True),
    (0.2, False, True),
]
# Unknown messages score as high as most right answers: balancing alone would reject 10 of 20.
OVERLAPPING: Rows = [
    *((0.30 + 0.03 * i, True, False) for i in range(20)),
    *((0.58 + 0.01 * i, False, True) for i in range(20)),
]
# Rejecting a wrong answer costs no in-scope accuracy; nothing is gained above the wrong one.
WRONG_ANSWER: Rows = [(0.9, True, False), (0.6, False, False), (0.1, False, True)]
NO_UNKNOWN: Rows = [(0.4, True, False), (0.7, True, False), (0.2, False, False)]


@pytest.mark.parametrize(
    ("rows", "keep", "expected"),
    [
        pytest.param(SEPARABLE, 0.95, 0.5, id="separable: midway between the groups"),
        pytest.param(OVERLAPPING, 0.95, 0.33, id="overlap: capped at one rejected right answer"),
        pytest.param(OVERLAPPING, 1.0, 0.30, id="overlap, keep all: no right answer rejected"),
        pytest.param(OVERLAPPING, 0.5, 0.6, id="overlap, keep half: capped at the median"),
        pytest.param(SEPARABLE, 0.5, 0.5, id="separable, keep half: balance is below the cap"),
        pytest.param(WRONG_ANSWER, 0.95, 0.35, id="ties go to the lower threshold"),
        pytest.param(NO_UNKNOWN, 0.95, 0.2, id="no unknown messages: accept everything"),
    ],
)
def test_threshold_selection(rows: Rows, keep: float, expected: float) -> None:
    probability = np.asarray([r[0] for r in rows])
    right = np.asarray([r[1] for r in rows])
    unknown = np.asarray([r[2] for r in rows])
    threshold = choose_threshold(probability, right, unknown, keep=keep)
    assert threshold == pytest.approx(expected)
    in_scope, _ = operating_point(probability, right, unknown, threshold)
    answered = int(right.sum())
    assert in_scope * len(right[~unknown]) >= np.ceil(keep * answered) - 1e-9


@pytest.mark.parametrize(
    ("threshold", "in_scope", "recall"),
    [(0.0, 3 / 4, 0.0), (0.5, 2 / 4, 2 / 3), (0.95, 0.0, 1.0)],
)
def test_operating_point(threshold: float, in_scope: float, recall: float) -> None:
    probability = np.asarray([0.9, 0.7, 0.4, 0.6, 0.2, 0.3, 0.8])
    right = np.asarray([True, True, True, False, False, False, False])
    unknown = np.asarray([False, False, False, False, True, True, True])
    assert operating_point(probability, right, unknown, threshold) == pytest.approx(
        (in_scope, recall)
    )


def explain(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post("/api/admin/bot/test", json={"text": text})
    assert response.status_code == 200, response.text
    intent: dict[str, Any] = response.json()["intent"]
    return intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what's the weather on Mars", None),
        ("recommend me a pasta recipe", None),
        ("where is my parcel right now", "order_status"),
        ("please connect me with a real person", "human_agent"),
        ("can I get a receipt for my purchase", "invoice_request"),
    ],
)
def test_demo_rejects_the_unknown_and_keeps_paraphrases(
    demo_client: TestClient, text: str, intent: str | None
) -> None:
    found = explain(demo_client, text)
    if intent is None:
        assert found["in_scope"] is False
    else:
        assert found["in_scope"] is True
        assert found["name"] == intent
