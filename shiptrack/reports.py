"""Reports: the SQL files of ``queries/`` (and a user's own folder), with typed, bound parameters.

A report is one SELECT statement opened by a header::

    -- title: Dark periods near watchlist ports
    -- description: Vessels that went silent near one of the ports, in the window.
    -- param: ports (ports) = Benghazi, Tobruk, Misrata   -- watchlist
    -- param: since (time) = 7 days ago                   -- start of the window, UTC
    -- param: until (time) = now
    -- param: min_gap_h (number) = 6

The header grammar, the types (``number``, ``integer``, ``text``, ``time``, ``port``,
``ports``) and the ``--param`` syntax are those of :mod:`shiptrack.params`, shared with the
detection rules. Values are always bound as ``$name``; nothing from the command line is ever
formatted into the SQL.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from shiptrack.errors import InputError, RuleError, ShiptrackError, first_line
from shiptrack.params import Param, assign, parse_header
from shiptrack.params import values as param_values
from shiptrack.store.db import check_select, frame

_BIND_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _shipped() -> Path:
    """The shipped reports: ``queries/`` at the top of a source checkout (and of an editable
    install, ``make``), copied to ``shiptrack/queries`` in a wheel (setup.py)."""
    package = Path(__file__).resolve().parent
    installed = package / "queries"
    return installed if installed.is_dir() else package.parent / "queries"


SHIPPED = _shipped()


class ReportNotFound(ShiptrackError):
    exit_code = 2


@dataclass
class Report:
    name: str
    title: str
    description: str
    params: dict[str, Param]
    sql: str
    path: Path


def parse_report(path: Path) -> Report:
    """A report's header (the grammar of :mod:`shiptrack.params`, shared with the rules) and SQL."""
    text = path.read_text(encoding="utf-8")
    head = parse_header(text, path.name, ("title",))
    if "title" not in head.meta or not head.description:
        raise RuleError(f"{path.name}: a report needs `-- title:` and `-- description:` header lines")
    return Report(path.stem, head.meta["title"], head.description, head.params, text, path)


def catalogue(extra_dirs: list[Path] | None = None) -> dict[str, Report]:
    """Shipped reports, then the user's (a user's report of the same name wins)."""
    out: dict[str, Report] = {}
    if not SHIPPED.is_dir():
        raise ReportNotFound(f"the shipped reports are missing: no folder {SHIPPED} (an incomplete install: "
                             "install shiptrack again)")
    for d in [SHIPPED, *(extra_dirs or [])]:
        if not Path(d).is_dir():
            raise ReportNotFound(f"--queries {d}: no such folder")
        for p in sorted(Path(d).glob("*.sql")):
            out[p.stem] = parse_report(p)
    return out


def get_report(name: str, extra_dirs: list[Path] | None = None) -> Report:
    reports = catalogue(extra_dirs)
    if name not in reports:
        raise ReportNotFound(f"no report named {name!r}; `shiptrack report list` shows them: "
                             + ", ".join(sorted(reports)))
    return reports[name]


def bind_params(report: Report, given: Iterable[str] | dict[str, str],
                default_now: datetime | None = None) -> dict[str, Any]:
    """The value of each of the report's parameters: ``--param NAME=VALUE`` (or
    ``REPORT.NAME=VALUE``) texts, else the defaults; a relative default ('30 days ago',
    'now') counts from ``default_now`` when given (see :func:`data_now`)."""
    pairs = [f"{k}={v}" for k, v in given.items()] if isinstance(given, dict) else list(given)
    texts = assign(pairs, {report.name: report.params}, what="report",
                   listing=f"shiptrack report show {report.name}")[report.name]
    return param_values(report.params, texts, report.name, default_now)


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None]:
    """The first and last receive time of the store's positions and static reports."""
    try:
        row = con.sql(
            "SELECT least((SELECT min(ts) FROM positions), (SELECT min(ts) FROM static_reports)), "
            "greatest((SELECT max(ts) FROM positions), (SELECT max(ts) FROM static_reports))"
        ).fetchall()[0]
    except duckdb.Error:
        return None, None
    return row[0], row[1]


def data_now(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """What a report's default window counts back from: just after the newest data in the store
    (an archive of 2018 is read over its own last 30 days, not the wall clock's), or None for an
    empty store. On a live feed it is the wall clock, give or take the feed's delay."""
    last = data_span(con)[1]
    return None if last is None else last.astimezone(UTC) + timedelta(seconds=1)


def run_report(
    con: duckdb.DuckDBPyConnection, report: Report, given: Iterable[str] | dict[str, str] | None = None,
    bound: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """The report's rows; ``bound`` (if given) receives the values its parameters were bound to."""
    values = bind_params(report, given or [], data_now(con))
    if bound is not None:
        bound.update(values)
    used = set(_BIND_RE.findall(report.sql))
    missing = used - set(values)
    if missing:
        raise RuleError(f"{report.path.name}: uses ${', $'.join(sorted(missing))} without a `-- param:` line")
    body = check_select(report.sql.strip().rstrip(";"), f"report {report.name}")
    try:
        return frame(con, body, {k: v for k, v in values.items() if k in used})
    except duckdb.Error as err:
        raise RuleError(f"report {report.name} failed: {first_line(err)}") from err


READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """A user's ad-hoc SQL, on a read-only connection (the caller opens it read-only).

    Statements that read only: a lake's connection may read (and so could write) its own
    folder, where a COPY ... TO would land (a store's read-only file refuses it anyway)."""
    try:
        kinds = [s.type.name for s in duckdb.extract_statements(sql)]
    except duckdb.Error as err:
        raise RuleError(f"query failed: {first_line(err)}") from err
    if not kinds or any(k not in READ_STATEMENTS for k in kinds):
        raise RuleError(f"query: only SELECT (DESCRIBE, SHOW, EXPLAIN) statements run here; "
                        f"it holds {', '.join(kinds) or 'nothing'}")
    try:
        return frame(con, sql)
    except duckdb.Error as err:
        raise RuleError(f"query failed: {first_line(err)}") from err


def write_new_file(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to a new file ``folder/name``, never over an existing one: when two runs
    (a cron job and a person, the same second) pick the same name, the second gets
    ``<stem>_2.<ext>``, ``_3``... (each claimed with an exclusive create)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"--output-dir {folder}: cannot use it as a folder ({first_line(err)})") from err
    stem, dot, ext = name.rpartition(".")
    for k in range(1, 10_000):
        path = folder / (name if k == 1 else f"{stem}_{k}{dot}{ext}")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
            return path
        except FileExistsError:
            continue
        except OSError as err:
            with contextlib.suppress(OSError):
                path.unlink()  # no half-written report left behind (a full disk)
            raise InputError(f"cannot write {path}: {first_line(err)}") from err
    raise InputError(f"--output-dir {folder}: too many reports named {name}")


def output_name(report: str, ext: str, now: datetime | None = None) -> str:
    """``<report>_<UTC time>.<ext>``: a cron job keeps one file per run."""
    now = now or datetime.now(UTC)
    return f"{report}_{now.strftime('%Y%m%dT%H%M%SZ')}.{ext}"
