"""Rendering for the terminal: rich tables and a progress bar only on a TTY."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.table import Table

from shiptrack.ingest import IngestSummary, ProgressFn
from shiptrack.read.sources import Source
from shiptrack.units import iso_utc

console = Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_reporter() -> Iterator[ProgressFn | None]:
    """A bytes-read progress bar per file when stderr is a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        def update(src: Source, done: int) -> None:
            key = src.display
            if key not in tasks:
                tasks[key] = bar.add_task(key[-40:], total=src.size_bytes or None)
            bar.update(tasks[key], completed=done)

        yield update


def _n(v: int) -> str:
    return f"{v:,}"


def print_ingest_summary(summary: IngestSummary) -> None:
    for r in summary.results:
        if r.status == "already":
            console.print(
                f"[bold]{r.source.display}[/]: already ingested as source #{r.source_id} "
                f"on {iso_utc(r.previous_ingest)} (same SHA-256); nothing added."
            )
        elif r.status == "failed":
            console.print(f"[bold red]{r.source.display}: failed[/]: {r.error} (nothing stored from it)")
        else:
            console.print(f"[bold]{r.source.display}[/]: source #{r.source_id}, {r.format} ({r.format_detail})")
    done = [r for r in summary.results if r.status == "ingested"]
    if not done:
        return
    t = summary.total()
    table = Table(title="Ingest summary", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_row("files ingested", _n(len(done)))
    table.add_row("lines read", _n(t.lines))
    table.add_row("messages decoded", _n(t.messages))
    for mt, n in sorted(t.type_counts.items()):
        table.add_row(f"  type {mt}", _n(n))
    table.add_row("positions stored", _n(t.positions))
    table.add_row("static reports stored", _n(t.static_reports))
    table.add_row("base-station reports stored", _n(t.base_stations))
    table.add_row("duplicates skipped", _n(t.duplicates))
    table.add_row("lines rejected", _n(t.rejects))
    for reason, n in sorted(t.reject_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", _n(n))
    console.print(table)
    console.print(
        f"Store now holds {_n(summary.vessels)} vessels, "
        f"{iso_utc(summary.first_ts) or '-'} to {iso_utc(summary.last_ts) or '-'}."
    )
