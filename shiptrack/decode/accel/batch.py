"""Decode a batch of assembled messages: the compiled fast path where it can, pyais where not.

``shiptrack.decode.accel.fast.decode_parts`` de-armours and extracts the fields of the
common types for the whole batch at once; the rows it does not vouch for (other
types, short payloads, invalid characters...) go one by one through
``shiptrack.decode.nmea.decode_message``, the pyais reference path. Both produce the
same records (tests/decode/test_decode_paths.py holds them to it on every real file).

The messages the bulk framer (``shiptrack.decode.accel.vframe``) found in a chunk are never
turned into Python strings: the decoder reads their payloads from the chunk's bytes
(the two sentences of a type 5 as two parts), and the text columns of the records
(``raw``, ``station``, ``dedup``) are Arrow string views made from the same bytes by a
compiled loop, so the frames are built in the schemas of ``shiptrack.decode.records``
without a per-row Python step, a join or a cast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shiptrack.decode import accounting, fields
from shiptrack.decode.accel.fast import (
    _PA,
    Decoded,
    _flatten,
    _i64,
    arrow_array,
    decode_parts,
    frame_validity,
    message_rows,
    string_array,
    text_array,
    to_frame,
)
from shiptrack.decode.accel.kernels import compiled, jit, readonly
from shiptrack.decode.records import (
    BASE_STATION_SCHEMA,
    DTYPES,
    POSITION_SCHEMA,
    STATIC_SCHEMA,
    BatchBuilder,
    empty_frame,
)
from shiptrack.decode.reference import (
    BASE_STATION_TYPES,
    BIT_LENGTHS_24,
    POSITION_TYPES,
    STATIC_TYPES,
    Message,
    bits_legal,
    decode_message,
)
from shiptrack.read.chunks import LineChunk

IntArray = npt.NDArray[np.int64]
U8Array = npt.NDArray[np.uint8]

# message id -> stored by us (a type we do not store is only counted)
_STORED = np.zeros(64, dtype=np.bool_)
_STORED[sorted(POSITION_TYPES | STATIC_TYPES | BASE_STATION_TYPES)] = True

MESSAGE_SCHEMA = {"line_no": pl.Int64(), "raw": pl.String(), "payload": pl.String(), "fill": pl.Int64(),
                  "ts": pl.Datetime("us", "UTC"), "station": pl.String()}

_TS = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_DATA = np.zeros(0, dtype=np.uint8)

Meta = Callable[[IntArray], dict[str, pa.Array]]


def messages_frame(messages: Sequence[Message]) -> pl.DataFrame:
    """NmeaFramer's assembled messages as a frame."""
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


def _no_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return (empty_frame(POSITION_SCHEMA), empty_frame(STATIC_SCHEMA), empty_frame(BASE_STATION_SCHEMA))


# ---------------------------------------------------------------- NmeaFramer's messages


def decode_messages(msgs: pl.DataFrame, builder: BatchBuilder) -> tuple[pl.DataFrame, ...]:
    """Frames (positions, statics, base stations) for the rows the fast path handles;
    the others are decoded by pyais into ``builder``. ``msgs`` follows MESSAGE_SCHEMA."""
    if msgs.height == 0:
        return _no_frames()
    raw, starts, lens, forced = _flatten(msgs["payload"])
    dec = decode_parts(raw, starts, starts + lens, np.arange(msgs.height), None, msgs["fill"].to_numpy(), forced,
                       raw_codes=True)

    def message(i: int) -> Message:
        r = msgs.row(i, named=True)
        return Message(r["line_no"], r["raw"], r["payload"], r["fill"], r["ts"], r["station"])

    dec = _count_and_fall_back(dec, builder, message, msgs["line_no"].to_numpy())
    meta_cols = msgs.select("ts", "station", "line_no", "raw", pl.col("payload").alias("dedup"))

    def meta(rows: IntArray) -> dict[str, pa.Array]:
        sub = meta_cols[rows] if rows.size != msgs.height else meta_cols
        return {name: sub[name].to_arrow() for name in sub.columns}

    return _record_frames(dec, meta)


