"""Decode a batch of assembled messages: the vectorized fast path where it can, pyais where not.

``shiptrack.decode.fast.decode_batch`` de-armours and extracts the fields of the
common types for the whole batch at once; the rows it does not vouch for (other
types, short payloads, invalid characters...) go one by one through
``shiptrack.decode.nmea.decode_message``, the pyais reference path. Both produce the
same records (tests/test_decode_paths.py holds them to it on every real file).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from shiptrack.decode.fast import decode_batch
from shiptrack.decode.nmea import BASE_STATION_TYPES, POSITION_TYPES, STATIC_TYPES, Message, decode_message
from shiptrack.decode.records import (
    BASE_STATION_SCHEMA,
    POSITION_SCHEMA,
    STATIC_SCHEMA,
    BatchBuilder,
    empty_frame,
)

_STORED_TYPES = np.array(sorted(POSITION_TYPES | STATIC_TYPES | BASE_STATION_TYPES))

MESSAGE_SCHEMA = {"line_no": pl.Int64(), "raw": pl.String(), "payload": pl.String(), "fill": pl.Int64(),
                  "ts": pl.Datetime("us", "UTC"), "station": pl.String()}


def messages_frame(messages: Sequence[Message]) -> pl.DataFrame:
    """NmeaFramer's assembled messages as a frame (the fast framer makes the same columns)."""
    return pl.DataFrame(
        {
            "line_no": [m.line_no for m in messages],
            "raw": [m.raw for m in messages],
            "payload": [m.payload for m in messages],
            "fill": [m.fill for m in messages],
            "ts": [m.time for m in messages],
            "station": [m.station for m in messages],
        },
        schema=MESSAGE_SCHEMA,
    )


def _eta() -> pl.Expr:
    mo, day, hour, minute = pl.col("month"), pl.col("day"), pl.col("hour"), pl.col("minute")
    date = pl.format("{}-{}", mo.cast(pl.String).str.zfill(2), day.cast(pl.String).str.zfill(2))
    time = pl.format("T{}:{}", hour.cast(pl.String).str.zfill(2), minute.cast(pl.String).str.zfill(2))
    has_date = mo.is_between(1, 12) & day.is_between(1, 31)
    has_time = (hour <= 23) & (minute <= 59)
    return (
        pl.when(has_date & has_time).then(date + time)
        .when(has_date).then(date)
        .otherwise(None)
    )


def decode_messages(msgs: pl.DataFrame, builder: BatchBuilder) -> tuple[pl.DataFrame, ...]:
    """Frames (positions, statics, base stations) for the rows the fast path handles;
    the others are decoded by pyais into ``builder``. ``msgs`` follows MESSAGE_SCHEMA."""
    if msgs.height == 0:
        return (empty_frame(POSITION_SCHEMA), empty_frame(STATIC_SCHEMA), empty_frame(BASE_STATION_SCHEMA))
    res = decode_batch(msgs["payload"], msgs["fill"].to_numpy(), raw_codes=True)
    handled = res.handled
    # a type we do not store (8, 21, ...) whose first character is armour: decode_message
    # would only count it (no field to check, no minimum length)
    others = ~handled & (res.msg_type >= 0) & (res.n_bits >= 6) & ~np.isin(res.msg_type, _STORED_TYPES)
    if others.any():
        types, counts = np.unique(res.msg_type[others], return_counts=True)
        for t, n in zip(types.tolist(), counts.tolist(), strict=True):
            builder.type_counts[t] += n
    for i in np.flatnonzero(~handled & ~others):
        r = msgs.row(int(i), named=True)
        decode_message(Message(r["line_no"], r["raw"], r["payload"], r["fill"], r["ts"], r["station"]), builder)
    types, counts = np.unique(res.msg_type[handled], return_counts=True)
    for t, n in zip(types.tolist(), counts.tolist(), strict=True):
        builder.type_counts[t] += n
    meta = msgs.select("ts", "station", "line_no", "raw", pl.col("payload").alias("dedup"))

    def with_meta(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([frame, meta[frame["index"].to_numpy()]], how="horizontal")

    pos = with_meta(res.positions.filter(pl.col("msg_type").is_in(list(POSITION_TYPES))))
    is27 = pl.col("msg_type") == 27
    pos = pos.select(
        "mmsi", "ts", "lat", "lon",
        # type 27: whole knots and degrees, 63 and 511 = not available (as nmea.position_row)
        pl.when(is27 & (pl.col("speed") == 63)).then(102.3).otherwise(pl.col("speed")).alias("sog"),
        pl.when(is27 & (pl.col("course") == 511)).then(360.0).otherwise(pl.col("course")).alias("cog"),
        "heading", pl.col("status").alias("nav_status"), "accuracy", "msg_type",
        "station", "line_no", "raw", "dedup",
    ).cast(POSITION_SCHEMA, strict=False)  # type: ignore[arg-type]

    st = with_meta(res.statics.filter(pl.col("msg_type").is_in(list(STATIC_TYPES))))
    st = st.select(
        "mmsi", "ts", "msg_type",
        pl.when(pl.col("msg_type") == 24).then(
            pl.when(pl.col("partno") == 0).then(pl.lit("A")).otherwise(pl.lit("B"))
        ).alias("part"),
        pl.when(pl.col("imo") == 0).then(None).otherwise(pl.col("imo")).alias("imo"),
        pl.col("shipname").alias("name"), "callsign", "ship_type",
        "to_bow", "to_stern", "to_port", "to_starboard", "draught", "destination",
        pl.when(pl.col("msg_type") == 5).then(_eta()).alias("eta"),
        "ais_version", "epfd", "station", "line_no", "raw", "dedup",
    ).cast(STATIC_SCHEMA, strict=False)  # type: ignore[arg-type]

    bs = with_meta(res.base_stations.filter(pl.col("msg_type") == 4))
    stamp = pl.format(
        "{}-{}-{} {}:{}:{}", pl.col("year"), pl.col("month"), pl.col("day"),
        pl.col("hour"), pl.col("minute"), pl.col("second"),
    ).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_zone="UTC")
    bs = bs.select(
        "mmsi", "ts", stamp.alias("station_time"), "lat", "lon", "accuracy", "epfd",
        "station", "line_no", "raw", "dedup",
    ).cast(BASE_STATION_SCHEMA, strict=False)  # type: ignore[arg-type]
    return pos, st, bs
