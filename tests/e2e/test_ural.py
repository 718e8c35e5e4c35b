"""End to end on the Ural reconstruction (fixtures/ural): ingest, declare the voyage,
detect, then investigate through the real CLI. Times are asserted against the scripted
truth in scenario.json, within the stated tolerances."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from shiptrack.times import parse_utc
from tests.conftest import FIXTURES, query, run_cli

URAL = FIXTURES / "ural"
SCENARIO = json.loads((URAL / "scenario.json").read_text())
U = SCENARIO["ural"]
MMSI = U["mmsi"]
TOL = timedelta(minutes=10)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ural") / "ural.duckdb"
    for args in (["ingest", URAL / "ural.nmea"], ["route", "import", URAL / "routes.csv"], ["detect"]):
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output
    return db


def events(db: Path, kind: str, mmsi: int | None = None) -> list[dict]:
    rows = query(db, "SELECT mmsi, start_utc, end_utc, port, port_distance_nm, details, other_mmsi "
                     "FROM events WHERE kind = ? AND (? IS NULL OR mmsi = ?) ORDER BY start_utc",
                 [kind, mmsi, mmsi])
    return [dict(zip(("mmsi", "start", "end", "port", "dist", "details", "other"), r, strict=True))
            | {"details": json.loads(r[5])} for r in rows]


def close(a, b_iso: str, tol: timedelta = TOL) -> bool:
    return abs(a - parse_utc(b_iso)) <= tol


def test_ingest_counts_every_scripted_bad_line(store: Path) -> None:
    reasons = dict(query(store, "SELECT reason, count(*) FROM rejects GROUP BY 1"))
    bad = SCENARIO["bad_lines"]
    assert reasons["bad_checksum"] == bad["bad_checksum"]["count"]
    assert reasons["bad_tagblock"] == bad["bad_tagblock"]["count"]
    assert reasons["truncated"] == bad["truncated"]["count"]
    assert reasons["orphan_fragment"] == bad["orphan_fragment"]["count"]
    assert reasons["no_timestamp"] == bad["no_tagblock"]["count"]
    assert reasons["empty_line"] == bad["empty"]["count"]
    assert reasons["garbage"] == bad["binary"]["count"]
    assert query(store, "SELECT count(*) FROM positions WHERE mmsi = ?", [MMSI])[0][0] == U["positions_written"]


def test_sfax_is_an_unplanned_call(store: Path) -> None:
    [ev] = events(store, "unplanned_port_call", MMSI)
    assert ev["port"] == "Mersa Sfax"
    assert close(ev["start"], U["sfax"]["anchorage_arrival"], timedelta(minutes=30))
    assert close(ev["end"], U["sfax"]["departure"], timedelta(minutes=30))
    assert events(store, "unplanned_port_call") == [ev]  # nobody else: no other voyage is declared


def test_benghazi_dark_period_with_its_evidence(store: Path) -> None:
    [ev] = events(store, "dark_period", MMSI)
    dark = U["dark"]
    assert ev["port"] == "Banghazi"
    assert close(ev["start"], dark["last_before"]["time"]) and close(ev["end"], dark["first_after"]["time"])
    d = ev["details"]
    assert d["heading_to_port"] is True
    assert d["coverage"]["other_vessels"] >= 1  # the tanker calling at Benghazi was heard all along
    assert d["probable_unreported_call"] is True and d["probable_call_port"] == "Banghazi"
    assert (d["draught_before_m"], d["draught_after_m"]) == (6.5, 5.2)
    assert abs(d["nearest_port_start"]["distance_nm"] - dark["last_before"]["distance_to_benghazi_nm"]) < 1
    assert events(store, "dark_period") == [ev]  # nothing false on the ordinary traffic


def test_destination_changes_are_the_scripted_ones(store: Path) -> None:
    got = [(e["details"]["from"], e["details"]["to"], e["start"]) for e in events(store, "destination_change", MMSI)]
    want = U["destination_changes"]
    assert [(g[0], g[1]) for g in got] == [(w["old"], w["new"]) for w in want]
    assert all(close(g[2], w["time"]) for g, w in zip(got, want, strict=True))


def test_open_sea_gap_is_an_ais_gap_not_a_dark_period(store: Path) -> None:
    gap = SCENARIO["open_sea_gap"]
    [ev] = events(store, "ais_gap")
    assert ev["mmsi"] == gap["mmsi"] and close(ev["start"], gap["start"]) and close(ev["end"], gap["end"])


def test_nothing_false_on_the_ordinary_traffic(store: Path) -> None:
    for kind in ("identity_change", "sts_encounter", "position_on_land", "spoofing_jump"):
        assert events(store, kind) == [], kind
    assert {e["mmsi"] for e in events(store, "route_deviation")} <= {MMSI}
    tanker = SCENARIO["benghazi_tanker_call"]
    calls = [e for e in events(store, "port_call", tanker["mmsi"]) if e["port"] == "Banghazi"]
    # the tanker shuttles Augusta <> Benghazi: its call during the Ural's silence is one of them
    assert sum(close(c["start"], tanker["arrival"], timedelta(minutes=30)) for c in calls) == 1


def test_dossier_lists_sfax_unplanned_and_the_benghazi_dark_period(store: Path) -> None:
    out = run_cli(["vessel", "URAL", "--format", "md"], store).output
    assert "called at Mersa Sfax" in out and "**unplanned**" in out
    assert "AIS silent" in out and "Banghazi" in out and "probable unreported call" in out
    data = json.loads(run_cli(["vessel", str(MMSI), "--format", "json"], store).output)
    assert data["vessel"]["flag"] == "Panama" and data["time_dark_h"] == pytest.approx(U["dark"]["duration_h"], abs=0.2)
    kinds = [t["kind"] for t in data["timeline"]]
    assert "unplanned_port_call" in kinds and "dark_period" in kinds
    [voyage] = data["voyages"]
    assert [c["port"] for c in voyage["observed_calls"] if c["unplanned"]] == ["Mersa Sfax"]


@pytest.mark.parametrize(("report", "params", "expect"), [
    ("dark_near_ports", ["since=2018-02-01", "until=2018-03-05"], {MMSI}),
    ("port_calls", ["port=Benghazi", "since=2018-02-01", "until=2018-03-05"], {SCENARIO["benghazi_tanker_call"]["mmsi"]}),
    ("called_both", ["ports_a=Sfax", "ports_b=Benghazi", "since=2018-02-01", "until=2018-03-05"], {MMSI}),
    ("identity_changes", ["since=2018-02-01", "until=2018-03-05"], set()),
])
def test_every_shipped_report_runs(store: Path, report: str, params: list[str], expect: set[int]) -> None:
    args = ["report", "run", report, "--format", "csv"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, store)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {int(r["mmsi"]) for r in rows} == expect


def test_weekly_voyages_and_destination_report(store: Path) -> None:
    out = run_cli(["report", "run", "voyages_between", "--param", "ports_a=Genoa", "--param", "ports_b=La Goulette",
                   "--param", "since=2018-01-01", "--param", "until=2018-04-01", "--format", "csv"], store).output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["direction"] for r in rows} <= {"A to B", "B to A"}
    # the Genoa <> La Goulette (Tunis) ro-ro: 9 calls at Genoa and 10 at La Goulette, alternating
    assert sum(int(r["voyages"]) for r in rows) >= 15
    out = run_cli(["report", "run", "destination_never_matched", "--param", "since=2018-02-01",
                   "--param", "until=2018-03-05", "--format", "csv"], store).output
    assert "mmsi" in out.splitlines()[0]


def test_track_exports_parse_and_hold_every_point(store: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    n = U["positions_written"]
    kml = tmp_path / "ural.kml"
    assert run_cli(["track", "URAL", "--format", "kml", "-o", kml], store).exit_code == 0
    root = ET.parse(kml).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Folder/k:Placemark", ns)) == n
    geo = json.loads(run_cli(["track", "URAL", "--format", "geojson"], store).output)
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == n
    rows = list(csv.DictReader(io.StringIO(run_cli(["track", "URAL", "--format", "csv"], store).output)))
    assert len(rows) == n and rows[0]["source"].endswith("ural.nmea") and int(rows[0]["line_no"]) > 0
