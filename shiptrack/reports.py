"""Reports: the SQL files of ``queries/`` (and a user's own folder), with typed, bound parameters.

A report is one SELECT statement opened by a header::

    -- title: Dark periods near watchlist ports
    -- description: Vessels that went silent near one of the ports, in the window.
    -- param: ports (ports) = Benghazi, Tobruk, Misrata   -- watchlist
    -- param: since (time) = 7 days ago                   -- start of the window, UTC
    -- param: until (time) = now
    -- param: min_gap_h (number) = 6

Types: ``text`` (default), ``number``, ``time`` (ISO-8601, a date, ``now``, ``today`` or
``N days ago``), ``port`` (a name, alias or UN/LOCODE, bound as its port_id) and ``ports``
(a comma-separated list, bound as a list of port_ids). Values are always bound as
``$name``; nothing from the command line is ever formatted into the SQL.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from shiptrack.errors import InputError, RuleError, ShiptrackError, first_line
from shiptrack.store.db import check_select, frame
from shiptrack.timeparse import parse_when
from shiptrack.units import parse_utc

_PARAM_RE = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s*(?:\((?P<type>text|number|time|port|ports)\))?\s*=\s*"
    r"(?P<default>.*?)\s*(?:--\s*(?P<doc>.*))?$"
)
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
class ReportParam:
    name: str
    type: str
    default: str
    doc: str = ""

    def bind(self, text: str) -> Any:
        """Turn the text of a value into what the SQL receives."""
        t = text.strip()
        if self.type == "number":
            try:
                return float(t) if "." in t else int(t)
            except ValueError as err:
                raise RuleError(f"--param {self.name}={text!r}: expected a number") from err
        if self.type == "time":
            if t == "":
                return None
            try:
                return parse_when(t)
            except ValueError:
                try:
                    return parse_utc(t)
                except ValueError as err:
                    raise RuleError(f"--param {self.name}={text!r}: expected a time like 2018-02-01 "
                                    "or '7 days ago'") from err
        if self.type in ("port", "ports"):
            from shiptrack.reference.ports import resolve_port

            names = [n.strip() for n in t.split(",") if n.strip()] if self.type == "ports" else [t]
            ids = [resolve_port(n).port_id for n in names]
            return ids if self.type == "ports" else ids[0]
        return t


@dataclass
class Report:
    name: str
    title: str
    description: str
    params: dict[str, ReportParam]
    sql: str
    path: Path
    columns_doc: list[str] = field(default_factory=list)


def parse_report(path: Path) -> Report:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: dict[str, ReportParam] = {}
    desc: list[str] = []
    in_desc = False
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        body = line[2:].strip()
        key, sep, value = body.partition(":")
        if sep and re.fullmatch(r"[a-z_]+", key.strip()):
            key, value = key.strip(), value.strip()
            in_desc = key == "description"
            if key == "param":
                m = _PARAM_RE.match(value)
                if not m:
                    raise RuleError(f"{path.name}: bad param line {value!r}; "
                                    "write `-- param: name (type) = default -- doc`")
                params[m.group("name")] = ReportParam(m.group("name"), m.group("type") or "text",
                                                      m.group("default"), (m.group("doc") or "").strip())
            elif key == "description":
                desc = [value]
            else:
                meta[key] = value
        elif in_desc and body:
            desc.append(body)
    if "title" not in meta or not desc:
        raise RuleError(f"{path.name}: a report needs `-- title:` and `-- description:` header lines")
    return Report(path.stem, meta["title"], " ".join(desc), params, text, path)


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


def bind_params(report: Report, given: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(report.params))
    if unknown:
        raise RuleError(f"report {report.name} has no parameter {', '.join(unknown)}; "
                        f"it takes: {', '.join(report.params) or 'none'}")
    return {n: p.bind(given.get(n, p.default)) for n, p in report.params.items()}


def run_report(
    con: duckdb.DuckDBPyConnection, report: Report, given: dict[str, str] | None = None
) -> pl.DataFrame:
    values = bind_params(report, given or {})
    used = set(_BIND_RE.findall(report.sql))
    missing = used - set(values)
    if missing:
        raise RuleError(f"{report.path.name}: uses ${', $'.join(sorted(missing))} without a `-- param:` line")
    body = check_select(report.sql.strip().rstrip(";"), f"report {report.name}")
    try:
        return frame(con, body, {k: v for k, v in values.items() if k in used})
    except duckdb.Error as err:
        raise RuleError(f"report {report.name} failed: {first_line(err)}") from err


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """A user's ad-hoc SQL, on a read-only connection (the caller opens it read-only)."""
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
