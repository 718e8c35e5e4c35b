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
    return out.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_RE)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )
