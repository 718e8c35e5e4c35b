"""The compiled loops of de-duplication: a 64-bit key of each row's ``dedup`` text, and a
hash table of a batch's keys that the next batch's rows are looked up in.

The store de-duplicates by them (``shiptrack.store.load``) through
:mod:`shiptrack.decode.keys`; they sit here with the other compiled loops, which are
built into one module ahead of time (:mod:`shiptrack.decode.accel.build`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shiptrack.decode.accel.kernels import compiled, jit, readonly

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def dup_keys(texts: pl.Series) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each text (its UTF-8 bytes), the ``dup_key`` of new stores.

    Defined here once and for all (stored keys must never change): start from the
    length times M1, then for each 8-byte little-endian word w of the text (the
    last one zero-padded): h = ((h ^ w) * M2) ^ (h >> 31). A compiled loop over the
    column's Arrow buffers, read in place; NULL hashes as "".
    """
    col = texts.cast(pl.String)
    if col.null_count():
        col = col.fill_null("")
    arr = col.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    out = np.zeros(n, dtype=np.uint64)
    if n == 0:
        return out
    if arr.type == pa.string_view() and len(arr.buffers()) <= 10:  # polars' own layout: no copy
        bufs = arr.buffers()
        views = np.frombuffer(bufs[1], dtype=np.int32, count=4 * (arr.offset + n)).reshape(-1, 4)[arr.offset :]
        lengths = views[:, 0].astype(np.int64)
        inline = lengths <= 12  # the text is in the view itself, from its 5th byte
        view_bytes = readonly(np.ascontiguousarray(views).reshape(-1).view(np.uint8))
        _hash_spans(view_bytes, _words(view_bytes), np.arange(4, 16 * n, 16, dtype=np.int64), lengths, inline, out)
        for k, buf in enumerate(bufs[2:]):  # else in data buffer k, at the offset in the view
            in_k = ~inline & (views[:, 2] == k)
            if in_k.any():
                data = np.frombuffer(buf, dtype=np.uint8)
                _hash_spans(data, _words(data), views[:, 3].astype(np.int64), lengths, in_k, out)
        return out
    arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2] if bufs[2] is not None else bytes(8), dtype=np.uint8)
    _hash_spans(data, _words(data), offsets[:-1].copy(), np.diff(offsets), np.ones(n, dtype=np.bool_), out)
    return out


@jit
def _hash_spans(data: npt.NDArray[np.uint8], words: npt.NDArray[np.uint64], starts: npt.NDArray[np.int64],
                lengths: npt.NDArray[np.int64], selected: npt.NDArray[np.bool_], out: npt.NDArray[np.uint64]) -> None:
    """``out[i]`` = :func:`dup_keys` of ``data[starts[i]:starts[i] + lengths[i]]`` where
    ``selected[i]``; ``words[j]``: the 8 bytes from ``data[j]`` on, little-endian."""
    shift = np.uint64(31)
    for i in range(starts.size):
        if not selected[i]:
            continue
        j, end = starts[i], starts[i] + lengths[i]
        h = np.uint64(lengths[i]) * _M1
        while j + 8 <= end:
            h = ((h ^ words[j]) * _M2) ^ (h >> shift)
            j += 8
        if j < end:  # the last, partial word, zero-padded
            if j < words.size:
                w = words[j] & ((np.uint64(1) << np.uint64(8 * (end - j))) - np.uint64(1))
            else:
                w = np.uint64(0)
                for b in range(end - j):
                    w |= np.uint64(data[j + b]) << np.uint64(8 * b)
            h = ((h ^ w) * _M2) ^ (h >> shift)
        out[i] = h


_hash_spans = compiled("hash_spans", _hash_spans)


def _words(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """The 8 bytes from each position of ``data`` on, as little-endian integers (unaligned loads)."""
    return np.ndarray((max(data.size - 7, 0),), dtype="<u8", buffer=data, strides=(1,))


@jit
def _fill_slots(key: npt.NDArray[np.uint64], slots: npt.NDArray[np.int64]) -> None:
    mask = np.uint64(slots.size - 1)
    for j in range(key.size):
        h = key[j] & mask  # the keys are hashes already: their low bits are spread
        while slots[h] != 0:
            h = (h + np.uint64(1)) & mask
        slots[h] = j + 1


_fill_slots = compiled("fill_slots", _fill_slots)


@jit
def _seen_in(mmsi: npt.NDArray[np.int64], key: npt.NDArray[np.uint64], t: npt.NDArray[np.int64],
             p_mmsi: npt.NDArray[np.int64], p_key: npt.NDArray[np.uint64], p_t: npt.NDArray[np.int64],
             slots: npt.NDArray[np.int64], window_us: int, out: npt.NDArray[np.bool_]) -> bool:
    """``out[i]``: an earlier row (``p_*``, its keys in ``slots``) has row i's MMSI and key,
    at most ``window_us`` apart in time. Returns whether any row was found."""
    mask = np.uint64(slots.size - 1)
    found = False
    for i in range(key.size):
        h = key[i] & mask
        while slots[h] != 0:
            j = slots[h] - 1
            if p_key[j] == key[i] and p_mmsi[j] == mmsi[i] and abs(t[i] - p_t[j]) <= window_us:
                out[i] = True
                found = True
                break
            h = (h + np.uint64(1)) & mask
    return found


_seen_in = compiled("seen_in", _seen_in)


def key_slots(key: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """A hash table of ``key`` (open addressing, at most half full: ``slots[h]`` is a row
    index + 1, or 0 for an empty slot), for :func:`seen_in`."""
    size = 1 << max(int(2 * key.size - 1).bit_length(), 4)
    slots = np.zeros(size, dtype=np.int64)
    _fill_slots(key, slots)
    return slots


def seen_in(mmsi: npt.NDArray[np.int64], key: npt.NDArray[np.uint64], t: npt.NDArray[np.int64],
            p_mmsi: npt.NDArray[np.int64], p_key: npt.NDArray[np.uint64], p_t: npt.NDArray[np.int64],
            slots: npt.NDArray[np.int64], window_us: int) -> npt.NDArray[np.bool_] | None:
    """Which rows have an earlier row (``p_*``, its keys in ``slots``) of the same MMSI and
    key at most ``window_us`` apart (None: none)."""
    out = np.zeros(key.size, dtype=np.bool_)
    return out if _seen_in(mmsi, key, t, p_mmsi, p_key, p_t, slots, window_us, out) else None
