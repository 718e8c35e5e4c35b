"""Write a lake: create it, append one source's tables, replace a small table or ``events``.

One writer per lake at a time: writers hold :func:`lake_lock` (an ``flock`` on a file in
the lake), and a source id comes from :func:`allocate_source_ids` under it, so that ids
are unique even when many tasks (Spark executors) write the files of the sources the
driver gave them. Data files are named ``<source_id>-<uuid>.parquet``: concurrent
writers never collide. The files are written with DuckDB, cast to the store's types
whatever Arrow types they come in.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb

from shiptrack.errors import InputError, StoreBusy
from shiptrack.lake import layout

COUNTER = "next_source_id.json"  # the next source id to give (under the lock)
COVERED_KEY = "shiptrack_sources"
# zstd at its fastest level: about as fast to write as snappy, and a quarter smaller (the
# raw sentences are most of the bytes)
COMPRESSION = "COMPRESSION zstd, COMPRESSION_LEVEL 1"  # coverage/data.parquet's metadata: the sources it counts


def create_lake(path: str | os.PathLike[str]) -> Path:
    """Make a new lake at ``path`` (an empty or missing folder), holding the reference
    tables a new store starts with (ports, MID flags, meta); or return the lake there."""
    lake = _local(path)
    if layout.is_lake(lake):
        return lake
    if lake.exists() and (not lake.is_dir() or any(lake.iterdir())):
        raise InputError(f"{lake} is not empty and holds no shiptrack lake; give a new folder")
    lake.mkdir(parents=True, exist_ok=True)
    from shiptrack.store.db import ensure_schema

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        ensure_schema(con)
        for table in layout.SMALL:
            replace_table(lake, table, con.sql(f"SELECT * FROM {table}").to_arrow_table(),  # noqa: S608
                          covered_sources=[] if table == "coverage" else None)
    finally:
        con.close()
    _atomic_write_text(lake / layout.MARKER, layout.marker_text())
    return lake


@contextlib.contextmanager
def lake_lock(path: str | os.PathLike[str], wait_s: float = 30.0) -> Iterator[None]:
    """Hold the lake's write lock (one writer at a time), waiting up to ``wait_s``."""
    lock_path = _local(path) / layout.LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"lake {path} is being written by another process; waited {wait_s:.0f} s. "
                                    "Try again later or raise --wait.") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # (closing the file releases the lock)


def _local(path: str | os.PathLike[str]) -> Path:
    """A lake's folder, for writing: a local one (the lock and the renames are a file system's)."""
    if layout.is_remote(path):
        raise InputError(f"{path}: shiptrack writes lakes in local folders only (object storage is read); "
                         "write the lake locally, then copy it (aws s3 sync, gsutil rsync)")
    return Path(layout.root(path))


def allocate_source_ids(path: str | os.PathLike[str], n: int = 1) -> list[int]:
    """``n`` new source ids, never given before in this lake (call it holding :func:`lake_lock`).

    Ids of sources whose writer died before their ``sources`` row are not given again:
    their files stay invisible rather than join a later source."""
    lake = Path(layout.root(path))
    counter = lake / COUNTER
    start = json.loads(counter.read_text(encoding="utf-8"))["next"] if counter.exists() else 1
    start = max(start, max_source_id(lake) + 1)
    _atomic_write_text(counter, json.dumps({"next": start + n}) + "\n")
    return list(range(start, start + n))


def max_source_id(path: str | os.PathLike[str]) -> int:
    """The highest source id in the lake's ``sources`` folder (0 for none)."""
    folder = Path(layout.root(path)) / "sources"
    ids = [int(p.name.split("=", 1)[1]) for p in folder.glob("source_id=*") if p.is_dir()] if folder.is_dir() else []
    return max(ids, default=0)


def source_ids(path: str | os.PathLike[str]) -> set[int]:
    """The ids of the sources the lake holds (those whose ``sources`` file is in place)."""
    folder = Path(layout.root(path)) / "sources"
    return {int(p.parent.name.split("=", 1)[1]) for p in folder.glob("source_id=*/*.parquet")}


