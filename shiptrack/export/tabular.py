"""Tabular output: spreadsheet-safe CSV, JSON, Markdown.

AIS names and destinations are typed by strangers. A cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to a
spreadsheet (CSV/formula injection), so text cells that start so are prefixed
with a single quote. Numbers stay numbers: only string columns are touched, so a
longitude of -70.8 is written as -70.8. ``safe=False`` turns this off for
machine use.

A nested cell (a list or a struct, such as the evidence of a finding) is written as
JSON text in CSV and Markdown, and as itself in JSON; columns named in ``json_columns``
hold JSON text (the ``details`` of a finding) and become objects in JSON output.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import polars as pl

from shiptrack.safe_text import CSV_CONTROL_PATTERN, csv_cell, markdown
from shiptrack.times import iso_utc, iso_utc_expr

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"


def neutralise(text: str | None) -> str | None:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)"; other text unchanged."""
    if text is not None and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _json_value(v: Any) -> Any:  # noqa: ANN401 - any cell value
    """``json.dumps``'s fallback: times in ISO-8601 UTC, decimals as numbers."""
    if isinstance(v, datetime):
        return iso_utc(v)
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="backslashreplace")
    return str(v)


def to_json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_value)


def nested_as_text(df: pl.DataFrame) -> pl.DataFrame:
    """Lists and structs as JSON text (CSV has no nested cells): ``["a:1", "a:2"]``."""
    nested = [c for c, t in df.schema.items() if t.is_nested() or t == pl.Object]
    return df.with_columns(
        pl.Series(c, [None if v is None else to_json_text(v) for v in df[c].to_list()], dtype=pl.String)
        for c in nested
    )


def csv_safe_frame(df: pl.DataFrame, safe: bool = True) -> pl.DataFrame:
    """Neutralise formula-looking text in every string column; times as ISO-8601 UTC;
    nested cells as JSON text."""
    out = nested_as_text(
        df.with_columns(iso_utc_expr(pl.col(pl.Datetime))))
    if not safe:
        return out
    text_cols = [c for c, t in out.schema.items() if t == pl.String]
    # controls (NUL, ESC, ...) shown as escapes, in the rare cells that hold any
    out = out.with_columns(
        pl.when(pl.col(c).str.contains(CSV_CONTROL_PATTERN))
        .then(pl.col(c).map_elements(csv_cell, return_dtype=pl.String)).otherwise(pl.col(c)).alias(c)
        for c in text_cols if out[c].str.contains(CSV_CONTROL_PATTERN).any()
    )
    return out.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_RE)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


def to_markdown(df: pl.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; every cell through safe_text.markdown (HTML, links,
    pipes and line breaks neutralised)."""
    def cell(v: object) -> str:
        return markdown(v)

    df = nested_as_text(df)
    head = "| " + " | ".join(markdown(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([head, rule, *rows]) + "\n"


def json_rows(df: pl.DataFrame, json_columns: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The rows as dicts, times as ISO-8601 UTC, the JSON text of ``json_columns`` parsed."""
    iso = df.with_columns(iso_utc_expr(pl.col(pl.Datetime)))
    parse = [c for c in json_columns if c in iso.columns and iso.schema[c] == pl.String]
    rows = iso.to_dicts()
    for r in rows:
        for c in parse:
            if r[c] is not None:
                r[c] = json.loads(r[c])
    return rows


def render(df: pl.DataFrame, fmt: str, safe: bool = True, json_columns: tuple[str, ...] = ()) -> str:
    """csv | json | md text for a frame (``table`` is rendered by the CLI with rich)."""
    if fmt == "csv":
        return csv_safe_frame(df, safe=safe).write_csv()
    iso = df.with_columns(iso_utc_expr(pl.col(pl.Datetime)))
    if fmt == "json":
        return json.dumps(json_rows(df, json_columns), indent=2, default=_json_value, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(iso)
    raise ValueError(f"unknown format {fmt!r}")