# ---------------------------------------------------------------- the bulk-framed messages


@dataclass
class FramedMessages:
    """The messages the bulk framer assembled in a chunk: message ``k`` is line ``first[k]``
    of the chunk, followed by line ``second[k]`` for a message of two lines (-1 for one)."""

    chunk: LineChunk
    fr: Any  # shiptrack.decode.accel.vframe.Framed
    first: IntArray
    second: IntArray

    def __len__(self) -> int:
        return int(self.first.size)


@jit
def _text_views(buf: U8Array, rows: IntArray, first: IntArray, second: IntArray, starts: IntArray, ends: IntArray,
                sep: int) -> tuple[U8Array, U8Array]:
    """Arrow string views of a text column of the messages ``rows`` (see
    :class:`FramedMessages`): part ``j`` of a message is ``buf[starts[j]:ends[j]]``; a
    message of two parts is the first, the byte ``sep`` (none if negative) and the second.

    A view holds a text of up to 12 bytes itself; a longer one points into ``buf`` (data
    buffer 0, under 2 GiB) when it is there as it is (one part, or two lines separated
    by a newline only), else it is copied to the returned data buffer 1."""
    m = rows.size
    total = 0
    for k in range(m):
        r = rows[k]
        p, q = first[r], second[r]
        if q >= 0 and not (sep == 10 and starts[q] == ends[p] + 1 and buf[ends[p]] == 10):
            length = ends[p] - starts[p] + ends[q] - starts[q] + (1 if sep >= 0 else 0)
            total += length if length > 12 else 0
    v32 = np.zeros((m, 4), np.int32)  # length, then the text or its prefix, buffer index, offset
    v8 = v32.view(np.uint8)
    joined = np.empty(total, np.uint8)
    pos = 0
    for k in range(m):
        r = rows[k]
        p, q = first[r], second[r]
        a, la = starts[p], ends[p] - starts[p]
        if q >= 0 and sep == 10 and starts[q] == ends[p] + 1 and buf[ends[p]] == 10:
            a, la, q = starts[p], ends[q] - starts[p], -1  # both lines, as they are in buf
        b, lb = (starts[q], ends[q] - starts[q]) if q >= 0 else (0, 0)
        length = la + lb + (1 if sep >= 0 and q >= 0 else 0)
        v32[k, 0] = length
        if length <= 12:
            for j in range(la):
                v8[k, 4 + j] = buf[a + j]
            at = 4 + la
            if q >= 0:
                if sep >= 0:
                    v8[k, at] = sep
                    at += 1
                for j in range(lb):
                    v8[k, at + j] = buf[b + j]
        elif q < 0:
            for j in range(4):
                v8[k, 4 + j] = buf[a + j]
            v32[k, 3] = a
        else:
            for j in range(la):  # (loops: a slice assignment costs numba seconds to compile)
                joined[pos + j] = buf[a + j]
            at = pos + la
            if sep >= 0:
                joined[at] = sep
                at += 1
            for j in range(lb):
                joined[at + j] = buf[b + j]
            for j in range(4):
                v8[k, 4 + j] = joined[pos + j]
            v32[k, 2] = 1
            v32[k, 3] = pos
            pos += length
    return v8, joined


_text_views = compiled("text_views", _text_views)


