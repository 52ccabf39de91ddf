"""The knowledge-base admin REST API. Handlers parse, call one service method, and serialise.

Handlers are plain ``def`` so FastAPI runs them in its thread pool: embedding an edit and
writing the index never block the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile, status
from pydantic import BaseModel

from core.addresses import client_address
from core.api_types import Offset, SeqNumber
from core.audit import AuditAction, record_audit
from core.auth import AdminActor
from core.db import session_scope
from core.jobs import JobQueue, JobScope, Progress
from core.jobs_routes import Jobs
from core.language import detect_language

from . import io as kb_io
from .schemas import (
    EntryStatus,
    FaqEntryCreate,
    FaqEntryPublic,
    FaqEntryUpdate,
    IntentCreate,
    IntentPublic,
    IntentUpdate,
    RevisionPublic,
)
from .service import EntryFilter, ImportReport, KnowledgeBase

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/kb", tags=["knowledge base"])


def _kb(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.kb
    return kb


KB = Annotated[KnowledgeBase, Depends(_kb)]


class FaqPage(BaseModel):
    items: list[FaqEntryPublic]
    total: int


class RollbackRequest(BaseModel):
    version: SeqNumber


class SearchHit(BaseModel):
    entry: FaqEntryPublic
    score: float
    dense: float
    lexical: float
    phrasing: str


class SearchResult(BaseModel):
    query: str
    language: str
    hits: list[SearchHit]


class AuditPage(BaseModel):
    items: list[RevisionPublic]
    total: int


class ImportResult(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    intents_created: list[str]
    intents_updated: list[str]
    intents_unchanged: list[str]


@router.get("/faqs", response_model=FaqPage)
def list_faqs(
    kb: KB,
    _actor: AdminActor,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: str | None = None,
    language: str | None = None,
    status_: Annotated[EntryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> FaqPage:
    flt = EntryFilter(q, category, language, status_, limit, offset)
    items, total = kb.list_entries(flt)
    return FaqPage(items=[FaqEntryPublic.model_validate(i) for i in items], total=total)


@router.post("/faqs", response_model=FaqEntryPublic, status_code=status.HTTP_201_CREATED)
def create_faq(request: Request, kb: KB, actor: AdminActor, body: FaqEntryCreate) -> FaqEntryPublic:
    entry = kb.create_entry(data=body, author=actor.name, address=client_address(request))
    return FaqEntryPublic.model_validate(entry)


@router.get("/faqs/{entry_id}", response_model=FaqEntryPublic)
def get_faq(kb: KB, _actor: AdminActor, entry_id: str) -> FaqEntryPublic:
    return FaqEntryPublic.model_validate(kb.get_entry(entry_id))


@router.patch("/faqs/{entry_id}", response_model=FaqEntryPublic)
def update_faq(
    request: Request, kb: KB, actor: AdminActor, entry_id: str, body: FaqEntryUpdate
) -> FaqEntryPublic:
    address = client_address(request)
    entry = kb.update_entry(entry_id=entry_id, data=body, author=actor.name, address=address)
    return FaqEntryPublic.model_validate(entry)


@router.delete("/faqs/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_faq(request: Request, kb: KB, actor: AdminActor, entry_id: str) -> Response:
    kb.delete_entry(entry_id=entry_id, author=actor.name, address=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/faqs/{entry_id}/publish", response_model=FaqEntryPublic)
def publish_faq(request: Request, kb: KB, actor: AdminActor, entry_id: str) -> FaqEntryPublic:
    entry = kb.set_status(
        entry_id=entry_id,
        status=EntryStatus.published,
        author=actor.name,
        address=client_address(request),
    )
    return FaqEntryPublic.model_validate(entry)


@router.post("/faqs/{entry_id}/unpublish", response_model=FaqEntryPublic)
def unpublish_faq(request: Request, kb: KB, actor: AdminActor, entry_id: str) -> FaqEntryPublic:
    entry = kb.set_status(
        entry_id=entry_id,
        status=EntryStatus.draft,
        author=actor.name,
        address=client_address(request),
    )
    return FaqEntryPublic.model_validate(entry)


@router.post("/faqs/{entry_id}/archive", response_model=FaqEntryPublic)
def archive_faq(request: Request, kb: KB, actor: AdminActor, entry_id: str) -> FaqEntryPublic:
    entry = kb.set_status(
        entry_id=entry_id,
        status=EntryStatus.archived,
        author=actor.name,
        address=client_address(request),
    )
    return FaqEntryPublic.model_validate(entry)


@router.get("/faqs/{entry_id}/history", response_model=list[RevisionPublic])
def faq_history(kb: KB, _actor: AdminActor, entry_id: str) -> list[RevisionPublic]:
    return [RevisionPublic.model_validate(r) for r in kb.history("faq", entry_id)]


@router.post("/faqs/{entry_id}/rollback", response_model=FaqEntryPublic)
def rollback_faq(
    request: Request, kb: KB, actor: AdminActor, entry_id: str, body: RollbackRequest
) -> FaqEntryPublic:
    entry = kb.rollback_entry(
        entry_id=entry_id,
        version=body.version,
        author=actor.name,
        address=client_address(request),
    )
    return FaqEntryPublic.model_validate(entry)


@router.get("/search", response_model=SearchResult)
def search_faqs(
    kb: KB,
    _actor: AdminActor,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    language: str | None = None,
) -> SearchResult:
    hits = kb.search(q, k=k, language=language)
    entries = kb.get_entries([h.entry_id for h in hits])
    return SearchResult(
        query=q,
        language=detect_language(q),
        hits=[
            SearchHit(
                entry=FaqEntryPublic.model_validate(entries[h.entry_id]),
                score=h.score,
                dense=h.dense,
                lexical=h.lexical,
                phrasing=h.phrasing,
            )
            for h in hits
            if h.entry_id in entries
        ],
    )


@router.get("/audit", response_model=AuditPage)
def audit_trail(
    kb: KB,
    _actor: AdminActor,
    entity: Annotated[str | None, Query(pattern="^(faq|intent)$")] = None,
    author: Annotated[str | None, Query(max_length=128)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> AuditPage:
    """Who changed what in the knowledge base, and when; newest first."""
    rows, total = kb.audit(
        entity=entity, author=author, entity_id=entity_id, limit=limit, offset=offset
    )
    return AuditPage(items=[RevisionPublic.model_validate(r) for r in rows], total=total)


ImportFile = Annotated[UploadFile, File(description="CSV, JSON, YAML or Markdown")]
ImportFormat = Annotated[kb_io.FileFormat | None, Query(alias="format")]
ImportStatus = Annotated[EntryStatus, Query(alias="status")]


def _read_upload(request: Request, file: UploadFile) -> str:
    limit: int = request.app.state.settings.max_import_bytes
    raw = file.file.read(limit + 1)
    if len(raw) > limit:
        raise kb_io.ImportFileError(f"the file is larger than {limit} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise kb_io.ImportFileError(f"the file is not UTF-8 text (byte {exc.start})") from None


def _format(file: UploadFile, fmt: kb_io.FileFormat | None) -> kb_io.FileFormat:
    return fmt or kb_io.format_for_path(file.filename or "")


@router.post("/import", response_model=ImportResult)
def import_file(
    request: Request,
    kb: KB,
    actor: AdminActor,
    file: ImportFile,
    fmt: ImportFormat = None,
    default_status: ImportStatus = EntryStatus.published,
) -> ImportResult:
    """The whole file, validated (any error names its line), then imported in one step."""
    parsed = kb_io.parse(
        _read_upload(request, file), _format(file, fmt), default_status=default_status
    )
    report = kb.import_records(
        faqs=parsed.faqs,
        intents=parsed.intents,
        author=actor.name,
        address=client_address(request),
    )
    return _import_result(report)


@router.post("/import-jobs", status_code=status.HTTP_202_ACCEPTED)
def import_job(
    request: Request,
    jobs: Jobs,
    actor: AdminActor,
    file: ImportFile,
    fmt: ImportFormat = None,
    default_status: ImportStatus = EntryStatus.published,
) -> dict[str, Any]:
    """Validate now (a bad file is refused whole, 4xx), then import in the background: one
    import at a time across every process, run again by another process if this one dies.

    Poll ``/api/admin/jobs/{id}``: ``done``/``total`` count embedded entries.
    """
    text, file_format = _read_upload(request, file), _format(file, fmt)
    kb_io.parse(text, file_format, default_status=default_status)
    payload = {
        "text": text,
        "format": file_format.value,
        "status": default_status.value,
        "address": client_address(request),
    }
    return jobs.submit("import", actor.name, payload)


@router.post("/reindex-jobs", status_code=status.HTTP_202_ACCEPTED)
def reindex_job(jobs: Jobs, actor: AdminActor) -> dict[str, Any]:
    """Rebuild this process's FAQ index from the database, with progress."""
    return jobs.submit("reindex", actor.name)


