"""The FAQ index survives crashes and outside changes: whatever is on disk when the app starts,
it serves an index that matches the database."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.cli_runner import KEFU, kefu_env, run_kefu
from tests.conftest import staff_client
from tests.factories import faq, top_id

DISTINCT = [
    ("en-track", "How do I track my order?", "Where is my parcel?", "en"),
    ("en-pay", "Which payment methods do you accept?", "Can I pay with PayPal?", "en"),
    ("zh-refund", "退款多久到账？", "钱什么时候退回来", "zh"),
    ("zh-invoice", "怎么开发票？", "能开增值税专用发票吗", "zh"),
]


def many_faqs_csv(count: int) -> str:
    """A few distinct entries among many similar ones, two phrasings each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "question", "answer", "language", "alternatives"])
    for entry_id, question, alternative, language in DISTINCT:
        writer.writerow([entry_id, question, f"Answer for {entry_id}.", language, alternative])
    for number in range(count - len(DISTINCT)):
        writer.writerow(
            [
                f"model-{number:03d}",
                f"What is the warranty on lamp model {number}?",
                f"Lamp model {number} has a {number % 5 + 1}-year warranty.",
                "en",
                f"warranty period for model {number}",
            ]
        )
    return buffer.getvalue()


def health_index(client: TestClient) -> dict[str, Any]:
    index: dict[str, Any] = client.get("/healthz").json()["index"]
    return index


def assert_distinct_entries_found(client: TestClient) -> None:
    for entry_id, question, alternative, _language in DISTINCT:
        assert top_id(client, question) == entry_id
        assert top_id(client, alternative) == entry_id


@pytest.mark.slow
def test_a_reindex_killed_midway_leaves_a_usable_index(
    migrated: Settings, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    entries = 300
    faqs = tmp_path / "many.csv"
    faqs.write_text(many_faqs_csv(entries), "utf-8")
    imported = run_kefu(migrated, "kb", "import", str(faqs))
    assert imported.returncode == 0, imported.stderr
    saved = (migrated.index_dir / "CURRENT").read_text()

    # An interactive terminal makes rich redraw the progress bar while it runs.
    env = kefu_env(migrated, TTY_INTERACTIVE="1", TTY_COMPATIBLE="1")
    started = threading.Event()
    output = bytearray()

    def watch(stream: IO[bytes]) -> None:
        while chunk := os.read(stream.fileno(), 4096):
            output.extend(chunk)
            progress = re.findall(rb"Indexing FAQ phrasings.*?(\d+)/(\d+)", bytes(output))
            if any(0 < int(done) < int(total) for done, total in progress):
                started.set()

    with subprocess.Popen(
        [str(KEFU), "kb", "reindex"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as reindex:
        assert reindex.stdout is not None
        watcher = threading.Thread(target=watch, args=(reindex.stdout,), daemon=True)
        watcher.start()
        try:
            assert started.wait(timeout=180), output.decode(errors="replace")
            os.kill(reindex.pid, signal.SIGKILL)
        finally:
            reindex.kill()
            reindex.wait(timeout=30)
            watcher.join(timeout=30)
    assert reindex.returncode == -signal.SIGKILL
    assert b"indexed" not in output

    with staff_client(migrated, embedder) as client:
        index = health_index(client)
        assert (index["state"], index["entries"], index["vectors"]) == ("ready", entries, 600)
        assert_distinct_entries_found(client)
        assert top_id(client, "warranty period for model 123") == "model-123"
    # The app served the generation saved before the crash; it did not need to rebuild.
    assert (migrated.index_dir / "CURRENT").read_text() == saved


def _delete_directory(index_dir: Path) -> None:
    shutil.rmtree(index_dir)


def _current_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def _other_model(index_dir: Path) -> None:
    meta_path = _current_generation(index_dir) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["model"] = "paraphrase-multilingual-MiniLM-L12-v2"
    meta_path.write_text(json.dumps(meta))


def _truncated_vectors(index_dir: Path) -> None:
    dense = _current_generation(index_dir) / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 2])


def _truncated_meta(index_dir: Path) -> None:
    meta = _current_generation(index_dir) / "meta.json"
    meta.write_text(meta.read_text()[:40])


def _dangling_pointer(index_dir: Path) -> None:
    (index_dir / "CURRENT").write_text("gen-that-was-never-written")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "deleted": _delete_directory,
    "other-model": _other_model,
    "truncated-vectors": _truncated_vectors,
    "truncated-meta": _truncated_meta,
    "dangling-pointer": _dangling_pointer,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_missing_or_unusable_index_is_rebuilt_on_start(
    migrated: Settings, embedder: SentenceEmbedder, damage: str
) -> None:
    with staff_client(migrated, embedder) as client:
        for entry_id, question, alternative, language in DISTINCT:
            faq(
                client,
                id=entry_id,
                question=question,
                alternatives=[alternative],
                language=language,
            )
        built = health_index(client)
    DAMAGE[damage](migrated.index_dir)

    with staff_client(migrated, embedder) as client:
        index = health_index(client)
        assert index["state"] == "ready"
        assert (index["entries"], index["vectors"]) == (4, 8)
        assert index["revision"] == built["revision"]
        assert_distinct_entries_found(client)
    meta = json.loads((_current_generation(migrated.index_dir) / "meta.json").read_text())
    assert meta["model"] == "all-MiniLM-L6-v2+multilingual-e5-small-q4"
    assert len(meta["phrasings"]) == 8


@pytest.mark.slow
def test_an_index_left_stale_by_the_cli_is_rebuilt_on_start(
    migrated: Settings, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    with staff_client(migrated, embedder) as client:
        faq(client, id="en-track", question="How do I track my order?")
        assert health_index(client)["entries"] == 1

    # Another machine shares the database but not this data directory: the saved index is stale.
    elsewhere = migrated.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "id,question,answer\nen-pay,Which payment methods do you accept?,Cards and PayPal.\n",
        "utf-8",
    )
    assert run_kefu(elsewhere, "kb", "import", str(payments)).returncode == 0
    with staff_client(migrated, embedder) as client:
        index = health_index(client)
        assert (index["state"], index["entries"]) == ("ready", 2)
        assert top_id(client, "can I pay with PayPal") == "en-pay"
        assert top_id(client, "where is my parcel") == "en-track"

    # The CLI on this machine, while no server runs.
    refunds = tmp_path / "refunds.csv"
    refunds.write_text("id,question,answer\nzh-refund,退款多久到账？,5个工作日内到账。\n", "utf-8")
    assert run_kefu(migrated, "kb", "import", str(refunds)).returncode == 0
    with staff_client(migrated, embedder) as client:
        index = health_index(client)
        assert (index["state"], index["entries"]) == ("ready", 3)
        assert top_id(client, "退款多久能到账") == "zh-refund"
        assert top_id(client, "can I pay with PayPal") == "en-pay"
