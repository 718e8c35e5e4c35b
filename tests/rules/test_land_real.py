"""position_on_land on real archives: no finding beside a mapped lake or river, and the real
river traffic that no map shows (the Parramatta, the Brisbane River, the Kiel Canal) unflagged.

The files are in fixtures/water/archives (see its README) and fixtures/nmea."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from shiptrack.reference.land import inland_distance_km
from shiptrack.reference.water import inland_water_km
from tests.audit import land_beside_water
from tests.conftest import FIXTURES, run_cli

ARCHIVES = sorted((FIXTURES / "water" / "archives").glob("*.gz")) + [
    FIXTURES / "nmea" / name for name in ("ais-nmea.log", "nmea-timestamped.txt", "test.aivdm", "gfw-sample-ms.nmea")]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("real") / "real.duckdb"
    run_cli(["ingest", *ARCHIVES], db)  # some lines of these files are rejects: exit status 1
    result = run_cli(["detect", "--rules", "position_on_land"], db)
    assert result.exit_code == 0, result.output
    return db


def test_no_position_on_land_beside_a_mapped_lake_or_river(store: Path) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM positions").fetchone()[0] > 25000
        assert land_beside_water(con) == []
        events = con.execute("SELECT mmsi, details->>'$.reason' FROM events WHERE kind = 'position_on_land'").fetchall()
    finally:
        con.close()
    # nothing is left: the one fix there was, on the Antarctic plateau 390 km from the sea (libais
    # test.aivdm, line 321), came from a type 27 of 376 bits, which is 96 (or 168): a bad_payload
    assert events == []


@pytest.mark.parametrize(("mmsi", "where"), [(503376200, "Parramatta River ferry"), (503575800, "Brisbane River"),
                                             (212706000, "Kiel Canal"), (440211000, "Kiel Canal")])
def test_real_ships_off_every_map_are_not_flagged(store: Path, mmsi: int, where: str) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        pts = con.execute("SELECT lat, lon FROM positions WHERE mmsi = ? AND lat IS NOT NULL", [mmsi]).fetchnumpy()
        flagged = con.execute("SELECT count(*) FROM events WHERE kind = 'position_on_land' AND mmsi = ?",
                              [mmsi]).fetchone()[0]
    finally:
        con.close()
    lat, lon = np.asarray(pts["lat"]), np.asarray(pts["lon"])
    off_map = (inland_distance_km(lat, lon) > 5.0) & (inland_water_km(lat, lon).km > 3.0)
    assert off_map.sum() >= 1, where  # the maps call this ship's positions land
    assert flagged == 0, where
