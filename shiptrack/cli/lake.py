"""`shiptrack lake export`: a store's tables as a Parquet lake."""

from __future__ import annotations

from pathlib import Path

import click

from shiptrack.cli.group import Context, main


@main.group()
def lake() -> None:
    """Parquet lakes: the store's tables as hive-partitioned Parquet in a folder.

    \b
    Give a lake to any command with --db LAKE/ (a folder): ingest and detect write
    it, vessel, track, events, report, query and export read it.
      shiptrack lake export shiptrack.duckdb lake/
    """


@lake.command("export")
@click.argument("store", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("lake_path", metavar="LAKE", type=click.Path(file_okay=False, path_type=str))
@click.pass_obj
def lake_export(obj: Context, store: Path, lake_path: str) -> None:
    """Copy every table of the DuckDB STORE into a new lake at LAKE (a new or empty folder).

    \b
      shiptrack lake export shiptrack.duckdb lake/
    """
    from shiptrack.lake.export import export_store
    from shiptrack.safe_text import terminal

    summary = export_store(store, lake_path, wait_s=obj.wait_s)
    click.echo(terminal(f"wrote lake {summary.lake}: {summary.sources} sources, "
                        f"{summary.rows.get('positions', 0):,} positions, {summary.rows.get('events', 0):,} events"),
               err=True)
