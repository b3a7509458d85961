"""`instcat lists …`: generating, publishing and exporting substitution lists."""

from pathlib import Path
from typing import Any

import click

from instcat.config import Settings


@click.group("lists")
def lists_group() -> None:
    """Substitution lists."""


@lists_group.command("generate")
@click.option("--label", required=True, help="Unique label, e.g. 2026-Q4.")
@click.option("--category", "categories", multiple=True, help="Category code (repeatable).")
@click.option("--min-grade", type=click.Choice(["A", "B", "C"]), default="C", show_default=True)
@click.option("--min-feedback", type=click.IntRange(0), default=0, show_default=True)
@click.option("--min-rating", type=click.FloatRange(1, 5))
@click.option("--max-service-hours", type=click.FloatRange(0))
@click.option("--max-trial-age-months", type=click.IntRange(1, 600))
@click.option(
    "--domestic-rule",
    type=click.Choice(["vendor", "manufacture"]),
    default="vendor",
    show_default=True,
)
@click.option("--publish", is_flag=True, help="Publish the list right away.")
@click.pass_obj
def lists_generate(
    settings: Settings, /, publish: bool, categories: tuple[str, ...], **options: Any
) -> None:
    """Generate a draft list from the evidence and print a summary."""
    from pydantic import ValidationError

    from instcat.auth import SYSTEM
    from instcat.db import run_with_database
    from instcat.errors import DomainError
    from instcat.substitution.lists import ListService
    from instcat.substitution.schemas import ListCriteria

    try:
        criteria = ListCriteria(categories=list(categories) or None, **options)
    except ValidationError as error:
        raise click.ClickException(str(error)) from error

    async def work(database: Any) -> Any:
        service = ListService(database)
        document = await service.generate(SYSTEM, criteria)
        if publish:
            document = await service.publish(SYSTEM, document.id)
        return document

    try:
        document = run_with_database(settings, work)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(
        f"list {document.id} {document.label!r}: {document.status}, {document.entry_count} entries"
    )
    for entry in document.entries:
        replaces = ", ".join(f"{r.reference.model} ({r.grade})" for r in entry.replaces)
        product = entry.product
        click.echo(
            f"  {entry.category:8} {entry.grade}  #{product.id} {product.vendor_name_en} "
            f"{product.model}  replaces {replaces}"
        )


@lists_group.command("export")
@click.argument("list_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def lists_export(settings: Settings, list_id: int, fmt: str, output: Path) -> None:
    """Write a whole list to a CSV, XLSX or JSON file (the same as the API's export)."""
    from instcat.auth import SYSTEM
    from instcat.db import run_with_database
    from instcat.errors import DomainError
    from instcat.substitution.lists import ListService

    partial = output.with_name(output.name + ".part")  # renamed once the list is written

    async def write(database: Any) -> int:
        summary, parts = await ListService(database).export(SYSTEM, list_id, fmt)
        with partial.open("wb") as file:
            async for part in parts:
                file.write(part)
        return summary.entry_count

    try:
        count = run_with_database(settings, write)
        partial.replace(output)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"wrote {output} ({count} entries)")