def register_jobs(jobs: JobQueue, kb: KnowledgeBase) -> None:
    """The knowledge base's kinds of admin job: an import (any process runs it: its effect is
    the database) and a reindex (the process whose index it is)."""

    def import_(payload: dict[str, Any], actor: str, progress: Progress) -> dict[str, Any]:
        parsed = kb_io.parse(
            payload["text"], kb_io.FileFormat(payload["format"]), default_status=payload["status"]
        )
        report = kb.import_records(
            faqs=parsed.faqs,
            intents=parsed.intents,
            author=actor,
            progress=progress,
            address=payload.get("address"),
        )
        return _import_result(report).model_dump()

    def reindex(_payload: dict[str, Any], _actor: str, progress: Progress) -> dict[str, Any]:
        kb.ensure_index(progress=progress, force=True)
        state = kb.index.state()
        return {"entries": state.entries, "vectors": state.vectors, "revision": state.revision}

    jobs.register("import", import_, JobScope.cluster)
    jobs.register("reindex", reindex, JobScope.process)


def _import_result(report: ImportReport) -> ImportResult:
    return ImportResult(**vars(report))


_TEXT = {"schema": {"type": "string"}}
_OBJECT = {"schema": {"type": "object"}}
# What /export sends, by format; documented so clients (and the OpenAPI checks) expect them.
_EXPORT_TYPES = {"csv": "text/csv", "json": "application/json", "yaml": "application/yaml"}


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The knowledge base as a file in the chosen format.",
            "content": {
                "application/json": _OBJECT,
                "application/yaml": _OBJECT,
                "text/csv": _TEXT,
                "text/markdown": _TEXT,
            },
        }
    },
)
def export_file(
    request: Request,
    kb: KB,
    actor: AdminActor,
    fmt: Annotated[kb_io.FileFormat, Query(alias="format")] = kb_io.FileFormat.json,
) -> Response:
    """Every entry and intent as one file; audited (``data.exported``)."""
    body = kb_io.dump(kb.all_entries(), kb.list_intents(), fmt)
    with session_scope(kb.engine) as session:
        record_audit(
            session,
            action=AuditAction.data_exported,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="kb",
            address=client_address(request),
            detail={"what": "knowledge_base", "format": fmt.value},
        )
    return Response(
        body,
        media_type=f"{_EXPORT_TYPES.get(fmt, 'text/markdown')}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kefu-kb.{fmt}"'},
    )


