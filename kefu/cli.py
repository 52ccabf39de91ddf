"""The ``kefu`` command."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from sqlmodel import Session

from core.audit import AuditAction, record_audit
from core.broker import make_broker
from core.db import session_scope
from core.errors import KefuError
from core.log_format import uvicorn_log_config
from core.log_redaction import install_log_redaction
from core.realtime import notify_sessions_ended
from core.settings import Settings
from core.staff import Role, create_user, end_user_sessions, find_user, has_users, set_password

from . import db as migrations
from .evaluation import evaluate_intents, evaluate_retrieval, evaluate_sentiment
from .identity_cli import identity_app
from .privacy_cli import customer_app, purge_command
from .progress import progress_bar
from .services import Services, build_services
from .training import refresh_models

__all__ = ["main"]

app = typer.Typer(help="kefu: customer-service chatbot with human handoff.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: import, export, index.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the bot on labelled data.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.add_typer(user_app, name="user")
app.add_typer(identity_app, name="identity")
app.add_typer(customer_app, name="customer")
app.command("purge")(purge_command)

console = Console(stderr=True)
log = logging.getLogger("kefu")
DEMO_DIR = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
HANDOFF_DEMO_DIR = Path(__file__).resolve().parent.parent / "handoff" / "demo"


def _services() -> Services:
    return build_services(Settings(), serving=False)


def _train(services: Services) -> None:
    model = refresh_models(services, progress=progress_bar, retrain=True).intent_model
    if model is None:
        return
    metrics = model.metrics
    console.print(
        f"intent model {model.version}: {int(metrics['intents'])} intents, "
        f"{int(metrics['examples'])} examples, cross-validated accuracy "
        f"{metrics['cv_accuracy']:.3f}, out-of-scope threshold {model.threshold:.3f}"
    )


def _fail(message: str, details: list[dict[str, object]] | None = None) -> typer.Exit:
    # Messages quote the user's files, so they are printed as text, never as rich markup.
    console.print("[red]error:[/red] " + escape(message))
    for detail in details or []:
        where = f"line {detail['line']}" if "line" in detail else ""
        text = f"  {where} {detail.get('field', '')}: {detail.get('message', '')}"
        console.print(text, markup=False)
    return typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Defaults to KEFU_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Defaults to KEFU_PORT.")] = None,
) -> None:
    """Serve the API, widget and consoles; rebuilds a missing or stale index first."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from .app import create_app

    settings = Settings()
    log_config = uvicorn_log_config(settings.log_format, settings.log_level)
    if log_config:
        # JSON from the first line: a shipper reads every line of the output as a record, so
        # no library may draw a progress bar there (transformers does while loading weights).
        logging.config.dictConfig(log_config)
        os.environ["TQDM_DISABLE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    services_app = create_app(settings)
    kb = services_app.state.kb
    if log_config:
        log.info("checking the FAQ index")
        kb.ensure_index()
    else:
        with progress_bar("Checking the FAQ index") as update:
            kb.ensure_index(progress=update)
    uvicorn.run(
        services_app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        log_config=log_config or LOGGING_CONFIG,
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
    if report.intents_created or report.intents_updated:
        _train(services)
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
    from bot.actions import demo_actions
    from handoff.quality import QualityReviews
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
    _train(services)
    # The demo store's order lookup, against this server's own demo order API.
    intents = [intent.name for intent in services.kb.list_intents()]
    actions = demo_actions(services.settings.resolved_public_url)
    seeded = services.chat.actions.ensure(actions, intents=intents)
    canned = yaml.safe_load((HANDOFF_DEMO_DIR / "canned.yaml").read_text("utf-8"))
    added = services.canned.ensure(canned)
    phrases = yaml.safe_load((HANDOFF_DEMO_DIR / "service_language.yaml").read_text("utf-8"))
    listed = services.desk.service_language.ensure(phrases)
    rubric = yaml.safe_load((HANDOFF_DEMO_DIR / "quality_rubric.yaml").read_text("utf-8"))
    rubric_set = QualityReviews(services.engine).ensure_rubric(rubric)
    state = services.kb.index.state()
    console.print(
        f"demo loaded: {state.entries} published entries indexed, {added} canned responses, "
        f"{listed} service-language phrases, {seeded} actions"
        + (f", a quality rubric of {len(rubric)} criteria" if rubric_set else "")
    )


@app.command()
def train() -> None:
    """Train a new intent model from the knowledge base's intents and make it current."""
    services = _services()
    try:
        _train(services)
    except ValueError as exc:
        raise _fail(str(exc)) from None


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


@eval_app.command("decisions")
def eval_decisions(
    faqs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="id,question,answer")],
    queries: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="text,faq_id (empty: unanswerable)")
    ],
    predictions: Annotated[Path, typer.Option(dir_okay=False, help="Output CSV.")],
    intents: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="text,label: intents to create and train"),
    ] = None,
) -> None:
    """Build a fresh knowledge base from FAQS (and INTENTS) and record the bot's decisions."""
    from .decision_eval import evaluate_decisions

    try:
        metrics = evaluate_decisions(
            Settings(),
            faqs_path=faqs,
            queries_path=queries,
            predictions_path=predictions,
            intents_path=intents,
        )
    except KefuError as exc:
        raise _fail(exc.message, exc.details) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(str(exc)) from None
    m = metrics
    typer.echo(
        f"known={m.known} answered_right={m.share(m.right):.4f} ({m.right}) "
        f"answered_wrong={m.share(m.wrong):.4f} ({m.wrong}) "
        f"clarified_right={m.share(m.clarified_right):.4f} ({m.clarified_right})"
    )
    typer.echo(
        f"unknown={m.unknown} unknown_answered="
        f"{m.share(m.unknown_answered, of_unknown=True):.4f} ({m.unknown_answered})"
    )
    typer.echo("answer threshold on confidence: threshold right wrong unknown_answered")
    for point in m.curve:
        typer.echo(
            f"threshold={point.threshold:.2f} right={point.right:.4f} wrong={point.wrong:.4f} "
            f"unknown_answered={point.unknown_answered:.4f}"
        )


