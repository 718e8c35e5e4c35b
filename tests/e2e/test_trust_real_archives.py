"""Findings on real archives must hold up: zero findings that the store itself proves false.

One store holds every real file in fixtures/ (AMSA's terrestrial log and exactEarth
satellite passes, the Danish Maritime Authority stream, Kystverket's feed, gpsd and libais
logs, GFW's vessel tracks with a shared MMSI, the Boston harbour tracks, a DMA CSV sample),
as a user would ingest a folder of downloads. After `shiptrack detect`, each check of
tests/audit.py (a gap across an archive hole, a probable call without moving, an accusation
with nobody heard, a gap faster than a ship sails, a position on land beside a lake or
river, a jump between two clocks, two ports at once, dark longer than observed) must find
nothing. (The Ural reconstruction's findings hold up too: tests/e2e/test_ural.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests import audit
from tests.conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow

GFW_COLUMNS = ["--columns", "mmsi=ssvid,ts=timestamp,lat=lat,lon=lon,sog=speed,cog=course"]
NMEA = [
    *sorted((FIXTURES / "peer").glob("*/*.txt")),
    *sorted((FIXTURES / "peer").glob("*/*.log")),
    *sorted((FIXTURES / "peer").glob("*/*.nmea")),
    *sorted((FIXTURES / "peer").glob("*/*.aivdm")),
    *sorted((FIXTURES / "peer").glob("*/*.raw")),
]
GFW = [FIXTURES / "archives" / "263576000.json", FIXTURES / "archives" / "416000000.json",
       FIXTURES / "segments" / "338013000.json"]
CSV = [FIXTURES / "archives" / "ais_points_DERIVED.csv", FIXTURES / "archives" / "test_aisdk_20180208_sample.csv"]


def ingest(db: Path, paths: list[Path], *extra: str) -> None:
    for path in paths:
        args = ["ingest", path, *extra]  # (gpsd's sample.aivdm, comments first, is recognised as NMEA)
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("real") / "real.duckdb"
    ingest(db, NMEA)
    ingest(db, GFW, *GFW_COLUMNS)
    ingest(db, CSV)
    result = run_cli(["detect"], db)
    assert result.exit_code == 0, result.output
    return db


def test_the_archive_store_is_what_a_user_downloads(archive: Path) -> None:
    con = duckdb.connect(str(archive), read_only=True)
    try:
        vessels, sources = con.execute(
            "SELECT (SELECT count(DISTINCT mmsi) FROM positions), (SELECT count(*) FROM sources)").fetchone()
        kinds = dict(con.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    finally:
        con.close()
    assert vessels > 2000 and sources == len(NMEA) + len(GFW) + len(CSV)
    # real findings remain: port calls (Boston, Taiwan, Pago Pago), gaps, and the shared MMSI
    assert kinds.get("port_call", 0) > 20 and kinds.get("ais_gap", 0) > 10 and kinds.get("spoofing_jump", 0) >= 1


@pytest.mark.parametrize("name", list(audit.CHECKS))
def test_no_finding_on_real_archives_is_proved_false_by_the_store(archive: Path, name: str) -> None:
    assert audit.proved_false(archive, name) == []


def test_boston_ships_at_their_berths_have_in_port_gaps_not_calls(archive: Path) -> None:
    con = duckdb.connect(str(archive), read_only=True)
    try:
        rows = con.execute(
            "SELECT e.kind, e.details FROM events e JOIN sources s ON s.source_id = e.evidence[1].source_id "
            "WHERE s.name LIKE '%ais_points_DERIVED.csv' AND e.kind IN ('dark_period', 'ais_gap')").fetchall()
    finally:
        con.close()
    details = [json.loads(d) for _, d in rows]
    assert rows and not any(d["probable_unreported_call"] for d in details)
    assert sum(d["in_port"] for d in details) >= 4


@pytest.mark.parametrize("name", ["exact-earth-augmented.txt", "exact-earth-augmented-2.txt",
                                  "exact-earth-augmented-3.txt"])
def test_a_satellite_pass_alone_gives_no_jump_from_its_own_two_clocks(tmp_path: Path, name: str) -> None:
    """Each exactEarth file alone (one satellite pass, about 1.5 h): its $PGHP receive times
    and its trailing ground-arrival times (15 to 110 minutes later) must never be
    interleaved in one track."""
    db = tmp_path / "pass.duckdb"
    ingest(db, [FIXTURES / "peer" / "amsa-risky" / name])
    result = run_cli(["detect", "--rules", "spoofing_jump"], db)
    assert result.exit_code == 0, result.output
    assert audit.proved_false(db, "jump between two clocks") == []