def decode_framed(msgs: FramedMessages, builder: BatchBuilder) -> tuple[pl.DataFrame, ...]:
    """:func:`decode_messages` for the bulk-framed messages of a chunk, read from its bytes
    (the lines' payloads are the parts given to the decoder)."""
    if len(msgs) == 0:
        return _no_frames()
    chunk, fr = msgs.chunk, msgs.fr
    data = chunk.data
    if len(data) >= 1 << 31:
        raise ValueError("a chunk of 2 GiB or more: Arrow string views hold 32-bit offsets")
    buf = readonly(np.frombuffer(data, dtype=np.uint8))
    first, second = _i64(msgs.first), _i64(msgs.second)
    starts, ends = _i64(chunk.starts), _i64(chunk.ends)
    pay_s, pay_e, fill = _i64(fr.pay_s), _i64(fr.pay_e), _i64(fr.fill)
    sta_s, sta_e = _i64(fr.sta_s), _i64(fr.sta_e)
    has_s = readonly(np.ascontiguousarray(fr.has_s, dtype=np.bool_))
    dec = decode_parts(buf, pay_s, pay_e, first, second, fill, None, raw_codes=True)
    # a message's station is its first part's s:, else its second part's (as the framer's)
    named = _i64(np.where((second >= 0) & ~has_s[first] & has_s[np.maximum(second, 0)], second, first))

    def message(k: int) -> Message:
        i, j = int(first[k]), int(second[k])
        raw, payload = data[starts[i] : ends[i]].decode(), data[pay_s[i] : pay_e[i]].decode()
        if j >= 0:
            raw += "\n" + data[starts[j] : ends[j]].decode()
            payload += data[pay_s[j] : pay_e[j]].decode()
        n = int(named[k])
        station = data[sta_s[n] : sta_e[n]].decode() if has_s[n] else None
        when = _EPOCH + timedelta(microseconds=int(fr.ts_us[i]))
        return Message(int(chunk.line_nos[i]), raw, payload, int(fill[j if j >= 0 else i]), when, station)

    dec = _count_and_fall_back(dec, builder, message, chunk.line_nos[first])
    whole = pa.py_buffer(data)  # the texts of one line are views into the chunk's bytes (ASCII)
    alone = _i64(np.full(len(msgs), -1, dtype=np.int64))
    sta_e = _i64(np.where(has_s, sta_e, sta_s))  # no s: item, no text (the column is NULL there)

    def text(rows: IntArray, starts: IntArray, ends: IntArray, second: IntArray, sep: int,
             valid: npt.NDArray[np.bool_] | None = None, parts: IntArray = first) -> pa.Array:
        views, joined = _text_views(buf, rows, parts, second, starts, ends, sep)
        return string_array(views, [whole, joined], valid)

    def meta(rows: IntArray) -> dict[str, pa.Array]:
        rows = _i64(rows)
        lines = first[rows]
        return {
            "ts": arrow_array(fr.ts_us[lines], _TS),
            "station": text(rows, sta_s, sta_e, alone, -1, has_s[named[rows]], parts=named),
            "line_no": arrow_array(chunk.line_nos[lines], pa.int64()),
            "raw": text(rows, starts, ends, second, 10),  # two lines: joined by a newline
            "dedup": text(rows, pay_s, pay_e, second, -1),  # the whole payload
        }

    return _record_frames(dec, meta)


# ---------------------------------------------------------------- shared


def _count_and_fall_back(dec: Decoded, builder: BatchBuilder, message: Callable[[int], Message],
                         line_no: IntArray) -> Decoded:
    """Count the handled messages by type; send the others through pyais (``message(i)``:
    input row i as a :class:`Message`; ``line_no``: each row's first line), except those of
    a type we do not store whose bit length is one their type may have: decode_message would
    only count them. A handled row of a length its type may not have (``nmea.BIT_LENGTHS``)
    is taken out of the frames and goes through pyais too, which rejects it (bad_payload).
    Returns the decoded rows without those."""
    legal = bits_legal(dec.msg_type, dec.n_bits)
    st = dec.statics
    if st["row"].size:  # a type 24 has the lengths of its part
        is24 = st["msg_type"] == 24
        if is24.any():
            rows, part = st["row"][is24], st["partno"][is24]
            n = dec.n_bits[rows]
            (lo_a, hi_a), = BIT_LENGTHS_24[0]
            (lo_b, hi_b), = BIT_LENGTHS_24[1]
            lo, hi = np.where(part == 0, lo_a, lo_b), np.where(part == 0, hi_a, hi_b)
            legal[rows[(n < lo) | (n > hi)]] = False
    if not legal[dec.handled].all():
        dec = _drop_rows(dec, dec.handled & ~legal)
    handled = dec.handled
    rest = np.flatnonzero(~handled)
    t = dec.msg_type[rest]
    others = legal[rest] & ~_STORED[t & 63]
    if others.any():
        types, counts = np.unique(t[others], return_counts=True)
        for ty, n in zip(types.tolist(), counts.tolist(), strict=True):
            builder.type_counts[ty] += n
        builder.entries.add(line_no[rest[others]], accounting.OTHER_TYPE)
    for i in rest[~others].tolist():
        decode_message(message(i), builder)
    counts = np.bincount(dec.msg_type[handled].astype(np.intp), minlength=64)
    for ty in np.flatnonzero(counts).tolist():
        builder.type_counts[ty] += int(counts[ty])
    if counts[~_STORED].any():  # handled but only counted (type 11)
        builder.entries.add(line_no[handled & ~_STORED[dec.msg_type & 63]], accounting.OTHER_TYPE)
    return dec


