"""Wires the long-lived parts from Settings; shared by the web app and the CLI."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from bot.answer_service import FaqAnswerService
from bot.chat import ChatLimits, ChatService
from bot.intent_service import IntentService, ModelStore
from bot.policy import PolicySettings
from bot.sentiment import SentimentAnalyzer
from bot.turns import TurnConfig
from channels.service import channel_name
from core.db import make_engine
from core.pii_policy import PersonalDataPolicy
from core.settings import Settings
from handoff.canned import CannedLibrary
from handoff.complaints import ComplaintRules
from handoff.config import DeskConfig
from handoff.customer import CustomerDesk
from handoff.desk import HandoffDesk
from knowledge_base.batching import BatchingEmbedder
from knowledge_base.embeddings import Embedder, SentenceEmbedder, load_han_embedder
from knowledge_base.index import FaqIndex
from knowledge_base.onnx_backend import OnnxSentenceEmbedder, OnnxUnavailableError
from knowledge_base.service import KnowledgeBase

__all__ = ["Services", "build_services"]

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    embedder: Embedder
    kb: KnowledgeBase
    intents: IntentService
    chat: ChatService
    desk: HandoffDesk
    customer_desk: CustomerDesk
    canned: CannedLibrary
    answers: FaqAnswerService
    batchers: list[BatchingEmbedder] = field(default_factory=list)

    def close_encoders(self) -> None:
        """Stop the micro-batching workers (a stopping server, after its last turn)."""
        for batcher in self.batchers:
            batcher.close()


def _serving_encoder(settings: Settings, workers: int) -> Embedder:
    """The main model for a server: on ONNX Runtime if it gives the same vectors, else PyTorch."""
    if settings.encoder_backend == "onnx":
        try:
            return OnnxSentenceEmbedder(
                settings.embedding_model,
                cache_dir=settings.model_cache_dir / "onnx",
                workers=workers,
                threads=1,
            )
        except OnnxUnavailableError as exc:
            log.warning("the main encoder stays on PyTorch: %s", exc)
    return SentenceEmbedder(settings.embedding_model, workers=workers, threads=1)


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    han_embedder: Embedder | None = None,
    serving: bool = True,
) -> Services:
    """``embedder`` lets a caller share one loaded model between several apps (tests do).

    A server (``serving``) runs one single-threaded model instance per core for concurrent
    customers and retrains intents in the background when they change. A CLI command is one
    batch job that exits when done: torch may use every core, and it trains in the foreground.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if serving:
        # A turn's matrix products are a vector against a small matrix, one per customer:
        # OpenBLAS's own threads only busy-wait between them, on the cores the encoders need
        # (measured: one of them took 3.7 s of CPU while one customer sent 100 messages).
        threadpool_limits(limits=1, user_api="blas")
    engine = make_engine(settings.resolved_database_url)
    workers = settings.inference_workers or min(4, os.cpu_count() or 1)
    if embedder is None and serving:
        embedder = _serving_encoder(settings, workers)
    embedder = embedder or SentenceEmbedder(settings.embedding_model)
    if han_embedder is None:
        han_embedder = (
            load_han_embedder(settings.han_embedding_model, workers=workers, threads=1)
            if serving
            else load_han_embedder(settings.han_embedding_model)
        )
    batchers: list[BatchingEmbedder] = []
    if serving and settings.encoder_batch_max > 1:
        # Each customer's message is one text; concurrent ones share a model call.
        batchers = [
            BatchingEmbedder(
                model,
                workers=int(getattr(model, "instances", workers)),
                max_batch=settings.encoder_batch_max,
                wait_ms=settings.encoder_batch_wait_ms,
            )
            for model in (embedder, han_embedder)
            if model is not None
        ]
        embedder = batchers[0]
        han_embedder = batchers[1] if len(batchers) > 1 else None
    index = FaqIndex(
        embedder,
        settings.index_dir,
        han_embedder=han_embedder,
        dense_weight_latin=settings.dense_weight_latin,
        dense_weight_han=settings.dense_weight_han,
        han_model_weight=settings.han_model_weight,
    )
    kb = KnowledgeBase(engine, index)
    intents = IntentService(kb, embedder, ModelStore(settings.models_dir / "intent"))
    answers = FaqAnswerService(
        kb, ModelStore(settings.models_dir / "answer"), enabled=settings.answer_model
    )
    if serving:
        kb.on_intents_changed(intents.retrain_in_background)
    desk = HandoffDesk(
        engine,
        DeskConfig.of(settings),
        complaints=ComplaintRules.of(settings),
        channel_namer=channel_name,
    )
    chat = ChatService(
        engine,
        kb=kb,
        embedder=embedder,
        intents=intents,
        sentiment=SentimentAnalyzer(),
        policy=PolicySettings(
            faq_answer_score=settings.faq_answer_score,
            faq_clarify_score=settings.faq_clarify_score,
            faq_answer_score_zh=settings.faq_answer_score_zh,
            faq_clarify_score_zh=settings.faq_clarify_score_zh,
            faq_unknown_share=settings.faq_unknown_share,
            faq_answer_probability=settings.faq_answer_probability,
            faq_agree_probability=settings.faq_agree_probability,
            faq_clarify_probability=settings.faq_clarify_probability,
            handoff_intent_probability=settings.handoff_intent_probability,
            action_over_faq_probability=settings.action_over_faq_probability,
            max_consecutive_misses=settings.max_consecutive_misses,
            escalate_sentiment_score=settings.escalate_sentiment_score,
        ),
        limits=ChatLimits(
            max_message_chars=settings.max_message_chars,
            customer_token_ttl=timedelta(days=settings.customer_token_ttl_days),
        ),
        escalator=desk,
        turns=TurnConfig(
            lease=timedelta(seconds=settings.bot_turn_lease_seconds),
            reply_delay=settings.bot_reply_delay_ms / 1000,
        ),
        answers=answers,
        personal_data=PersonalDataPolicy.of(settings),
    )
    return Services(
        settings,
        engine,
        embedder,
        kb,
        intents,
        chat,
        desk,
        CustomerDesk(desk),
        CannedLibrary(engine),
        answers,
        batchers,
    )