def remove_leftovers(path: str | os.PathLike[str]) -> list[Path]:
    """Delete what writers that died left behind (call it holding :func:`lake_lock`): the
    data files of sources that never got their ``sources`` row (no reader sees them),
    temporary files and folders. Returns what was removed."""
    lake = Path(layout.root(path))
    have = source_ids(lake)
    gone: list[Path] = []
    for table in layout.SOURCE_TABLES:
        for f in (lake / table).rglob("*.parquet"):
            sid = f.name.split("-", 1)[0]
            if sid.isdigit() and int(sid) not in have:
                gone.append(f)
    for table in layout.TABLES:
        gone += (lake / table).rglob(".tmp-*")
    for f in gone:
        f.unlink(missing_ok=True)
    for d in [*lake.glob(".scratch-*"), *lake.glob(".*.new-*"), *lake.glob(".*.old-*")]:
        shutil.rmtree(d, ignore_errors=True)
        gone.append(d)
    return gone


def source_with_sha256(path: str | os.PathLike[str], sha256: str) -> int | None:
    """The id of the lake's source with these bytes, if it holds one."""
    lake = layout.root(path)
    if not any(Path(lake, "sources").glob("source_id=*/*.parquet")):
        return None
    row = duckdb.execute(
        f"SELECT source_id FROM read_parquet({_q(layout.glob(lake, 'sources'))}, hive_partitioning = true) "  # noqa: S608
        "WHERE sha256 = $s LIMIT 1", {"s": sha256}).fetchall()
    return int(row[0][0]) if row else None


def write_source(path: str | os.PathLike[str], source_id: int, tables: Mapping[str, Any]) -> bool:
    """Append one source to the lake: ``tables`` maps store table names (positions,
    static_reports, base_stations, rejects, and ``sources``: its one row) to Arrow tables
    (or anything DuckDB scans: polars frames, DuckDB relations) with the store's columns.

    The data files first, the ``sources`` row last: readers see all of the source or none.
    A source whose SHA-256 the lake holds already is skipped (returns False)."""
    lake = Path(layout.root(path))
    src = tables["sources"]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_src", src)
        sha, sid = con.execute("SELECT any_value(sha256), count(*) FROM _src").fetchall()[0]
        if sid != 1:
            raise ValueError(f"write_source takes one sources row, not {sid}")
        if source_with_sha256(lake, sha) is not None:
            return False
        for table in layout.SOURCE_TABLES:
            if table in tables:
                con.register("_rows", tables[table])
                write_rows(con, lake, table, "SELECT * FROM _rows", source_id)
                con.unregister("_rows")
        write_rows(con, lake, "sources", "SELECT * FROM _src", source_id)
    finally:
        con.close()
    return True


def _partition_exprs(table: str) -> str:
    if table == "positions":
        return "strftime(ts, '%Y-%m-%d') AS day, lpad(CAST(mmsi % 16 AS VARCHAR), 2, '0') AS bucket"
    if table in ("static_reports", "base_stations"):
        return "strftime(ts, '%Y-%m-%d') AS day"
    return ""


def write_rows(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], table: str, select_sql: str,
               source_id: int, params: Mapping[str, Any] | None = None) -> None:
    """Write the rows of ``select_sql`` (run on ``con``; the store's columns of ``table``) as
    source ``source_id``'s files of a partitioned table. ``sources`` goes to a hidden name
    first and is renamed into place: its appearance is what makes the source visible."""
    lake = Path(layout.root(path))
    name = f"{source_id}-{uuid.uuid4().hex}"
    cols = layout.select_list(table, "r")
    if table in ("rejects", "sources"):
        folder = lake / table / f"source_id={source_id}"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{name}"
        con.execute(f"COPY (SELECT {cols} FROM ({select_sql}) r) TO {_q(str(tmp))} "  # noqa: S608
                    f"(FORMAT parquet, {COMPRESSION})", dict(params or {}))
        if table == "sources":
            _fsync(tmp)
        os.replace(tmp, folder / f"{name}.parquet")
        return
    parts = _partition_exprs(table)
    keys = ", ".join(layout.PARTITIONED[table])
    # under hidden names that match no reader's pattern first (a writer killed mid-file
    # leaves a file no Parquet reader can open), then each renamed to its own name
    row = con.execute(
        f"COPY (SELECT {cols}, {parts} FROM ({select_sql}) r) TO {_q(str(lake / table))} "  # noqa: S608
        f"(FORMAT parquet, {COMPRESSION}, PARTITION_BY ({keys}), FILENAME_PATTERN {_q('.tmp-' + name + '-{i}')}, "
        "FILE_EXTENSION 'tmp', OVERWRITE_OR_IGNORE true, RETURN_FILES true)", dict(params or {})).fetchall()
    for written in row[0][1] if row else []:
        tmp = Path(written)
        os.replace(tmp, tmp.with_name(tmp.name.removeprefix(".tmp-").removesuffix(".tmp") + ".parquet"))


