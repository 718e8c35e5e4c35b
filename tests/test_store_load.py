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

from shiptrack.decode.records import POSITION_SCHEMA, Batch
from shiptrack.store.db import connect
from shiptrack.store.load import Loader, dup_keys

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
    got = sorted(con.execute("SELECT source_id, line_no, mmsi FROM positions").fetchall())
    assert got == model(batches, window_s)
    con.close()


def test_dup_keys_are_stable_and_distinguish_texts() -> None:
    texts = pl.Series(["", "A", "AB", "13u?etPv2;0n:dDPwUM1U1Cb069D", "13u?etPv2;0n:dDPwUM1U1Cb069E", "é" * 9])
    keys = dup_keys(texts)
    assert len(set(keys.tolist())) == len(texts)
    # fixed values: a stored key must never change
    assert keys[:3].tolist() == dup_keys(pl.Series(["", "A", "AB"])).tolist()
    assert np.array_equal(dup_keys(texts.slice(3, 2)), keys[3:5])
