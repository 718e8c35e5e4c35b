"""End to end on fixtures/ural: port calls, the unplanned Sfax call and the route deviation,
and nothing of the kind on the ordinary traffic."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from shiptrack.times import parse_utc
from tests.conftest import FIXTURES, query, run_cli

URAL_DIR = FIXTURES / "ural"
SCENARIO = json.loads((URAL_DIR / "scenario.json").read_text(encoding="utf-8"))
URAL = SCENARIO["ural"]["mmsi"]
TEN_MIN_S = 600

pytestmark = pytest.mark.skipif(not (URAL_DIR / "ural.nmea").exists(), reason="fixtures/ural not generated")


# The ordinary traffic's shuttles, declared both ways (departure: the end of the first call there).
SHUTTLES = [(241318000, "Piraeus", "Alexandria"), (247421800, "Genoa", "Tunis"), (248913000, "Marsaxlokk", "Tripoli"),
            (271047700, "Ambarli", "Port Said"), (636018424, "Augusta", "Benghazi"),
            (229554000, "Marsaxlokk", "Port Said"), (538007412, "Novorossiysk", "Augusta")]


@pytest.fixture(scope="module")
def ural_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ural") / "ural.duckdb"
    shuttles = db.parent / "shuttles.csv"
    shuttles.write_text("mmsi,ports,departed\n" + "".join(f"{m},{a} > {b},\n{m},{b} > {a},\n" for m, a, b in SHUTTLES))
    for args in (["ingest", URAL_DIR / "ural.nmea"], ["route", "import", URAL_DIR / "routes.csv"],
                 ["route", "import", shuttles],
                 ["detect", "--rules", "port_call,unplanned_port_call,route_deviation"]):
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output
    return db


def near(a: datetime, iso: str, seconds: float = TEN_MIN_S) -> bool:
    return abs((a - parse_utc(iso)).total_seconds()) <= seconds


def events(db: Path, kind: str, mmsi: int | None = None) -> list[tuple]:
    return query(db, "SELECT mmsi, port, start_utc, end_utc, port_distance_nm, details FROM events "
                     "WHERE kind = ? AND (? IS NULL OR mmsi = ?) ORDER BY mmsi, start_utc", [kind, mmsi, mmsi])


def test_ural_calls_at_novorossiysk_then_sfax(ural_db: Path) -> None:
    calls = events(ural_db, "port_call", URAL)
    assert [c[1] for c in calls] == ["Novorossiysk", "Mersa Sfax"]
    assert near(calls[0][3], SCENARIO["ural"]["novorossiysk_last_moored"])
    sfax = SCENARIO["ural"]["sfax"]
    _, _, start, end, _, details = calls[1]
    assert near(start, sfax["anchorage_arrival"]) and near(end, sfax["last_moored"])
    d = json.loads(details)
    assert d["anchored_first"] and d["moored"] and d["destination_at_arrival"] == "SFAX"


def test_the_sfax_call_is_the_only_unplanned_one(ural_db: Path) -> None:
    found = events(ural_db, "unplanned_port_call")
    assert len(found) == 1
    mmsi, port, start, end, _, details = found[0]
    sfax = SCENARIO["ural"]["sfax"]
    assert (mmsi, port) == (URAL, "Mersa Sfax")
    assert near(start, sfax["anchorage_arrival"]) and near(end, sfax["last_moored"])
    d = json.loads(details)
    assert d["declared_ports"] == SCENARIO["ural"]["declared_route"] and d["route_offset_nm"] > 100


def test_one_route_deviation_covers_sfax_and_the_libyan_coast(ural_db: Path) -> None:
    found = events(ural_db, "route_deviation")
    assert len(found) == 1
    mmsi, _, start, end, _, details = found[0]
    d = json.loads(details)
    assert mmsi == URAL
    assert start < parse_utc(SCENARIO["ural"]["sfax"]["anchorage_arrival"])
    assert end > parse_utc(SCENARIO["ural"]["dark"]["first_after"]["time"])
    assert end < parse_utc(SCENARIO["ural"]["gibraltar_passed"])
    # passing where it was makes the voyage some 300 nm (5%) longer; the run starts and ends
    # where the detour crosses the 150 nm limit
    assert d["leg"] == d["declared_ports"] and 5700 < d["leg_nm"] < 6000 and d["route_avoids"] == []
    assert 250 < d["max_detour_nm"] < 350 and 4 < d["max_detour_pct"] < 6
    assert d["start_detour_nm"] > 150 and d["end_detour_nm"] > 150 and d["max_detour_limit_nm"] == 150
    assert d["max_detour_lon"] > 15 and d["max_detour_lat"] < 33  # off the Libyan coast, not at Sfax
    out = run_cli(["vessel", str(URAL), "--format", "md"], ural_db).output
    assert f"went {d['max_detour_nm']:.0f} nm out of the way ({d['max_detour_pct']:.1f}% longer voyage) for" in out


def test_ordinary_traffic(ural_db: Path) -> None:
    tanker = SCENARIO["benghazi_tanker_call"]
    at_benghazi = [c for c in events(ural_db, "port_call", tanker["mmsi"]) if c[1] == "Banghazi"]
    assert any(near(c[2], tanker["arrival"]) and near(c[3], tanker["departure"]) for c in at_benghazi)
    ferry = next(v["mmsi"] for v in SCENARIO["ordinary_vessels"] if "ferry" in v["role"])
    assert events(ural_db, "port_call", ferry) == []  # never 4 h alongside
    for c in events(ural_db, "port_call"):  # the trawler fishing slowly at sea makes none out there
        assert c[4] <= 5.0, c
    # the shuttles are declared too: their calls are planned, and their passages reasonable
    assert len(query(ural_db, "SELECT * FROM declared_voyages")) == 1 + 2 * len(SHUTTLES)
    assert {e[0] for e in events(ural_db, "unplanned_port_call") + events(ural_db, "route_deviation")} == {URAL}
