"""Wires the long-lived parts from Settings; shared by the web app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.db import make_engine
from core.settings import Settings
from knowledge_base.embeddings import Embedder, SentenceEmbedder
from knowledge_base.index import FaqIndex
from knowledge_base.service import KnowledgeBase

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    embedder: Embedder
    kb: KnowledgeBase


def build_services(settings: Settings, *, embedder: Embedder | None = None) -> Services:
    """``embedder`` lets a caller share one loaded model between several apps (tests do)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    embedder = embedder or SentenceEmbedder(settings.embedding_model)
    index = FaqIndex(
        embedder,
        settings.index_dir,
        dense_weight_latin=settings.dense_weight_latin,
        dense_weight_han=settings.dense_weight_han,
    )
    return Services(settings, engine, embedder, KnowledgeBase(engine, index))