def _drop_rows(dec: Decoded, drop: npt.NDArray[np.bool_]) -> Decoded:
    """The decoded rows without the input rows ``drop`` (which are then not handled)."""
    frames = []
    for frame in (dec.positions, dec.statics, dec.base_stations):
        keep = ~drop[frame["row"]]
        frames.append(frame if keep.all() else {name: col[keep] for name, col in frame.items()})
    return replace(dec, handled=dec.handled & ~drop, positions=frames[0], statics=frames[1],
                   base_stations=frames[2])


@jit
def _put_digits(views: U8Array, k: int, at: int, value: int) -> None:
    views[k, at] = 48 + value // 10
    views[k, at + 1] = 48 + value % 10


@jit
def _eta_views(msg_type: npt.NDArray[np.int8], month: npt.NDArray[np.int8], day: npt.NDArray[np.int8],
               hour: npt.NDArray[np.int8], minute: npt.NDArray[np.int8]) -> tuple[U8Array, npt.NDArray[np.bool_]]:
    """The ETA of type 5 rows as broadcast, ``MM-DDTHH:MM``, or ``MM-DD`` when the time is
    not available (hour > 23 or minute > 59); NULL without a date (month 1-12, day 1-31)
    and for other types (as nmea._eta). Arrow string views, all inline."""
    m = msg_type.size
    views = np.zeros((m, 16), np.uint8)
    valid = np.zeros(m, np.bool_)
    for k in range(m):
        mo, d, h, mi = month[k], day[k], hour[k], minute[k]
        if msg_type[k] != 5 or not (1 <= mo <= 12 and 1 <= d <= 31):
            continue
        valid[k] = True
        _put_digits(views, k, 4, mo)
        views[k, 6] = 45  # '-'
        _put_digits(views, k, 7, d)
        if h <= 23 and mi <= 59:
            views[k, 9] = 84  # 'T'
            _put_digits(views, k, 10, h)
            views[k, 12] = 58  # ':'
            _put_digits(views, k, 13, mi)
            views[k, 0] = 11
        else:
            views[k, 0] = 5
    return views, valid


_eta_views = compiled("eta_views", _eta_views)


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@jit
def _station_times(year: npt.NDArray[np.int16], month: npt.NDArray[np.int8], day: npt.NDArray[np.int8],
                   hour: npt.NDArray[np.int8], minute: npt.NDArray[np.int8],
                   second: npt.NDArray[np.int8]) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The UTC time a base station reports, in microseconds since the epoch, valid where
    Python's ``datetime(year, month, day, hour, minute, second)`` is (as
    nmea.base_station_row: years 1-9999, real days, no leap second)."""
    m = year.size
    us = np.zeros(m, np.int64)
    valid = np.zeros(m, np.bool_)
    for k in range(m):
        y, mo, d = np.int64(year[k]), np.int64(month[k]), np.int64(day[k])
        h, mi, s = np.int64(hour[k]), np.int64(minute[k]), np.int64(second[k])
        if not (1 <= y <= 9999 and 1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 59):
            continue
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        if not 1 <= d <= _MONTH_DAYS[mo] + (1 if mo == 2 and leap else 0):
            continue
        # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
        yy = y - 1 if mo <= 2 else y
        era = yy // 400
        yoe = yy - era * 400
        doy = (153 * ((mo + 9) % 12) + 2) // 5 + d - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        us[k] = (((days * 24 + h) * 60 + mi) * 60 + s) * 1_000_000
        valid[k] = True
    return us, valid


_station_times = compiled("station_times", _station_times)


def _record_frames(dec: Decoded, meta: Meta) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The handled rows as frames of the records schemas; ``meta(rows)``: the ts, station,
    line_no, raw and dedup columns of those input rows, as Arrow arrays."""
    return _positions(dec.positions, meta), _statics(dec.statics, meta), _base_stations(dec.base_stations, meta)


