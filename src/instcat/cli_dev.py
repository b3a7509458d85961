"""`instcat dev …`: developer commands (synthetic data for load tests and benchmarks)."""

import sys
import time

import click

from instcat.config import Settings


@click.group()
@click.pass_context
def dev(ctx: click.Context) -> None:
    """Developer tools: synthetic data."""
    if ctx.obj is None:
        ctx.obj = Settings()


class _Progress:
    """Progress on stderr: a bar per stage with counts and rate (stages may take turns)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.stages: dict[str, tuple[float, float]] = {}  # stage -> (first seen, last shown)
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        first, shown = self.stages.setdefault(stage, (now, 0.0))
        finished = done >= total
        if not finished and now - shown < (0.2 if self.tty else 5.0):
            return
        self.stages[stage] = (first, now)
        spent = now - first
        rate = f"{done / spent:,.0f}/s" if spent > 0.5 and done else ""
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"{stage:<11} [{bar}] {done:>10,}/{total:<10,} {rate:>10} {now - self.started:7.1f}s"
        if self.tty:
            click.echo("\r" + line + ("\n" if finished else ""), err=True, nl=False)
        else:
            click.echo(line, err=True)


@dev.command("generate")
@click.option(
    "--scale",
    type=click.FloatRange(0, 20, min_open=True),
    default=1.0,
    show_default=True,
    help="1 = 100 categories, 3,000 vendors, 100,000 products, 300,000 trials, 1M feedback.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Processes computing trial statistics (default: one per CPU).",
)
@click.pass_obj
def generate_command(settings: Settings, scale: float, seed: int, workers: int | None) -> None:
    """Write a synthetic catalogue (marked illustrative) into the configured database.

    The database must be migrated (`instcat db upgrade`); the bundled data is loaded first
    when it is missing. Generating twice into one database is refused.
    """
    from instcat.db import run_with_database
    from instcat.devdata import GenerateError, generate

    progress = _Progress()
    try:
        counts = run_with_database(
            settings,
            lambda db: generate(
                db, scale, seed, progress, seed_dir=settings.seed_dir, workers=workers
            ),
        )
    except GenerateError as error:
        raise click.ClickException(str(error)) from error
    summary = ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in counts.items())
    click.echo(f"generated {summary} in {time.monotonic() - progress.started:.1f} s")


if __name__ == "__main__":
    dev()
