"""The ``kefu`` command."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.errors import KefuError
from core.settings import Settings

from . import db as migrations
from .evaluation import evaluate_retrieval
from .progress import progress_bar
from .services import Services, build_services

__all__ = ["main"]

app = typer.Typer(help="kefu: customer-service chatbot with human handoff.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: import, export, index.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the bot on labelled data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")

console = Console(stderr=True)
DEMO_DIR = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"


def _services() -> Services:
    return build_services(Settings())


def _fail(message: str, details: list[dict[str, object]] | None = None) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    for detail in details or []:
        where = f"line {detail['line']}" if "line" in detail else ""
        console.print(f"  {where} {detail.get('field', '')}: {detail.get('message', '')}")
    return typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Defaults to KEFU_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Defaults to KEFU_PORT.")] = None,
) -> None:
    """Serve the API, widget and consoles; rebuilds a missing or stale index first."""
    import uvicorn

    from .app import create_app

    settings = Settings()
    services_app = create_app(settings)
    kb = services_app.state.kb
    with progress_bar("Checking the FAQ index") as update:
        kb.ensure_index(progress=update)
    uvicorn.run(
        services_app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all schema migrations."""
    services = _services()
    migrations.upgrade(services.engine)
    console.print("database is at the newest schema")


@kb_app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json, yaml or md")] = None,
    status: Annotated[str, typer.Option(help="Status for entries that give none.")] = "published",
    author: Annotated[str, typer.Option(help="Recorded in each entry's history.")] = "cli",
) -> None:
    """Import FAQ entries and intents; a file with any error imports nothing."""
    from knowledge_base import io as kb_io

    services = _services()
    try:
        file_format = kb_io.FileFormat(fmt) if fmt else kb_io.format_for_path(path)
        parsed = kb_io.parse(path.read_text("utf-8-sig"), file_format, default_status=status)
        services.kb.ensure_index()
        with progress_bar(f"Importing {path.name}") as update:
            report = services.kb.import_records(
                faqs=parsed.faqs, intents=parsed.intents, author=author, progress=update
            )
    except KefuError as exc:
        raise _fail(exc.message, exc.details) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"FAQ entries: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged; intents: {len(report.intents_created)} created, "
        f"{len(report.intents_updated)} updated, {len(report.intents_unchanged)} unchanged"
    )


@kb_app.command("export")
def kb_export(
    path: Annotated[Path, typer.Argument(help="Output file, or - for standard output.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json, yaml or md")] = None,
) -> None:
    """Export every FAQ entry (and, except for CSV and Markdown, every intent)."""
    from knowledge_base import io as kb_io

    services = _services()
    try:
        file_format = kb_io.FileFormat(fmt) if fmt else kb_io.format_for_path(path)
    except (KefuError, ValueError) as exc:
        raise _fail(str(exc)) from None
    text = kb_io.dump(services.kb.all_entries(), services.kb.list_intents(), file_format)
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        path.write_text(text, "utf-8")
        console.print(f"wrote {path}")


@kb_app.command("reindex")
def kb_reindex() -> None:
    """Rebuild the FAQ index from the database."""
    services = _services()
    with progress_bar("Indexing FAQ phrasings") as update:
        services.kb.ensure_index(progress=update, force=True)
    state = services.kb.index.state()
    console.print(f"indexed {state.entries} entries ({state.vectors} phrasings) with {state.model}")


@kb_app.command("load-demo")
def kb_load_demo(
    if_empty: Annotated[bool, typer.Option(help="Only when the knowledge base is empty.")] = False,
) -> None:
    """Load the demo store's FAQ entries and intents (English and Chinese)."""
    from knowledge_base import io as kb_io

    services = _services()
    if if_empty and not services.kb.is_empty():
        console.print("knowledge base already has entries; demo not loaded")
        return
    services.kb.ensure_index()
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        parsed = kb_io.parse(path.read_text("utf-8"), kb_io.FileFormat.yaml)
        with progress_bar(f"Loading {path.name}") as update:
            services.kb.import_records(
                faqs=parsed.faqs, intents=parsed.intents, author="demo", progress=update
            )
    state = services.kb.index.state()
    console.print(f"demo loaded: {state.entries} published entries indexed")


@eval_app.command("retrieval")
def eval_retrieval(
    faqs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="id,question,answer")],
    queries: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="text,faq_id")],
    predictions: Annotated[Path, typer.Option(dir_okay=False, help="Output CSV.")],
) -> None:
    """Build a fresh knowledge base from FAQS and measure retrieval on QUERIES."""
    settings = Settings()
    try:
        metrics = evaluate_retrieval(
            settings, faqs_path=faqs, queries_path=queries, predictions_path=predictions
        )
    except KefuError as exc:
        raise _fail(exc.message, exc.details) from None
    typer.echo(
        f"queries={metrics.queries} top1={metrics.top1:.4f} top5={metrics.top5:.4f} "
        f"mrr={metrics.mrr:.4f}"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
