"""The `instcat` command."""

import json
import os
import sys
from pathlib import Path
from typing import Any, TypeVar

import click

from instcat.cli_dev import dev
from instcat.cli_lists import lists_group
from instcat.config import Settings

T = TypeVar("T")


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """instcat: the catalogue of domestic scientific instruments and the substitution list.

    The database comes from INSTCAT_DATABASE_URL (default: instcat.db in this folder).
    """
    ctx.obj = Settings()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; about one per CPU core for throughput (each keeps its own caches).",
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Run the HTTP API (uvicorn with uvloop and httptools; the app writes its own access log)."""
    import uvicorn

    # Workers share one listening socket. By default a worker's event loop (libuv) accepts
    # every pending connection at once, so clients that connect together and keep their
    # connections (16 vendors submitting trials, say) can all land on one worker while the
    # others idle. One accept per wake-up spreads them; the workers inherit the setting.
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    uvicorn.run(
        "instcat.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        # The fast event loop and HTTP parser that the benchmarks measure (bench/servers.py).
        loop="uvloop",
        http="httptools",
        access_log=False,
        # Naming the server software and its version only helps someone looking for a hole.
        server_header=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from instcat.migrate import current_revision, upgrade

    upgrade(settings.database_url, revision)
    click.echo(f"database at revision {current_revision(settings.database_url)}")


@db.command("current")
@click.pass_obj
def db_current(settings: Settings) -> None:
    """Print the revision the database is at."""
    from instcat.migrate import current_revision

    click.echo(current_revision(settings.database_url) or "empty")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(settings: Settings, path: Path) -> None:
    """Write a consistent copy of the live database to PATH (SQLite file, or pg_dump archive)."""
    from instcat.backup import backup
    from instcat.errors import BackupError

    try:
        backup(settings.database_url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {path}")


@db.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
@click.pass_obj
def db_restore(settings: Settings, path: Path, yes: bool) -> None:
    """Replace the database's contents with the backup at PATH."""
    from instcat.backup import restore
    from instcat.errors import BackupError

    if not yes:
        click.confirm("This replaces every record in the database. Continue?", abort=True)
    try:
        restore(settings.database_url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"database restored from {path}")


@main.command("seed")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder with the bundled JSON files (default: the repository's seed/).",
)
@click.pass_obj
def seed_command(settings: Settings, directory: Path | None) -> None:
    """Load the bundled data; records already there are left as they are."""
    from instcat.db import run_with_database
    from instcat.errors import SeedError
    from instcat.seeding import seed

    try:
        created = run_with_database(
            settings, lambda database: seed(database, directory or settings.seed_dir)
        )
    except SeedError as error:
        raise click.ClickException(str(error)) from error
    summary = ", ".join(f"{n} {what}" for what, n in sorted(created.items())) or "nothing new"
    click.echo(f"seed: created {summary}")


@main.group()
def users() -> None:
    """Users and their tokens."""


@users.command("add")
@click.option("--name", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "reviewer", "vendor", "purchaser"])
)
@click.option("--vendor", "vendor_slug", help="Vendor slug (vendor role only).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …, "token": …}.')
@click.pass_obj
def users_add(
    settings: Settings, name: str, role: str, vendor_slug: str | None, as_json: bool
) -> None:
    """Add a user and print its token (shown only this once)."""
    from pydantic import ValidationError

    from instcat.accounts.schemas import UserCreate
    from instcat.accounts.service import create_user
    from instcat.auth import SYSTEM
    from instcat.db import run_with_database
    from instcat.errors import DomainError

    try:
        data = UserCreate.model_validate({"name": name, "role": role, "vendor": vendor_slug})
    except ValidationError as error:
        raise click.ClickException(str(error)) from error

    async def work(database: Any) -> Any:
        async with database.write() as session:
            return await create_user(session, SYSTEM, data)

    try:
        user = run_with_database(settings, work)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    if as_json:
        click.echo(json.dumps({"id": user.id, "token": user.token}))
    else:
        click.echo(f"user {user.id} ({user.role}) token: {user.token}")
        click.echo("The token is not stored in clear and will not be shown again.", err=True)


@users.command("revoke")
@click.argument("user_id", type=int)
@click.pass_obj
def users_revoke(settings: Settings, user_id: int) -> None:
    """Revoke a user's token."""
    from instcat.accounts.service import AccountService
    from instcat.auth import SYSTEM
    from instcat.db import run_with_database
    from instcat.errors import DomainError

    try:
        run_with_database(
            settings, lambda database: AccountService(database).revoke(SYSTEM, user_id)
        )
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"user {user_id}: token revoked")


@main.command("openapi")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output (api_spec/openapi.json is the committed copy).",
)
def openapi_command(output: Path | None) -> None:
    """Print the OpenAPI document the app serves."""
    from instcat.app import create_app, openapi_document

    document = openapi_document(create_app(Settings(database_url="sqlite://")))
    if output is None:
        click.echo(document, nl=False)
    else:
        output.write_text(document, encoding="utf-8")
        click.echo(f"wrote {output}")


main.add_command(lists_group)
main.add_command(dev)


if __name__ == "__main__":
    sys.exit(main())
