"""The loader's de-duplication, against a plain model of its rule, on random batches.

A row is skipped when (a) the previous row of the batch with the same MMSI and
``dedup`` (by ts, line_no) is less than the window earlier (the same ts when the
window is 0), or (b) the store already holds a row with that MMSI and ``dedup``
within the window either side. The loader takes shortcuts (in-memory checks when no
other source overlaps in time); they must never change the outcome.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shiptrack.decode.keys import dup_keys, seen_in
from shiptrack.decode.records import POSITION_SCHEMA, Batch
from shiptrack.store.db import connect
from shiptrack.store.load import KEY_HASH, Loader, Rows, _by_key

T0 = datetime(2018, 2, 12, tzinfo=UTC)


def _us(ts: datetime) -> int:
    return int((ts - T0) / timedelta(microseconds=1))


def model(batches: list[tuple[int, pl.DataFrame]], window_s: float) -> list[tuple[int, int, int]]:
    """(source_id, line_no, mmsi) of the rows a faithful loader stores, sorted."""
    w = window_s * 1_000_000
    stored: list[tuple[int, str, int]] = []
    out = []
    for source_id, frame in batches:
        rows = sorted(frame.iter_rows(named=True), key=lambda r: (r["mmsi"], r["dedup"], r["ts"], r["line_no"]))
        prev: dict[tuple[int, str], int] = {}
        kept = []
        for r in rows:
            t, k = _us(r["ts"]), (r["mmsi"], r["dedup"])
            p = prev.get(k)
            prev[k] = t
            if p is not None and ((t - p < w) if w > 0 else t == p):
                continue
            if any(m == r["mmsi"] and d == r["dedup"] and abs(s - t) <= w for m, d, s in stored):
                continue
            kept.append(r)
        stored += [(r["mmsi"], r["dedup"], _us(r["ts"])) for r in kept]
        out += [(source_id, r["line_no"], r["mmsi"]) for r in kept]
    return sorted(out)


def positions(rng: random.Random, n: int, line0: int, t_lo: int, t_hi: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        rows.append({"mmsi": 211000000 + rng.randrange(4), "ts": T0 + timedelta(seconds=rng.randint(t_lo, t_hi)),
                     "lat": 1.0, "lon": 2.0, "msg_type": 1, "line_no": line0 + i, "raw": f"line {line0 + i}",
                     "dedup": rng.choice(["A", "B", "C", "D", "E"])})
    return pl.DataFrame(rows).select(
        [pl.col(c) if c in rows[0] else pl.lit(None).alias(c) for c in POSITION_SCHEMA]).cast(POSITION_SCHEMA)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("window_s", [60.0, 0.0])
@pytest.mark.parametrize("flush_rows", [0, 1, 70, 10**9], ids=["append", "flush1", "flush70", "at-end"])
def test_loader_matches_the_dedup_rule(tmp_path: Path, seed: int, window_s: float, flush_rows: int) -> None:
    """``append`` inserts each batch at once; ``store`` holds rows back until ``flush_rows``
    are waiting (or ``finish``): the rows stored must be the same."""
    check_loader(tmp_path, seed, window_s, flush_rows)


def check_loader(tmp_path: Path, seed: int, window_s: float, flush_rows: int) -> None:
    rng = random.Random(seed)
    con = connect(tmp_path / "d.duckdb")
    batches: list[tuple[int, pl.DataFrame]] = []
    line = 1
    for source_id in (1, 2, 3):
        con.execute("BEGIN TRANSACTION")
        loader = Loader(con, source_id, flush_rows=flush_rows)
        t = rng.randint(0, 400)
        for _ in range(rng.randint(1, 5)):
            lo = t + rng.randint(-300, 200)  # batches overlap, go back in time, or jump ahead
            frame = positions(rng, rng.randint(1, 60), line, lo, lo + rng.randint(0, 250))
            line += frame.height
            t = lo + 250
            batches.append((source_id, frame))
            batch = Batch(positions=frame, dedup_window_s=window_s)
            if flush_rows:
                loader.store(loader.prepare(batch))
            else:
                loader.append(batch)
        loader.finish()
        con.execute("COMMIT")
    assert con.execute("SELECT value FROM meta WHERE key = 'dup_key_hash'").fetchall() == [(KEY_HASH,)]
    got = sorted(con.execute("SELECT source_id, line_no, mmsi FROM positions").fetchall())
    assert got == model(batches, window_s)
    con.close()


def test_dup_keys_are_stable_and_distinguish_texts() -> None:
    texts = pl.Series(["", "A", "AB", "13u?etPv2;0n:dDPwUM1U1Cb069D", "13u?etPv2;0n:dDPwUM1U1Cb069E", "é" * 9])
    keys = dup_keys(texts)
    assert len(set(keys.tolist())) == len(texts)
    # fixed values: a stored key must never change
    assert keys[:3].tolist() == dup_keys(pl.Series(["", "A", "AB"])).tolist()
    pinned = pl.Series(["", "A", "AB", "1234567", "12345678", "123456789", "13u?etPv2;0n:dDPwUM1U1Cb069D", "é" * 9,
                        None])
    assert [hex(k) for k in dup_keys(pinned).tolist()] == [
        "0x0", "0xed2da59fb4b40fc6", "0xe105d93dc75588b6", "0x3aa9dab0f7e72d36", "0x57098928efe89606",
        "0xbfbdf1ab9f963579", "0xe07e707801774880", "0xc90b5e3e4f026321", "0x0"]
    assert np.array_equal(dup_keys(texts.slice(3, 2)), keys[3:5])


def _reference_key(text: str) -> int:
    """dup_keys's definition, one text at a time in plain Python."""
    data, mask = text.encode(), (1 << 64) - 1
    h = len(data) * 0x9E3779B97F4A7C15 & mask
    for i in range(0, len(data), 8):
        w = int.from_bytes(data[i : i + 8].ljust(8, b"\0"), "little")
        h = ((h ^ w) * 0xBF58476D1CE4E5B9 & mask) ^ (h >> 31)
    return h