def replace_table(path: str | os.PathLike[str], table: str, data: Any,  # noqa: ANN401 - Arrow or a relation
                  covered_sources: Iterable[int] | None = None) -> None:
    """Replace a small table (``<table>/data.parquet``) or ``events`` with ``data`` (Arrow, a
    polars frame, a DuckDB relation), atomically: readers see the old or the new table.

    ``covered_sources``: for ``coverage``, the sources it counts, kept in the file's
    metadata (see :func:`coverage_sources`)."""
    lake = Path(layout.root(path))
    if table not in layout.SMALL and table not in layout.REPLACED:
        raise ValueError(f"{table} is not a table that is replaced whole")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_data", data)
        select = f"SELECT {layout.select_list(table, 'r')} FROM _data r"  # noqa: S608 - our columns
        if table in layout.SMALL:
            folder = lake / table
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".tmp-{uuid.uuid4().hex}"
            kv = ""
            if covered_sources is not None:
                ids = ",".join(str(int(i)) for i in sorted(covered_sources))
                kv = f", KV_METADATA {{{COVERED_KEY}: '{ids}'}}"
            con.execute(f"COPY ({select}) TO {_q(str(tmp))} (FORMAT parquet, {COMPRESSION}{kv})")  # noqa: S608
            _fsync(tmp)
            os.replace(tmp, folder / "data.parquet")
            return
        new = lake / f".{table}.new-{uuid.uuid4().hex}"
        new.mkdir()
        try:
            con.execute(f"COPY ({select}) TO {_q(str(new / 'part-0.parquet'))} "  # noqa: S608
                        f"(FORMAT parquet, {COMPRESSION})")
            replace_dir(lake, table, new)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
    finally:
        con.close()


def coverage_sources(path: str | os.PathLike[str]) -> set[int] | None:
    """The sources the lake's coverage counts (None: not recorded, take it as all of them).

    A writer replaces the coverage after a source's ``sources`` row; one that died in
    between leaves a source the coverage does not count yet, which the next ingest adds."""
    file = Path(layout.root(path)) / "coverage" / "data.parquet"
    if not file.exists():
        return set()
    rows = duckdb.execute("SELECT value FROM parquet_kv_metadata($f) WHERE key = $k",
                          {"f": str(file), "k": COVERED_KEY}).fetchall()
    if not rows:
        return None
    text = bytes(rows[0][0]).decode()
    return {int(i) for i in text.split(",") if i}


def replace_dir(path: str | os.PathLike[str], table: str, new: str | os.PathLike[str]) -> None:
    """Put folder ``new`` (a table's files, written in full, inside the lake) in place of the
    table's folder. On Linux the two are exchanged in one step (renameat2 RENAME_EXCHANGE):
    a reader sees the old folder or the new one; elsewhere the old one is moved aside first,
    and a reader in between sees no rows."""
    lake = Path(layout.root(path))
    target, new = lake / table, Path(new)
    if not target.exists():
        os.replace(new, target)
        return
    if not _exchange(new, target):
        old = lake / f".{table}.old-{uuid.uuid4().hex}"
        os.replace(target, old)
        os.replace(new, target)
        new = old
    shutil.rmtree(new, ignore_errors=True)  # now the old files


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
