"""A lake connection for a command that rewrites some of the lake's tables (detect: events;
areas add: areas; route declare/import: the declared voyages)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

import duckdb

from shiptrack.lake import layout
from shiptrack.lake.read import open_lake
from shiptrack.lake.write import lake_lock, replace_table


@contextlib.contextmanager
def rewriting(path: str | os.PathLike[str], tables: Sequence[str], wait_s: float = 30.0
              ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The lake, holding its write lock, with ``tables`` (replaced whole: small tables and
    ``events``) as in-memory tables the block may change; each is written back, replacing
    the lake's in one step, when the block ends without an error (else the lake is left
    as it was)."""
    lake = layout.root(path)
    for table in tables:
        if table not in layout.SMALL and table not in layout.REPLACED:
            raise ValueError(f"{table} is not replaced whole in a lake")
    with lake_lock(lake, wait_s):
        con = open_lake(lake, confined=False, in_memory=tables)
        try:
            yield con
            for table in tables:
                replace_table(lake, table, con.sql(f"SELECT * FROM {table}").to_arrow_table())  # noqa: S608
        finally:
            con.close()
