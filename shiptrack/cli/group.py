"""The command group and its context: what every command module registers with."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from shiptrack.errors import AmbiguousVessel, ShiptrackError
from shiptrack.safe_text import terminal


class Context:
    def __init__(self, db: str | None, wait_s: float) -> None:
        self.db_text = db
        self.wait_s = wait_s

    @property
    def db(self) -> Path | None:
        return Path(self.db_text) if self.db_text is not None else None

    @property
    def lake(self) -> str | None:
        """``--db`` when it names a lake (a folder, a path ending in /, an s3:// address)."""
        from shiptrack.lake.layout import names_lake

        return self.db_text if self.db_text is not None and names_lake(self.db_text) else None

    def connect(self, read_only: bool = False, confined: bool = False):  # noqa: ANN201 - duckdb connection
        """The store (or the lake, read); ``confined`` for user SQL (query, reports): read-only, no files."""
        if self.lake is not None:
            if not (read_only or confined):
                from shiptrack.errors import InputError

                raise InputError(f"{self.lake} is a lake: this command changes a DuckDB store only")
            from shiptrack.lake import open_lake

            return open_lake(self.lake, confined=confined)
        from shiptrack.store.db import connect

        return connect(self.db, read_only=read_only, wait_s=self.wait_s, confined=confined)

    @contextlib.contextmanager
    def writing(self, lake_tables: Sequence[str]) -> Iterator[Any]:
        """The store to change, closed after the block; on a lake, a connection in which the
        ``lake_tables`` (the ones the command changes, replaced whole) are written back."""
        if self.lake is not None:
            from shiptrack.lake.session import rewriting

            with rewriting(self.lake, lake_tables, self.wait_s) as con:
                yield con
            return
        con = self.connect()
        try:
            yield con
        finally:
            con.close()


class ShiptrackGroup(click.Group):
    """Translate ShiptrackError into a one-line message and its exit code."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except AmbiguousVessel as err:
            click.echo(f"shiptrack: {terminal(err)}", err=True)
            for c in err.candidates:
                click.echo("  " + "  ".join(f"{k}={terminal(v)}" for k, v in c.items() if v is not None), err=True)
            sys.exit(err.exit_code)
        except ShiptrackError as err:
            click.echo(f"shiptrack: {terminal(err)}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=ShiptrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", type=click.Path(path_type=str), envvar="SHIPTRACK_DB",
    help="DuckDB store to use [default: ./shiptrack.duckdb, or $SHIPTRACK_DB]; a folder (or a path ending "
         "in /, or an s3:// address) is a Parquet lake.",
)
@click.option(
    "--wait", "wait_s", type=float, default=30.0, show_default=True,
    help="Seconds to wait for a database that another process is writing.",
)
@click.version_option(package_name="shiptrack")
@click.pass_context
def main(ctx: click.Context, db: str | None, wait_s: float) -> None:
    """shiptrack: turn raw AIS radio traffic into evidence.

    \b
    Decode AIS archives into a DuckDB store with provenance, detect the
    behaviours that reveal hidden voyages, and investigate one vessel.

    \b
      shiptrack ingest fixtures/ural/ural.nmea
      shiptrack decode fixtures/ural/ural.nmea --format jsonl | head
    """
    ctx.obj = Context(db, wait_s)