def _create_user(username: str, role: Role, display_name: str, password: str | None) -> str:
    """Create the account; returns the password, generated when none was given. A generated
    password is temporary: it must be changed at the first sign-in."""
    services = _services()
    chosen = password or secrets.token_urlsafe(12)
    with session_scope(services.engine) as session:
        user = create_user(
            session,
            username=username,
            password=chosen,
            role=role,
            display_name=display_name,
            must_change_password=not password,
        )
        record_audit(
            session,
            action=AuditAction.user_created,
            actor_name="cli",
            target_type="staff_user",
            target_id=user.id,
            detail={"username": user.username, "role": user.role, "generated": not password},
        )
    return chosen


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[Role, typer.Option(help="agent, supervisor or admin")] = Role.agent,
    display_name: Annotated[str, typer.Option(help="Shown to customers.")] = "",
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this environment variable.")
    ] = None,
) -> None:
    """Create a staff account; prints a generated one-time password unless one is given."""
    password = os.environ.get(password_env, "") if password_env else None
    try:
        chosen = _create_user(username, role, display_name, password or None)
    except KefuError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"created {role} {username}")
    if not password:
        typer.echo(f"one-time password: {chosen}")


@user_app.command("set-password")
def user_set_password(
    username: str,
    password: Annotated[
        str | None,
        typer.Option(help="The new password; asked for (or read from standard input) if left out."),
    ] = None,
    temporary: Annotated[
        bool, typer.Option(help="The user must change it at their next sign-in.")
    ] = False,
) -> None:
    """Set a staff member's password (it must meet the policy) and end their sessions."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    services = _services()
    try:
        with session_scope(services.engine) as session:
            user = find_user(session, username)
            if user is None:
                raise _fail(f"no staff member {username!r}")
            set_password(session, user, password, temporary=temporary)
            ended = end_user_sessions(session, user.id or 0)
            user_id = user.id or 0
            record_audit(
                session,
                action=AuditAction.password_reset,
                actor_name="cli",
                target_type="staff_user",
                target_id=user_id,
                detail={"username": username, "temporary": temporary, "sessions_ended": ended},
            )
    except KefuError as exc:
        raise _fail(exc.message) from None
    _announce_sessions_ended(services.settings.broker_url, user_id)
    typer.echo(f"password set for {username}" + (" (temporary)" if temporary else ""))


def _announce_sessions_ended(broker_url: str, user_id: int) -> None:
    """Through a shared (Redis) broker, the servers close the member's open consoles; with the
    in-memory broker no server can hear this process, and the consoles close at reconnect."""
    if broker_url.startswith("memory:"):
        return

    async def announce() -> None:
        broker = make_broker(broker_url)
        try:
            await notify_sessions_ended(broker, user_id)
        finally:
            await broker.close()

    asyncio.run(announce())


@user_app.command("ensure-admin")
def user_ensure_admin() -> None:
    """On a database with no staff yet, create `admin` (password from KEFU_ADMIN_PASSWORD; a
    generated one is printed once and must be changed at the first sign-in)."""
    settings = Settings()
    services = _services()
    with Session(services.engine) as session:
        if has_users(session):
            return
    try:
        chosen = _create_user("admin", Role.admin, "Administrator", settings.admin_password or None)
    except KefuError as exc:
        raise _fail(exc.message) from None
    lines = ["created the first admin account: admin"]
    if not settings.admin_password:
        lines.append(f"one-time password: {chosen} (to be changed at the first sign-in)")
    lines.append(f"sign in at http://{settings.host}:{settings.port}/admin")
    # Framed on stdout: scripts/run prints it last before serving, after the set-up's many lines.
    Console(width=max(len(line) for line in lines) + 4, soft_wrap=False).print(
        Panel("\n".join(escape(line) for line in lines), expand=False)
    )


@eval_app.command("intents")
def eval_intents(
    train: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="CSV with text,label")],
    test: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="CSV with text,label")],
    predictions: Annotated[Path, typer.Option(dir_okay=False, help="Output CSV.")],
    label_column: Annotated[str, typer.Option(help="Column holding the label.")] = "label",
    oos_label: Annotated[
        str | None, typer.Option(help="Label of out-of-scope queries in TEST.")
    ] = None,
) -> None:
    """Train a fresh intent classifier on TRAIN as the product does, and score it on TEST."""
    try:
        metrics = evaluate_intents(
            Settings(),
            train_path=train,
            test_path=test,
            predictions_path=predictions,
            label_column=label_column,
            oos_label=oos_label,
        )
    except (KefuError, ValueError) as exc:
        raise _fail(getattr(exc, "message", str(exc))) from None
    line = (
        f"examples={metrics.examples} accuracy={metrics.accuracy:.4f} "
        f"macro_f1={metrics.macro_f1:.4f} calibration_error={metrics.calibration_error:.4f} "
        f"threshold={metrics.threshold:.4f}"
    )
    if metrics.in_scope_accuracy is not None:
        line += (
            f" in_scope_accuracy={metrics.in_scope_accuracy:.4f}"
            f" oos_recall={metrics.oos_recall:.4f} oos_precision={metrics.oos_precision:.4f}"
        )
    typer.echo(line)
    if metrics.curve:
        typer.echo("threshold  in_scope_accuracy  oos_recall  oos_precision")
        for point in metrics.curve:
            mark = "  <- chosen" if point.threshold == metrics.threshold else ""
            typer.echo(
                f"{point.threshold:9.4f}  {point.in_scope_accuracy:17.4f}  "
                f"{point.oos_recall:10.4f}  {point.oos_precision:13.4f}{mark}"
            )


@eval_app.command("sentiment")
def eval_sentiment(
    test: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="CSV with text,label (negative, neutral, positive)."
        ),
    ],
    predictions: Annotated[Path, typer.Option(dir_okay=False, help="Output CSV.")],
) -> None:
    """Run the shipped sentiment analyzer on TEST, on the vectors the bot computes for each
    message, and print per-class scores and negative precision, recall and F1."""
    try:
        metrics = evaluate_sentiment(Settings(), test_path=test, predictions_path=predictions)
    except KefuError as exc:
        raise _fail(exc.message) from None
    for row in metrics.classes:
        typer.echo(
            f"{row.label}: precision={row.precision:.4f} recall={row.recall:.4f} "
            f"f1={row.f1:.4f} support={row.support}"
        )
    negative = metrics.negative
    heads = " ".join(f"{name}={count}" for name, count in sorted(metrics.heads.items()))
    typer.echo(
        f"negative_precision={negative.precision:.4f} negative_recall={negative.recall:.4f} "
        f"negative_f1={negative.f1:.4f} heads: {heads}"
    )


@app.command()
def bench(
    url: Annotated[str, typer.Option(help="Base URL of a running kefu.")] = "http://127.0.0.1:8000",
    clients: Annotated[
        int, typer.Option(min=1, max=10_000, help="Customers connected at once.")
    ] = 1,
    messages: Annotated[
        int, typer.Option(min=1, max=100_000, help="Closed loop: messages per customer.")
    ] = 100,
    rate: Annotated[
        float | None,
        typer.Option(min=0.1, max=100_000, help="Open loop: messages a second offered, in total."),
    ] = None,
    duration: Annotated[
        float, typer.Option(min=1, max=86_400, help="Open loop: seconds to offer load for.")
    ] = 60.0,
    reply_timeout: Annotated[
        float,
        typer.Option(
            min=1, max=3600, help="Seconds a message may take, reconnections included, until lost."
        ),
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Load-test the customer WebSocket API, as N customers connected at once.

    Closed loop: each sends M messages, one after the other. Open loop (--rate): R messages a
    second in total for --duration seconds. Progress goes to stderr every second.
    """
    import asyncio
    import json

    from .bench import run_bench

    def show(line: str) -> None:
        typer.echo(line, err=True)

    result = asyncio.run(
        run_bench(
            url,
            clients,
            messages,
            rate=rate,
            duration=duration,
            progress=show,
            reply_timeout=reply_timeout,
        )
    )
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")


def main() -> None:
    install_log_redaction()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