@router.get("/intents", response_model=list[IntentPublic])
def list_intents(kb: KB, _actor: AdminActor) -> list[IntentPublic]:
    return [IntentPublic.model_validate(i) for i in kb.list_intents()]


@router.post("/intents", response_model=IntentPublic, status_code=status.HTTP_201_CREATED)
def create_intent(request: Request, kb: KB, actor: AdminActor, body: IntentCreate) -> IntentPublic:
    intent = kb.create_intent(data=body, author=actor.name, address=client_address(request))
    return IntentPublic.model_validate(intent)


@router.get("/intents/{name}", response_model=IntentPublic)
def get_intent(kb: KB, _actor: AdminActor, name: str) -> IntentPublic:
    return IntentPublic.model_validate(kb.get_intent(name))


@router.patch("/intents/{name}", response_model=IntentPublic)
def update_intent(
    request: Request, kb: KB, actor: AdminActor, name: str, body: IntentUpdate
) -> IntentPublic:
    address = client_address(request)
    intent = kb.update_intent(name=name, data=body, author=actor.name, address=address)
    return IntentPublic.model_validate(intent)


@router.delete("/intents/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_intent(request: Request, kb: KB, actor: AdminActor, name: str) -> Response:
    kb.delete_intent(name=name, author=actor.name, address=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/intents/{name}/history", response_model=list[RevisionPublic])
def intent_history(kb: KB, _actor: AdminActor, name: str) -> list[RevisionPublic]:
    return [RevisionPublic.model_validate(r) for r in kb.history("intent", name)]
