"""``kefu purge`` and ``kefu customer export|erase`` (docs/security.md, "Retention and erasure").

They need only the database, so they load no model. The audit log names the actor "cli".
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from core.db import make_engine
from core.errors import KefuError
from core.settings import Settings

from .customer_data import AuditedActor, CustomerSelector, erase_customer, export_customer
from .progress import progress_bar
from .retention import RetentionPolicy, purge

__all__ = ["customer_app", "purge_command"]

customer_app = typer.Typer(help="One customer's data: export, erase.", no_args_is_help=True)
console = Console(stderr=True)
CLI = AuditedActor(name="cli")

Email = Annotated[str | None, typer.Option(help="The e-mail address the customer gave.")]
ExternalId = Annotated[
    str | None, typer.Option(help="The embedding site's id, from a signed identity.")
]
ConversationOption = Annotated[str | None, typer.Option(help="One conversation's id.")]


def _fail(message: str) -> typer.Exit:
    console.print("[red]error:[/red] " + escape(message))
    return typer.Exit(code=2)


def purge_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Conversations deleted per transaction.")
    ] = 200,
) -> None:
    """Delete conversations past KEFU_RETENTION_DAYS (legal holds excepted), audit entries
    past KEFU_AUDIT_RETENTION_DAYS and stale sign-in rows; prints the rows per table."""
    settings = Settings()
    policy = RetentionPolicy.of(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        if dry_run:
            report = purge(engine, policy, dry_run=True, actor_name=CLI.name)
        else:
            with progress_bar("Purging conversations") as update:
                report = purge(
                    engine,
                    policy,
                    dry_run=False,
                    actor_name=CLI.name,
                    batch_size=batch_size,
                    progress=update,
                )
    finally:
        engine.dispose()
    typer.echo("rows that would be deleted:" if dry_run else "rows deleted:")
    for name, count in report.counts.items():
        typer.echo(f"  {name:<24}{count:>12}")
    typer.echo(
        f"{'dry run: ' if dry_run else ''}conversations last active before "
        f"{report.cutoff:%Y-%m-%d} ({policy.conversation_days} days); "
        f"{report.held} kept by a legal hold, {report.with_people} still with a person"
    )


def _selector(
    email: str | None, external_id: str | None, conversation: str | None
) -> CustomerSelector:
    try:
        return CustomerSelector.parse(
            email=email, external_id=external_id, conversation_id=conversation
        )
    except KefuError as exc:
        raise _fail(exc.message) from None


@customer_app.command("export")
def customer_export(
    email: Email = None, external_id: ExternalId = None, conversation: ConversationOption = None
) -> None:
    """Write everything stored about one customer to standard output as JSON."""
    selector = _selector(email, external_id, conversation)
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        data = export_customer(engine, selector, actor=CLI)
    finally:
        engine.dispose()
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    console.print(f"exported {data['counts']['conversations']} conversations", markup=False)


@customer_app.command("erase")
def customer_erase(
    email: Email = None,
    external_id: ExternalId = None,
    conversation: ConversationOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the data is deleted for good.")
    ] = False,
) -> None:
    """Delete everything stored about one customer, except conversations under a legal hold
    or still with a person (listed)."""
    selector = _selector(email, external_id, conversation)
    if not yes:
        raise _fail("erasure deletes the customer's data for good; add --yes to confirm")
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        result = erase_customer(engine, selector, confirm=True, actor=CLI)
    finally:
        engine.dispose()
    erased = result["erased"]
    typer.echo(", ".join(f"{name}: {count}" for name, count in erased.items()))
    if result["held"]:
        typer.echo(f"kept under a legal hold: {' '.join(result['held'])}")
    if result["with_people"]:
        typer.echo(f"kept, still with a person: {' '.join(result['with_people'])}")