def _frame(arrays: dict[str, pa.Array], meta: dict[str, pa.Array], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    arrays |= meta
    return to_frame({name: arrays[name] for name in schema})


def _stored_columns(frame: str, cols: dict[str, np.ndarray], partno: npt.NDArray[np.int8] | None = None
                    ) -> dict[str, pa.Array]:
    """The record columns filled by one field each (``fields.stored``), read from the frame
    ``cols`` of the compiled decoder: NULL where the row's message has no such field, and a
    not-available value stored as its table says (``na_stored``), as reference._values."""
    tables, keys = fields.FRAMES[frame]
    t = cols["msg_type"]
    valid = frame_validity(frame, t, partno)
    out: dict[str, pa.Array] = {}
    for table in tables:
        for f in fields.stored(table):
            assert f.column is not None
            if f.column in out:
                continue
            values, ok = cols[f.name], valid[f.name]
            for key in keys:
                g = next((g for g in fields.MESSAGES[key] if g.name == f.name), None)
                if g is None or g.na_stored is None:
                    continue
                hit = message_rows(key, t, partno) & (values == g.na)
                if hit.any():
                    if isinstance(g.na_stored, str):  # "null"
                        ok = ok & ~hit
                    else:
                        values = np.where(hit, g.na_stored, values).astype(values.dtype)
            if f.kind == "text":
                out[f.column] = text_array(values, cols[f.name + "_len"], ok)
            else:
                out[f.column] = arrow_array(values, _PA[DTYPES[f.dtype]], ok)
    return out


def _positions(p: dict[str, np.ndarray], meta: Meta) -> pl.DataFrame:
    arrays = _stored_columns("positions", p) | {"msg_type": arrow_array(p["msg_type"], pa.int8())}
    return _frame(arrays, meta(p["row"]), POSITION_SCHEMA)


def _statics(s: dict[str, np.ndarray], meta: Meta) -> pl.DataFrame:
    """The stored fields, and the columns made of several: the part of a type 24, the ETA."""
    t, partno = s["msg_type"], s["partno"]
    is24 = t == 24
    part = np.zeros((t.size, 16), dtype=np.uint8)
    part[is24, 0] = 1
    part[is24, 4] = np.where(partno[is24] == 0, ord("A"), ord("B"))
    eta, eta_valid = _eta_views(t, s["month"], s["day"], s["hour"], s["minute"])
    arrays = _stored_columns("statics", s, partno) | {
        "msg_type": arrow_array(t, pa.int8()),
        "part": string_array(part, [_NO_DATA], is24),
        "eta": string_array(eta, [_NO_DATA], eta_valid),
    }
    return _frame(arrays, meta(s["row"]), STATIC_SCHEMA)


def _base_stations(b: dict[str, np.ndarray], meta: Meta) -> pl.DataFrame:
    """The stored fields, and the station's own time made of six."""
    keep = b["msg_type"] == 4  # type 11 (a mobile's answer to a UTC request) is only counted
    if not keep.all():
        b = {name: col[keep] for name, col in b.items()}
    stamp, stamp_valid = _station_times(b["year"], b["month"], b["day"], b["hour"], b["minute"], b["second"])
    arrays = _stored_columns("base_stations", b) | {"station_time": arrow_array(stamp, _TS, stamp_valid)}
    return _frame(arrays, meta(b["row"]), BASE_STATION_SCHEMA)
