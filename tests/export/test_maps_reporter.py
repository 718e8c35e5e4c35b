"""Maps as a reporter uses them: harbour-scale coastlines, a findings list that the legend never
covers, a nameless vessel titled once, and a PNG written whatever happens to standard output."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import shapely
from PIL import Image
from shapely.geometry import shape

from shiptrack.dossier import build_dossier
from shiptrack.export.maps import map_land, render_png
from shiptrack.reference import land_detail
from shiptrack.reference.land import land_geojson
from shiptrack.track import vessel_track
from tests.conftest import FIXTURES, ROOT, ingest_lines, ping, run_cli, voyage

BOSTON_SHIP = 215020081  # no name in the Boston harbour archive
BOSTON = (-71.1, 42.2, -70.75, 42.45)


@pytest.fixture(scope="module")
def boston(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("boston") / "boston.duckdb"
    result = run_cli(["ingest", FIXTURES / "archives" / "ais_points_DERIVED.csv"], db)
    assert result.exit_code == 0, result.output
    return db


def _union(gj: dict) -> shapely.Geometry:
    return shapely.union_all([shape(f["geometry"]) for f in gj["features"]])


def test_the_coastline_detail_follows_the_map_extent() -> None:
    full = shapely.union_all(land_detail.polygons(BOSTON))
    # harbour scale (the Boston map is about 0.4 degree across): Natural Earth 1:10m in full,
    # simplified by about a pixel; the land the rules use is ~1 km off there
    harbour = _union(map_land(0.4, BOSTON, 2500.0))
    coarse = _union(land_geojson(0.003, BOSTON))
    assert shapely.hausdorff_distance(harbour.boundary, full.boundary) * 111 < 0.05  # km
    assert shapely.hausdorff_distance(coarse.boundary, full.boundary) * 111 > 0.5
    assert shapely.get_num_coordinates(harbour) > 2 * shapely.get_num_coordinates(coarse)
    # a sea-basin map (30 degrees) draws the simplified land: few vertices for its size
    med = (-6.0, 30.0, 36.0, 46.0)
    wide = map_land(30.0, med, 2500.0)
    assert shapely.get_num_coordinates(_union(wide)) < 40_000


def test_vessel_png_is_written_when_stdout_closes_early_and_a_nameless_vessel_is_titled_once(
        boston: Path, tmp_path: Path) -> None:
    png, page = tmp_path / "boston.png", tmp_path / "boston.html"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    cmd = (f"{sys.executable} -m shiptrack --db {boston} vessel {BOSTON_SHIP} --png {png} --map {page} "
           "--format md | head -1")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.stdout.strip(), proc.stderr
    with Image.open(png) as img:
        assert img.size[0] > 1000
    title = html.unescape(re.search(r"<title>(.*?)</title>", page.read_text()).group(1))
    assert title.count(str(BOSTON_SHIP)) == 1 and title.startswith(f"MMSI {BOSTON_SHIP}")


def test_the_findings_list_stops_above_the_legend(tmp_path: Path, db: Path) -> None:
    mmsi = 636000111
    lines = [ping(f"2018-03-01T{h:02d}:00:00Z", 33.0, 20.0 + h / 10, mmsi=mmsi) for h in range(12)]
    for k in range(48):  # 47 destination changes
        lines += voyage(f"2018-03-0{2 + k // 24}T{k % 24:02d}:10:00Z", mmsi=mmsi, name="MANY",
                        destination=("SFAX" if k % 2 else "BENGHAZI"), seq_id=k % 9)
    ingest_lines(db, lines)
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    out = tmp_path / "many.png"
    result = run_cli(["vessel", str(mmsi), "--png", out], db)
    assert result.exit_code == 0 and out.stat().st_size > 10_000
    con = duckdb.connect(str(db), read_only=True)
    try:
        d = build_dossier(con, str(mmsi))
        track = vessel_track(con, mmsi)
    finally:
        con.close()
    layout = render_png(d, track, tmp_path / "again.png")
    assert len(d.timeline) >= 47
    assert 10 < layout["listed"] < len(d.timeline)  # the rest: "... and N more"
    assert layout["list_bottom"] > layout["legend_top"]
    assert layout["labels"] == ["1–47"]  # one short label on the map, not 47 numbers running off it
