"""``kefu identity sign``: what an embedding site's server computes for a signed-in customer
(docs/security.md, "Signed identity"), for trying the setup and for sites that shell out.

The secret is ``KEFU_IDENTITY_SECRET``, as the server reads it. Prints the widget's data
attributes, ready to paste into the script tag, or ``--json``.
"""

from __future__ import annotations

import html
import json
import time
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import KefuError
from core.identity import IdentityClaims, sign_identity
from core.settings import Settings

__all__ = ["identity_app"]

identity_app = typer.Typer(help="Signed customer identity for the widget.", no_args_is_help=True)
console = Console(stderr=True)


@identity_app.command("sign")
def sign(
    external_id: Annotated[
        str | None, typer.Option("--id", help="Your site's id for the customer.")
    ] = None,
    email: Annotated[str | None, typer.Option(help="The customer's e-mail address.")] = None,
    name: Annotated[str | None, typer.Option(help="The customer's name.")] = None,
    tier: Annotated[Literal["standard", "vip"], typer.Option(help="standard or vip.")] = "standard",
    ttl_minutes: Annotated[
        float,
        typer.Option(min=0, help="Minutes the signature is valid; 0: no expiry (not advised)."),
    ] = 60 * 24,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead.")] = False,
) -> None:
    """Sign a customer's identity with KEFU_IDENTITY_SECRET."""
    secret = Settings().identity_secret
    if not secret:
        console.print("[red]error:[/red] KEFU_IDENTITY_SECRET is not set")
        raise typer.Exit(code=2)
    if not external_id and not email:
        console.print("[red]error:[/red] give --id or --email (or both)")
        raise typer.Exit(code=2)
    claims = IdentityClaims(
        external_id=external_id or None,
        email=email or None,
        name=name or None,
        tier=tier,
        expires=int(time.time() + ttl_minutes * 60) if ttl_minutes else None,
    )
    try:
        signature = sign_identity(secret, claims)
    except KefuError as exc:
        console.print("[red]error:[/red] " + escape(exc.message))
        raise typer.Exit(code=2) from exc
    attributes = {
        "customer-id": claims.external_id,
        "customer-email": claims.email,
        "customer-name": claims.name,
        "customer-tier": claims.tier,
        "customer-expires": None if claims.expires is None else str(claims.expires),
        "customer-hash": signature,
    }
    if as_json:
        print(json.dumps({k: v for k, v in attributes.items() if v is not None}))
        return
    print(
        " ".join(
            f'data-{key}="{html.escape(value, quote=True)}"'
            for key, value in attributes.items()
            if value is not None
        )
    )
