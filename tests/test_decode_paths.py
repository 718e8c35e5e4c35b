"""The vectorized path and the pyais reference path give identical records on every real file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from shiptrack.decode.nmea import decode_nmea
from shiptrack.decode.normalize import clean_base_stations, clean_positions, clean_statics
from tests.conftest import FIXTURES

FILES = sorted(p for p in (FIXTURES / "nmea").iterdir() if p.suffix != ".md") + sorted(
    p for p in (FIXTURES / "peer").rglob("*") if p.is_file() and not p.name.endswith((".chk", ".json", ".md"))
)


def decoded(path: Path, fast: bool) -> dict[str, pl.DataFrame]:
    lines = ((i, t.rstrip("\r\n")) for i, t in enumerate(path.open(encoding="utf-8", errors="replace"), 1))
    batches = list(decode_nmea(lines, fast=fast, batch_messages=500))
    out = {}
    for name, clean in (("positions", clean_positions), ("statics", clean_statics),
                        ("base_stations", clean_base_stations)):
        frame = pl.concat([getattr(b, name) for b in batches])
        good, rej = clean(frame)
        out[name] = good.sort("line_no", "raw")
        out[name + "_rejects"] = rej.sort("line_no", "reason")
    out["rejects"] = pl.concat([b.rejects for b in batches]).sort("line_no", "reason", "raw")
    counts: dict[int, int] = {}
    for b in batches:
        for k, v in b.type_counts.items():
            counts[k] = counts.get(k, 0) + v
    out["type_counts"] = pl.DataFrame({"t": list(counts), "n": list(counts.values())}).sort("t")
    return out


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fast_and_reference_paths_agree(path: Path) -> None:
    fast, ref = decoded(path, True), decoded(path, False)
    for name in ref:
        assert fast[name].equals(ref[name], null_equal=True), (name, fast[name], ref[name])
    assert sum(v.height for k, v in ref.items() if k != "type_counts") > 0
