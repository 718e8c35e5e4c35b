"""Decoding a large file in worker processes gives exactly what the sequential path gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, query, run_cli

sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import generate_corpus  # noqa: E402


@pytest.mark.slow
def test_two_workers_store_exactly_what_one_does(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.nmea"
    generate_corpus(corpus, 250_000, seed=3)  # about 19 MB: several 4 MB chunks
    tables = {}
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.duckdb"
        result = run_cli(["ingest", "--workers", str(workers), corpus], db)
        assert result.exit_code == 0, result.output
        tables[workers] = {
            t: query(db, f"SELECT * EXCLUDE (source_id) FROM {t} ORDER BY ALL")
            for t in ("positions", "static_reports", "base_stations", "rejects")
        } | {"sources": query(db, "SELECT lines_read, messages, positions, static_reports, duplicates, "
                                  "rejects, type_counts FROM sources")}
    assert tables[1]["positions"] and tables[1] == tables[2]
