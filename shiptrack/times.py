"""Time in one place: UTC times read from text and written as ISO 8601, in Python, polars and SQL.

Every time shiptrack writes (tables, exports, event details) is UTC to the second,
``2018-02-26T14:00:00Z`` (:data:`ISO_UTC`): :func:`iso_utc` for a datetime,
:func:`iso_utc_expr` for a polars column, and the store's SQL macro ``iso_utc(t)``
(:data:`SQL_MACROS`, created with the schema). Times are read by :func:`parse_utc` (ISO 8601)
and :func:`parse_when` (``now``, ``today``, ``7 days ago``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"

SQL_MACROS = f"CREATE OR REPLACE MACRO iso_utc(t) AS strftime(t, '{ISO_UTC}');\n"


def iso_utc(dt: datetime | None) -> str | None:
    """'2018-02-26T14:00:00Z' (seconds precision) or None; a naive time is taken as UTC."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime(ISO_UTC)


def iso_utc_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`iso_utc` for a polars column of aware times."""
    return expr.dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)


def parse_utc(text: str) -> datetime:
    """ISO-8601 text to an aware UTC datetime; a naive time is taken as UTC."""
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_AGO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minute|hour|day|week)s?\s+ago\s*$", re.I)


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """'now', 'today' (00:00 UTC), 'N minutes|hours|days|weeks ago'; else ValueError."""
    now = now or datetime.now(UTC)
    t = text.strip().lower()
    if t == "now":
        return now
    if t == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    m = _AGO_RE.match(t)
    if m:
        n, unit = float(m.group(1)), m.group(2).lower()
        return now - timedelta(**{unit + "s": n})
    raise ValueError(text)
