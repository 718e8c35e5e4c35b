"""Clean decoded values at the boundary, once: AIS sentinels become NULL, and a
value outside its field's range turns the row into a reject with a reason (a course
or heading out of range only loses that field, and is recorded as a reject too).

Every decoder produces frames with the raw-but-scaled values the AIS standard
defines (lat 91 = not available, sog 102.3 = not available, ...). The ``clean_*``
functions here are the one place that knows those conventions, applied to whole
frames with polars expressions; downstream code trusts the result.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import polars as pl

from shiptrack.decode.records import REJECT_SCHEMA

# Receive times outside this range are rejected as bad_timestamp (AIS began ~2002;
# a c: of 0 or a year-2150 time is a broken clock, not data).
TS_MIN = datetime(1995, 1, 1, tzinfo=UTC)
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)


_RULES_POS: list[tuple[str, pl.Expr]] = [
    ("bad_mmsi", pl.col("mmsi").is_null() | (pl.col("mmsi") < 1) | (pl.col("mmsi") > 999_999_999)),
    ("bad_timestamp", pl.col("ts").is_not_null() & ((pl.col("ts") < TS_MIN) | (pl.col("ts") >= TS_MAX))),
    ("no_timestamp", pl.col("ts").is_null()),
    ("bad_lat", (pl.col("lat").abs() > 90) & (pl.col("lat") != 91)),
    ("bad_lon", (pl.col("lon").abs() > 180) & (pl.col("lon") != 181)),
    ("bad_sog", ((pl.col("sog") < 0) | (pl.col("sog") > 102.2)) & ((pl.col("sog") - 102.3).abs() > 1e-9)),
]

# A course or heading out of range says nothing about where the ship was: the position
# is kept with that field NULL, and the line is also recorded in rejects with the
# reason, so the anomaly stays countable and citable.
_PARTIAL_POS: list[tuple[str, str, pl.Expr]] = [
    ("bad_cog", "cog", (pl.col("cog") < 0) | (pl.col("cog") > 360)),
    ("bad_heading", "heading", ((pl.col("heading") < 0) | (pl.col("heading") > 359)) & (pl.col("heading") != 511)),
]

_RULES_TS_MMSI: list[tuple[str, pl.Expr]] = _RULES_POS[:3]


def _reason_expr(rules: list[tuple[str, pl.Expr]]) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, cond in reversed(rules):
        expr = pl.when(cond).then(pl.lit(reason)).otherwise(expr)
    return expr


def _detail_expr(rules: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """'field=value' for the first failing rule, for the reject's detail column."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, cond in reversed(rules):
        fieldname = reason.removeprefix("bad_").replace("timestamp", "ts").replace("no_", "")
        expr = pl.when(cond).then(pl.format(f"{fieldname}={{}}", pl.col(fieldname).cast(pl.String))).otherwise(expr)
    return expr


