"""``shiptrack lake export STORE LAKE``: copy a DuckDB store into a new lake, every table."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from shiptrack.errors import InputError
from shiptrack.lake import layout
from shiptrack.lake.write import allocate_source_ids, create_lake, lake_lock, replace_table, write_rows
from shiptrack.store.db import connect


@dataclass
class ExportSummary:
    lake: Path
    sources: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per table


def export_store(store: str | os.PathLike[str], path: str | os.PathLike[str], wait_s: float = 30.0) -> ExportSummary:
    """Copy every table of ``store`` into a new lake at ``path``, keeping the source ids.

    Each source is written as the lake's writers write one (its rows, then its ``sources``
    row), so an export that stops half-way leaves a lake holding the sources it finished."""
    target = Path(layout.root(path))
    if layout.is_lake(target):
        raise InputError(f"{target} is a lake already; export into a new folder")
    con = connect(Path(store), read_only=True, wait_s=wait_s)
    try:
        lake = create_lake(target)
        summary = ExportSummary(lake)
        with lake_lock(lake, wait_s):
            ids = [r[0] for r in con.sql("SELECT source_id FROM sources ORDER BY source_id").fetchall()]
            for table in layout.SMALL:
                replace_table(lake, table, con.sql(f"SELECT * FROM {table}").to_arrow_table(),  # noqa: S608
                              covered_sources=ids if table == "coverage" else None)
                summary.rows[table] = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608
            for sid in ids:
                for table in (*layout.SOURCE_TABLES, "sources"):
                    write_rows(con, lake, table, f"SELECT * FROM {table} WHERE source_id = $sid",  # noqa: S608
                               sid, {"sid": sid})
            for table in (*layout.SOURCE_TABLES, "sources", "events"):
                summary.rows[table] = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608
            summary.sources = len(ids)
            replace_table(lake, "events", con.sql("SELECT * FROM events").to_arrow_table())
            allocate_source_ids(lake, 0)  # the next id given is above every exported one
    finally:
        con.close()
    return summary