def test_dup_keys_follow_their_definition_on_every_layout() -> None:
    """Columns as the decoders make them (Arrow string views into several buffers: a
    chunk's bytes, joined two-line texts), sliced, concatenated, with NULLs."""
    from shiptrack.decode.stream import decode_nmea
    from tests.conftest import FIXTURES, encode, tagged

    texts = (FIXTURES / "peer" / "kystverket-sample" / "norwegian.raw").read_text().splitlines()
    texts += [tagged(p, 1733782100 + k, "r1") for k in range(30)
              for p in encode({"type": 5, "mmsi": 257000000 + k, "shipname": "A" * k}, seq_id=k % 10)]
    batches = list(decode_nmea(enumerate(texts, 1), batch_messages=100))
    assert batches[-2].statics["raw"].str.contains("\n").sum() >= 20  # bulk-framed type 5s (two-line texts)
    columns = [getattr(b, f)[c] for b in batches for f in ("positions", "statics") for c in ("dedup", "raw")]
    columns += [pl.concat(columns[:6], rechunk=False), columns[1].slice(3, 50),
                pl.Series(["é" * 5, None, "", "x" * 13, "y" * 12], dtype=pl.String)]
    for col in columns:
        want = [_reference_key(t if t is not None else "") for t in col.to_list()]
        assert dup_keys(col).tolist() == want


@pytest.mark.parametrize("seed", range(4))
def test_seen_in_finds_the_rows_a_plain_search_finds(seed: int) -> None:
    """The in-memory check against the previous batch (a hash table of its keys) agrees with
    a plain search, with repeated keys, few keys and no keys in common."""
    rng = np.random.default_rng(seed)
    n_prev, n = [(0, 5), (1, 1), (300, 500), (2000, 2000)][seed]
    pool = rng.integers(0, 2**64 - 1, size=7 if seed == 1 else 40, dtype=np.uint64)
    prev = Rows(pl.DataFrame(), rng.integers(0, 3, n_prev), rng.choice(pool, n_prev), rng.integers(0, 100, n_prev))
    mmsi, key, t = rng.integers(0, 3, n), rng.choice(pool, n), rng.integers(0, 100, n)
    last = _by_key(prev)
    assert last.slots.size >= 2 * n_prev and last.slots.size & (last.slots.size - 1) == 0
    found = seen_in(mmsi, key, t, last.mmsi, last.key, last.t, last.slots, 10)
    out = found if found is not None else np.zeros(n, dtype=np.bool_)
    want = [any(prev.mmsi[j] == mmsi[i] and prev.key[j] == key[i] and abs(int(prev.t[j]) - int(t[i])) <= 10
                for j in range(n_prev)) for i in range(n)]
    assert out.tolist() == want and (found is not None) == any(want)