def _split(
    df: pl.DataFrame, rules: list[tuple[str, pl.Expr]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    if df.is_empty():
        return df, pl.DataFrame(schema=REJECT_SCHEMA)
    if df.n_chunks("all") and max(df.n_chunks("all")) > 1:
        # polars 2.1 panics ("assertion failed: i < self.len()") filtering some frames made
        # of several chunks (AMSA's ais.txt, batches concatenated): one chunk is safe
        df = df.rechunk()
    failed = df.select(pl.any_horizontal([cond for _, cond in rules]).fill_null(False).alias("_bad"))["_bad"]
    if not failed.any():  # the usual case: no reason or detail to write
        return df, pl.DataFrame(schema=REJECT_SCHEMA)
    good = df.filter(~failed)
    bad = df.filter(failed)
    rejects = bad.select(
        pl.col("line_no"),
        _reason_expr(rules).alias("reason"),
        _detail_expr(rules).alias("detail"),
        pl.col("raw"),
    ).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
    return good, rejects


def _timed_or_not(rules: list[tuple[str, pl.Expr]], untimed_ok: bool) -> list[tuple[str, pl.Expr]]:
    return [r for r in rules if r[0] != "no_timestamp"] if untimed_ok else rules


def clean_positions(df: pl.DataFrame, untimed_ok: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split position rows into (clean rows with sentinels as NULL, rejects); ``untimed_ok``
    keeps the rows without a receive time (``shiptrack decode``: the store needs one)."""
    good, rejects = _split(df, _timed_or_not(_RULES_POS, untimed_ok))
    partial = []
    for reason, col, cond in _PARTIAL_POS:
        hit = good.filter(cond)
        if hit.height:
            partial.append(hit.select(
                pl.col("line_no"), pl.lit(reason).alias("reason"),
                pl.format(f"{col}={{}}; position kept with {col} NULL", pl.col(col).cast(pl.String)).alias("detail"),
                pl.col("raw"),
            ).cast(REJECT_SCHEMA))  # type: ignore[arg-type]
            good = good.with_columns(pl.when(cond).then(None).otherwise(pl.col(col)).alias(col))
    if partial:
        rejects = pl.concat([rejects, *partial])
    good = good.with_columns(
        pl.when(pl.col("lat") == 91).then(None).otherwise(pl.col("lat")).alias("lat"),
        pl.when(pl.col("lon") == 181).then(None).otherwise(pl.col("lon")).alias("lon"),
        pl.when((pl.col("sog") - 102.3).abs() < 1e-9).then(None).otherwise(pl.col("sog")).alias("sog"),
        pl.when(pl.col("cog") >= 360).then(None).otherwise(pl.col("cog")).alias("cog"),
        pl.when(pl.col("heading") == 511).then(None).otherwise(pl.col("heading")).alias("heading"),
        pl.when((pl.col("nav_status") >= 15) | (pl.col("nav_status") < 0)).then(None)
        .otherwise(pl.col("nav_status")).alias("nav_status"),
    )
    return good, rejects


def _text(col: str) -> pl.Expr:
    # '@' is 6-bit padding; the rest is kept as broadcast (inner spaces included)
    s = pl.col(col).str.replace_all("@", " ").str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s).alias(col)


def _zero_null(col: str) -> pl.Expr:
    return pl.when(pl.col(col) == 0).then(None).otherwise(pl.col(col)).alias(col)


def clean_statics(df: pl.DataFrame, untimed_ok: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Static/voyage rows: text padding removed, 0 = not available -> NULL."""
    good, rejects = _split(df, _timed_or_not(_RULES_TS_MMSI, untimed_ok))
    good = good.with_columns(
        _text("name"), _text("callsign"), _text("destination"),
        _zero_null("imo"), _zero_null("ship_type"), _zero_null("draught"),
        _zero_null("to_bow"), _zero_null("to_stern"), _zero_null("to_port"), _zero_null("to_starboard"),
    )
    return good, rejects


def clean_base_stations(df: pl.DataFrame, untimed_ok: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    good, rejects = _split(df, _timed_or_not(_RULES_POS[:5], untimed_ok))
    good = good.with_columns(
        pl.when(pl.col("lat") == 91).then(None).otherwise(pl.col("lat")).alias("lat"),
        pl.when(pl.col("lon") == 181).then(None).otherwise(pl.col("lon")).alias("lon"),
    )
    return good, rejects


def explain_untimed(rejects: pl.DataFrame, notes: dict[int, tuple[str, str]]) -> tuple[pl.DataFrame, Counter[str]]:
    """The no_timestamp rejects of messages that had a clock the decoder did not trust get
    its reason as their detail; returns them with the count of such rejects per reason."""
    counts: Counter[str] = Counter()
    if not notes or rejects.height == 0:
        return rejects, counts
    lines = list(notes)
    table = pl.DataFrame({"line_no": lines, "_cat": [notes[k][0] for k in lines],
                          "_text": [notes[k][1] for k in lines]}, schema={"line_no": pl.Int64, "_cat": pl.String,
                                                                         "_text": pl.String})
    joined = rejects.with_row_index("_i").join(table, on="line_no", how="left").sort("_i")
    hit = (pl.col("reason") == "no_timestamp") & pl.col("_cat").is_not_null()
    counts.update(joined.filter(hit)["_cat"].to_list())
    out = joined.with_columns(pl.when(hit).then(pl.col("_text")).otherwise(pl.col("detail")).alias("detail"))
    return out.select(rejects.columns), counts
