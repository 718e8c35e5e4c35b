"""Tabular output: spreadsheet-safe CSV, JSON, Markdown.

AIS names and destinations are typed by strangers. A cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to a
spreadsheet (CSV/formula injection), so text cells that start so are prefixed
with a single quote. Numbers stay numbers: only string columns are touched, so a
longitude of -70.8 is written as -70.8. ``safe=False`` turns this off for
machine use.
"""

from __future__ import annotations

import polars as pl

from shiptrack.safe_text import CSV_CONTROL_PATTERN, csv_cell, markdown

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"


def neutralise(text: str | None) -> str | None:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)"; other text unchanged."""
    if text is not None and text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_safe_frame(df: pl.DataFrame, safe: bool = True) -> pl.DataFrame:
    """Neutralise formula-looking text in every string column; times as ISO-8601 UTC."""
    out = df.with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if not safe:
        return out
    text_cols = [c for c, t in zip(df.columns, df.dtypes, strict=True) if t == pl.String]
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

    head = "| " + " | ".join(markdown(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([head, rule, *rows]) + "\n"


def render(df: pl.DataFrame, fmt: str, safe: bool = True) -> str:
    """csv | json | md text for a frame (``table`` is rendered by the CLI with rich)."""
    if fmt == "csv":
        return csv_safe_frame(df, safe=safe).write_csv()
    iso = df.with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if fmt == "json":
        import json

        return json.dumps(iso.to_dicts(), indent=2, default=str, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(iso)
    raise ValueError(f"unknown format {fmt!r}")
