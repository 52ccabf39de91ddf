"""`/metrics`: what a Prometheus scrape of one process sees as customers chat."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.bot.chat_helpers import Customer


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_turns_escalations_and_model_calls_are_counted(demo_client: TestClient) -> None:
    before = scrape(demo_client)
    assert Customer(demo_client).reply_to("How do I track my order?")["kind"] == "answer"
    Customer(demo_client).say("转人工客服")
    after = scrape(demo_client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("kefu_bot_turns_total", decision="answer_faq", language="en") == 1
    assert grew("kefu_bot_turns_total", decision="escalate", language="zh") == 1
    assert grew("kefu_escalations_total", reason="asked_for_person") == 1
    assert grew("kefu_bot_turn_seconds_count") == 2
    assert grew("kefu_bot_turn_seconds_sum") > 0
    for part in ("read", "encode", "intents", "sentiment", "retrieval", "entries", "write"):
        assert grew("kefu_bot_stage_seconds_count", stage=part) == 2, part
    # Both messages went through MiniLM, the Chinese one through the Han model as well.
    assert grew("kefu_encoder_batch_texts_sum", model="all-MiniLM-L6-v2") >= 2
    assert grew("kefu_encoder_batch_texts_sum", model="multilingual-e5-small-q4") >= 1
    # The process's own figures come with the client library.
    assert value(after, "process_resident_memory_bytes") > 0


def test_connected_customer_sockets_are_a_gauge(demo_client: TestClient) -> None:
    idle = value(scrape(demo_client), "kefu_customer_sockets")
    customer = Customer(demo_client)
    with customer.socket() as first, Customer(demo_client).socket() as second:
        assert first.receive_json()["type"] == "ready"
        assert second.receive_json()["type"] == "ready"
        assert value(scrape(demo_client), "kefu_customer_sockets") == idle + 2
    assert value(scrape(demo_client), "kefu_customer_sockets") == idle


def test_metrics_carry_no_customer_words(demo_client: TestClient) -> None:
    Customer(demo_client).say("My order 78123456 for alice@example.com never came")
    text = demo_client.get("/metrics").text
    for private in ("78123456", "alice@example.com", "never came"):
        assert private not in text
