"""Exports reporters open: spreadsheet-safe CSV, parseable GeoJSON/KML, and a report that
meets a busy database waits a bounded time, then fails clearly."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ingest_lines, ping, run_cli, voyage

EVIL = '=HYPERLINK("X.CO")'  # AIS text is 6-bit: upper case, at most 20 characters


@pytest.fixture
def store(db: Path) -> Path:
    lines = [ping("2018-02-01T00:00:00Z", 42.40, -70.80, 0.0, mmsi=366000001),
             ping("2018-02-01T00:10:00Z", 42.41, -70.81, 0.0, mmsi=366000001)]
    lines += voyage("2018-02-01T00:01:00Z", 366000001, name=EVIL, destination="+SUM(1,2)", callsign="-A1")
    lines += voyage("2018-02-01T00:11:00Z", 366000001, name=EVIL, destination="-2+3 BOSTON", callsign="-A1",
                    seq_id=2)
    ingest_lines(db, lines)
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    return db


def test_csv_neutralises_formulas_and_keeps_numbers(store: Path) -> None:
    out = run_cli(["events", "--format", "csv"], store).output
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["vessel_name"] == "'" + EVIL  # shown as text by a spreadsheet, not run
    assert row["lon"] == "-70.81" and float(row["lat"]) == pytest.approx(42.41)  # numbers stay numbers
    assert json.loads(row["details"])["from"] == "+SUM(1,2)"  # JSON text starts with '{': untouched
    track = list(csv.DictReader(io.StringIO(run_cli(["track", "366000001", "--format", "csv"], store).output)))
    assert [r["lon"] for r in track] == ["-70.8", "-70.81"]
    assert all(r["ts"].endswith("Z") and "T" in r["ts"] for r in track)
    q = run_cli(["query", "SELECT name, callsign, destination FROM static_reports ORDER BY ts", "--format", "csv"],
                store).output
    rows = list(csv.DictReader(io.StringIO(q)))
    assert [r["destination"] for r in rows] == ["'+SUM(1,2)", "'-2+3 BOSTON"]
    assert {r["callsign"] for r in rows} == {"'-A1"}


def test_unsafe_csv_for_machines(store: Path) -> None:
    out = run_cli(["events", "--format", "csv", "--unsafe-csv"], store).output
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["vessel_name"] == EVIL


def test_export_table_and_report_formats(store: Path, tmp_path: Path) -> None:
    import polars as pl

    pq = tmp_path / "positions.parquet"
    assert run_cli(["export", "positions", "--format", "parquet", "-o", pq], store).exit_code == 0
    assert pl.read_parquet(pq).height == 2
    gj = tmp_path / "pos.geojson"
    assert run_cli(["export", "positions", "--format", "geojson", "-o", gj], store).exit_code == 0
    feats = json.loads(gj.read_text())["features"]
    assert [f["geometry"]["coordinates"] for f in feats] == [[-70.8, 42.4], [-70.81, 42.41]]
    csv_path = tmp_path / "vessels.csv"
    assert run_cli(["export", "vessels", "--format", "csv", "-o", csv_path], store).exit_code == 0
    assert list(csv.DictReader(csv_path.open()))[0]["name"] == "'" + EVIL


def test_report_output_dir_keeps_a_history(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = run_cli(["report", "run", "identity_changes", "--param", "since=2018-01-01", "--format", "csv",
                      "--output-dir", out], store)
    assert result.exit_code == 0, result.output
    [f] = list(out.iterdir())
    assert f.name.startswith("identity_changes_") and f.name.endswith("Z.csv")


def test_bad_report_param_is_a_clear_error(store: Path) -> None:
    result = run_cli(["report", "run", "port_calls", "--param", "port=Atlantis"], store)
    assert result.exit_code == 2 and "no port matches 'Atlantis'" in result.output
    result = run_cli(["report", "run", "port_calls", "--param", "colour=red"], store)
    assert result.exit_code == 1 and "has no parameter colour" in result.output


@pytest.mark.slow
def test_report_during_an_ingest_waits_then_fails_clearly(store: Path) -> None:
    # another process holds the write lock (as a long ingest does)
    holder = subprocess.Popen([sys.executable, "-c",
                               f"import duckdb, time; c = duckdb.connect({str(store)!r}); "
                               "print('locked', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(store), "--wait", "2",
                                 "report", "run", "identity_changes"], capture_output=True, text=True)
        waited = time.monotonic() - t0
        # an ingest opens the store in a thread while it loads the decoder: the same answer
        ingest = subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(store), "--wait", "1",
                                 "ingest", str(FIXTURES / "nmea" / "norwegian.raw")],
                                capture_output=True, text=True)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "in use by another process" in result.stderr and "Traceback" not in result.stderr
    assert 1.5 <= waited < 15
    assert ingest.returncode == result.returncode
    assert "in use by another process" in ingest.stderr and "Traceback" not in ingest.stderr
    # once the writer is gone, the same report runs
    assert run_cli(["report", "run", "identity_changes", "--param", "since=2018-01-01"], store).exit_code == 0
