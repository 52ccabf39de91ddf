"""The main encoder on ONNX Runtime: exported locally once, the same answers as PyTorch, and a
damaged export is made again rather than served."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.db import make_engine
from core.settings import Settings
from kefu import db as migrations
from kefu.app import create_app
from tests.conftest import log_in

pytestmark = pytest.mark.slow

FAQS = """id,question,answer,language
track,How do I track my order?,Open My Orders.,en
refund,How long does a refund take?,Three business days.,en
address,Can I change the delivery address?,Before it ships.,en
zh-track,怎么查询订单物流？,在我的订单里查看。,zh
"""
QUESTIONS = [
    "where is my parcel",
    "money back after a return",
    "send it somewhere else",
    "快递到哪了",
]


@contextmanager
def served(tmp_path: Path, name: str, cache: Path, **settings: Any) -> Iterator[TestClient]:
    """An app that loads its own models (no shared test encoder), with the FAQs above."""
    config = Settings(
        data_dir=tmp_path / name,
        database_url="",
        model_cache_dir=cache,
        _env_file=None,
        **settings,
    )
    config.data_dir.mkdir(parents=True)
    engine = make_engine(config.resolved_database_url)
    migrations.upgrade(engine)
    engine.dispose()
    with TestClient(create_app(config)) as client:
        log_in(client)
        imported = client.post(
            "/api/admin/kb/import", files={"file": ("faqs.csv", FAQS.encode(), "text/csv")}
        )
        assert imported.status_code == 200, imported.text
        yield client


def ranking(client: TestClient) -> list[list[tuple[str, float]]]:
    results = []
    for question in QUESTIONS:
        hits = client.get("/api/admin/kb/search", params={"q": question}).json()["hits"]
        results.append([(h["entry"]["id"], h["score"]) for h in hits])
    return results


def backend(client: TestClient) -> str:
    encoders: dict[str, dict[str, Any]] = client.get("/healthz").json()["encoders"]
    return str(encoders["all-MiniLM-L6-v2"]["backend"])


def test_onnx_runtime_ranks_as_pytorch_does(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with served(tmp_path, "onnx", cache) as onnx:
        assert backend(onnx) == "onnx"
        fast = ranking(onnx)
    with served(tmp_path, "torch", cache, encoder_backend="torch") as torch:
        assert backend(torch) == "torch"
        slow = ranking(torch)
    assert [[entry for entry, _ in hits] for hits in fast] == [
        [entry for entry, _ in hits] for hits in slow
    ]
    for onnx_hits, torch_hits in zip(fast, slow, strict=True):
        for (_, a), (_, b) in zip(onnx_hits, torch_hits, strict=True):
            assert a == pytest.approx(b, abs=1e-4)
    # Exported once, into the cache every process on the machine shares.
    assert len(list((cache / "onnx").glob("*.onnx"))) == 1


def test_a_damaged_export_is_made_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with served(tmp_path, "first", cache) as first:
        expected = ranking(first)
    (graph,) = (cache / "onnx").glob("*.onnx")
    size = graph.stat().st_size
    graph.write_bytes(b"not an onnx graph")
    with served(tmp_path, "second", cache) as second:
        assert backend(second) == "onnx"
        assert ranking(second) == expected
    assert graph.stat().st_size == size


def test_a_cache_that_cannot_be_written_leaves_pytorch_serving(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be")
    with served(tmp_path, "blocked", blocked) as client:
        assert backend(client) == "torch"
        assert ranking(client)[0][0][0] == "track"
