"""Vectorized framing for the lines that make up almost all real traffic.

A line of the form ``\\<tag block with c:>*hh\\!xxVDM,1,1,<seq>,<ch>,<payload>,<fill>*hh``
(one single-sentence message, its own receive time, nothing after the checksum) is
parsed for a whole chunk at once with polars regular expressions, and both
checksums are checked with one cumulative XOR over the chunk's bytes. Every other
line (multi-sentence parts, other time layouts, anything malformed, including a
bad checksum) goes, in order, through :class:`shiptrack.decode.nmea.NmeaFramer`,
which gives it exactly the treatment (and reject reason) it would have had.

A chunk holding any ``$`` sentence ($PGHP, $GPRMC) is framed entirely by
NmeaFramer, because those carry a time that applies to the following lines.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_LINE_RE = (
    r"^\\(?P<tag>[^\\!$]*)\*(?P<tcs>[0-9A-Fa-f]{2})\\"
    r"!(?P<body>[A-Z-]{2}VD[MO],1,1,[0-9]?,[^,!$\\*]*,(?P<payload>[0-W`-w]+),(?P<fill>[0-5]))"
    r"\*(?P<cs>[0-9A-Fa-f]{2})$"
)


def _xor_of(strings: pl.Series) -> np.ndarray:
    """XOR of the bytes of each string (the NMEA checksum), for a whole column at once."""
    lengths = strings.str.len_bytes().to_numpy().astype(np.int64)
    buf = np.frombuffer("".join(strings.to_list()).encode("latin-1", "replace"), dtype=np.uint8)
    if buf.size == 0:
        return np.zeros(len(strings), dtype=np.uint8)
    acc = np.bitwise_xor.accumulate(buf)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    out = np.where(lengths > 0, acc[np.maximum(ends - 1, 0)], 0).astype(np.uint8)
    before = np.where(starts > 0, acc[np.maximum(starts - 1, 0)], 0).astype(np.uint8)
    return out ^ before


def frame_chunk(line_nos: list[int], texts: list[str], tagblock_time: bool = True) -> tuple[pl.DataFrame, np.ndarray]:
    """Messages of the fast-framed lines, and a mask of the lines left for NmeaFramer.

    The frame has columns line_no, raw, payload, fill, ts (UTC), station.
    """
    n = len(texts)
    left = np.ones(n, dtype=bool)
    empty = pl.DataFrame(schema={"line_no": pl.Int64, "raw": pl.String, "payload": pl.String,
                                 "fill": pl.Int64, "ts": pl.Datetime("us", "UTC"), "station": pl.String})
    if n == 0 or not tagblock_time:
        return empty, left
    df = pl.DataFrame({"line_no": line_nos, "raw": texts}, schema={"line_no": pl.Int64, "raw": pl.String})
    df = df.with_columns(pl.col("raw").str.strip_chars())
    if df["raw"].str.starts_with("$").any():
        return empty, left
    parts = df["raw"].str.extract_groups(_LINE_RE)
    df = df.with_columns(parts.struct.unnest()).with_row_index("i")
    df = df.filter(pl.col("payload").is_not_null())
    if df.height == 0:
        return empty, left
    df = df.with_columns(
        pl.col("tag").str.extract(r"(?:^|,)c:(\d{1,13})(?:,|$)").alias("c"),
        pl.col("tag").str.extract(r"(?:^|,)s:([^,]*)(?:,|$)").alias("station"),
    )
    tag_ok = (_xor_of(df["tag"]) == np.array([int(h, 16) for h in df["tcs"].to_list()], dtype=np.uint8)) | (
        df["tcs"] == "00").to_numpy()
    body_ok = _xor_of(df["body"]) == np.array([int(h, 16) for h in df["cs"].to_list()], dtype=np.uint8)
    c = df["c"].cast(pl.Int64, strict=False)
    ok = tag_ok & body_ok & c.is_not_null().to_numpy()
    df = df.filter(pl.Series(ok))
    if df.height == 0:
        return empty, left
    cv = df["c"].cast(pl.Int64).to_numpy()
    micros = np.where(cv > 100_000_000_000, cv * 1_000, cv * 1_000_000)  # 13 digits = milliseconds
    ts = pl.Series("ts", micros, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    out = df.select("line_no", "raw", "payload", pl.col("fill").cast(pl.Int64), "station").with_columns(ts)
    out = out.select("line_no", "raw", "payload", "fill", "ts", "station")
    left[df["i"].to_numpy()] = False
    return out, left
