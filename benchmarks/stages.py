"""Where ingest time goes: each stage of an ingest run one after the other, timed alone.

    .venv/bin/python benchmarks/stages.py CORPUS.nmea [--json]

``shiptrack ingest`` overlaps decoding (a helper thread) with the DuckDB writes, so
its wall time hides which stage costs what. Here the same library calls run
sequentially in one thread, each timed in CPU seconds of this process: imports,
reading the file into line chunks, framing and decoding, preparing the batches
(cleaning, de-duplication keys), DuckDB inserts, and the commit.

Then the same prepared batches are stored and committed again, into a new store,
with the ``raw`` column left empty (``store_no_raw``): the share of the DuckDB work
that goes to writing (and compressing) the sentences as received.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

STAGES = ("imports", "read", "decode", "prepare", "store", "commit")


def _cpu() -> float:
    return time.process_time()


def measure_stages(corpus: Path) -> dict[str, float]:
    t = _cpu()
    from shiptrack.decode.stream import decode_nmea_chunks
    from shiptrack.ingest import CHUNK_BYTES, ingest_settings
    from shiptrack.read.sources import expand_inputs
    from shiptrack.store.db import connect
    from shiptrack.store.load import Loader

    out = {"imports": _cpu() - t}
    src = expand_inputs([str(corpus)])[0]
    t = _cpu()
    chunks = list(src.chunks(CHUNK_BYTES))
    out["read"] = _cpu() - t
    with tempfile.TemporaryDirectory(prefix="shiptrack-stages-") as tmp:
        con = connect(Path(tmp) / "stages.duckdb")
        with ingest_settings(con):
            con.execute("BEGIN TRANSACTION")
            loader = Loader(con, 1)
            batches = decode_nmea_chunks(iter(chunks))
            out |= {"decode": 0.0, "prepare": 0.0, "store": 0.0}
            kept = []
            while True:
                t = _cpu()
                batch = next(batches, None)
                out["decode"] += _cpu() - t
                if batch is None:
                    break
                t = _cpu()
                prepared = loader.prepare(batch)
                out["prepare"] += _cpu() - t
                kept.append(prepared)
                t = _cpu()
                loader.store(prepared)
                out["store"] += _cpu() - t
            t = _cpu()
            loader.finish()  # the rows held back for a larger INSERT
            out["store"] += _cpu() - t
            t = _cpu()
            con.execute("COMMIT")
            out["commit"] = _cpu() - t
        out["messages"] = loader.counts.messages
        con.close()
        out["store_no_raw"] = _store_without_raw(Path(tmp) / "no_raw.duckdb", kept)
    return out


def _store_without_raw(db: Path, kept: list) -> float:
    """CPU seconds to store and commit the prepared batches with ``raw`` empty."""
    import polars as pl

    from shiptrack.ingest import ingest_settings
    from shiptrack.store.db import connect
    from shiptrack.store.load import Loader, Rows

    for prepared in kept:
        prepared.frames = {
            table: Rows(rows.frame.with_columns(pl.lit(None, pl.String).alias("raw")), rows.mmsi, rows.key, rows.t)
            if isinstance(rows, Rows) and rows.height else rows
            for table, rows in prepared.frames.items()}
    con = connect(db)
    with ingest_settings(con):
        con.execute("BEGIN TRANSACTION")
        loader = Loader(con, 1)
        t = _cpu()
        for prepared in kept:
            loader.store(prepared)
        loader.finish()
        con.execute("COMMIT")
        spent = _cpu() - t
    con.close()
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()
    res = measure_stages(args.corpus)
    if args.json:
        print(json.dumps(res))
        return
    for name in STAGES:
        print(f"{name:>8}: {res[name]:6.2f} s CPU")
    print(f"{'total':>8}: {sum(res[s] for s in STAGES):6.2f} s CPU for {res['messages']:,} messages")
    print(f"store and commit with the raw column empty: {res['store_no_raw']:.2f} s CPU")


if __name__ == "__main__":
    main()
