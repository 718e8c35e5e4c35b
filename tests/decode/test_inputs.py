"""Inputs recognised as a reporter hands them over: gpsd's test file (comments first, no
receive times), a boat's instrument log where AIS is one line in twenty, a CSV whose
headers carry units, multi-part messages where only one part names its station or group,
and a raw log whose only clock is the base stations' type 4 reports."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shiptrack.decode.nmea import CLOCK_WINDOW_LINES, nmea_checksum
from tests.conftest import FIXTURES, ROOT, encode, position, query, run_cli, tagged

GPSD_SAMPLE = FIXTURES / "peer" / "gpsd" / "sample.aivdm"
SPIRE = FIXTURES / "peer" / "gfw-ais-tools" / "spire-test.nmea"


def sentence(body: str, start: str = "$") -> str:
    return f"{start}{body}*{nmea_checksum(body):02X}"


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


# ------------------------------------------------------------------ 4. recognised


def test_decode_of_gpsd_sample_recognises_it_and_prints_untimed_messages_like_gpsdecode() -> None:
    result = run_cli(["decode", GPSD_SAMPLE])
    assert result.exit_code == 0, result.output
    recs = records(result.output)
    kinds = [r["record"] for r in recs]
    assert kinds.count("position") == 12 and kinds.count("static") == 11 and kinds.count("base_station") == 3
    decoded = [r for r in recs if r["record"] != "reject"]
    assert all("ts" in r and r["ts"] is None for r in decoded)  # an empty time, printed
    reasons = {r.get("reason") for r in recs if r["record"] == "reject"}
    assert "no_timestamp" not in reasons and "orphan_fragment" not in reasons
    first = next(r for r in decoded if r["record"] == "position")
    assert first["mmsi"] == 371798000 and first["line_no"] == 10  # after nine comment lines
    # CSV: the ts cell is empty
    csv_out = run_cli(["decode", GPSD_SAMPLE, "--format", "csv", "--no-rejects"]).output.splitlines()
    header = csv_out[0].split(",")
    row = csv_out[1].split(",")
    assert row[header.index("record")] == "position" and row[header.index("ts")] == ""


def _instrument_log(n_lines: int = 400) -> list[str]:
    """A sailing yacht's log: heading, wind, depth, GPS; an AIS sentence in every 20 lines,
    the first one at line 25 (two in the first 50 lines)."""
    others = [sentence("SDHDG,181.3,,,1.9,E"), sentence("WIMWD,200.1,T,198.2,M,12.3,N,6.3,M"),
              sentence("SDDBT,35.4,f,10.8,M,5.9,F"), sentence("IIVHW,,,181.0,M,5.2,N,9.6,K"),
              sentence("GPGLL,4916.45,N,12311.12,W,225444,A")]
    ais = [position(mmsi=211000000 + k, lat=54.0 + k / 100, lon=10.0) for k in range(n_lines // 20)]
    lines = []
    for i in range(1, n_lines + 1):
        lines.append(ais[(i - 25) // 20] if i >= 25 and (i - 25) % 20 == 0 else others[i % len(others)])
    return lines


def test_an_instrument_log_with_five_percent_ais_is_nmea(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "yacht.log"
    lines = _instrument_log()
    path.write_text("\n".join(lines) + "\n")
    assert sum(1 for x in lines if "VDM" in x) / len(lines) == pytest.approx(0.05, abs=0.01)
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    assert "source #1, nmea (" in " ".join(result.output.split())
    assert query(db, "SELECT format FROM sources") == [("nmea",)]
    # the AIS sentences are read (untimed: the log has no clock), the rest are not_ais
    reasons = dict(query(db, "SELECT reason, count(*) FROM rejects GROUP BY reason"))
    assert reasons["no_timestamp"] == 19 and reasons["not_ais"] == 381


def test_the_input_format_flag_is_the_same_on_ingest_and_decode(tmp_path: Path, db: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("dear diary\nnothing to see\n")
    for cmd in (["ingest", notes], ["decode", notes]):
        result = run_cli(cmd, db)
        assert result.exit_code != 0
        text = " ".join(result.output.split())
        assert "--input-format nmea|dma|noaa" in text and "--format nmea" not in text
    # both commands take --input-format; `ingest --format` (the old name) still works, unlisted
    ing_help = run_cli(["ingest", "--help"]).output
    dec_help = run_cli(["decode", "--help"]).output
    assert "--input-format" in ing_help and "--input-format" in dec_help
    assert "--format" not in ing_help.replace("--input-format", "")
    path = tmp_path / "one.nmea"
    path.write_text(tagged(position(), 1519862400, "r1") + "\n")
    assert run_cli(["decode", path, "--input-format", "nmea"]).exit_code == 0
    result = run_cli(["ingest", path, "--input-format", "nmea"], db)
    assert result.exit_code == 0 and "--input-format nmea" in result.output
    other = tmp_path / "two.nmea"
    other.write_text(tagged(position(mmsi=211000001), 1519862401, "r1") + "\n")
    assert run_cli(["ingest", other, "--format", "nmea"], db).exit_code == 0
    assert query(db, "SELECT count(*) FROM positions") == [(2,)]


def test_a_csv_with_units_in_its_headers_maps_without_columns(tmp_path: Path, db: Path) -> None:
    """The Boston harbour points, as another tool writes them: `Time, MMSI, Latitude_degrees, ...`."""
    import csv

    src = list(csv.DictReader((FIXTURES / "archives" / "ais_points_DERIVED.csv").open()))[:40]
    path = tmp_path / "boston.csv"
    with path.open("w") as f:
        f.write("Time, MMSI, Latitude_degrees, Longitude_degrees, COG_degrees, SOG_knots\n")
        for r in src:
            f.write(f"{r['basedatetime']}, {r['mmsi']}, {r['lat']}, {r['lon']}, {r['cog']}, {r['sog']}\n")
    mapping = "mmsi=MMSI, ts=Time, lat=Latitude_degrees, lon=Longitude_degrees, sog=SOG_knots, cog=COG_degrees"
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    assert mapping in " ".join(result.output.split())  # the mapping chosen, printed
    assert query(db, "SELECT count(*), min(lat) > 42, max(sog) < 20, count(cog) FROM positions") == [(40, True, True, 40)]
    # decode says the same on standard error, and prints the records on standard output
    proc = subprocess.run([sys.executable, "-m", "shiptrack", "decode", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    assert mapping in proc.stderr
    assert len(records(proc.stdout)) == 40 and records(proc.stdout)[0]["mmsi"] == int(src[0]["mmsi"])


# ------------------------------------------------------------------ 6. multi-part messages


def test_parts_are_assembled_when_only_one_carries_the_station_or_group(tmp_path: Path, db: Path) -> None:
    # gpsd sample.aivdm lines 265-266: part 2 alone has the USCG station trailer; Spire line 2:
    # part 1 alone has s:, part 2 only g:
    gpsd = GPSD_SAMPLE.read_text().splitlines()[264:266]
    assert gpsd[1].endswith(",b003660465") and "b0036" not in gpsd[0]
    recs = [r for r in records(run_cli(["decode", SPIRE]).output)]
    assert [(r["record"], r["line_no"], r["station"]) for r in recs] == [("static", 1, "FM112"), ("static", 2, "FM112")]
    # the same for a type 5 of our own, untagged part first, in a store
    p1, p2 = encode({"type": 5, "mmsi": 211000777, "shipname": "HALF TAGGED", "callsign": "HT1"}, seq_id=3)
    lines = [tagged(p1, 1519862400, "r7"), p2.replace("*", "*", 1),  # part 2 bare
             p1, tagged(p2, 1519862460, "r7")]  # part 1 bare, part 2 tagged (with its time)
    path = tmp_path / "parts.nmea"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT line_no, name, station FROM static_reports ORDER BY line_no") == [
        (1, "HALF TAGGED", "r7"), (3, "HALF TAGGED", "r7")]
    assert query(db, "SELECT count(*) FROM rejects WHERE reason = 'orphan_fragment'") == [(0,)]


def test_fast_and_reference_paths_agree_when_parts_carry_different_tags() -> None:
    import random

    from tests.decode.test_decode_paths import _decoded_lines

    rng = random.Random(7)
    lines: list[str] = []
    for k in range(600):
        p1, p2 = encode({"type": 5, "mmsi": 211000000 + k % 50, "shipname": f"S{k}"}, channel=rng.choice("AB"),
                        seq_id=k % 4)
        t = 1519862400 + k
        st = rng.choice(["r1", "r2"])
        layouts = [
            (tagged(p1, t, st), p2),  # station on the first part only
            (p1, p2 + f",b00{st}"),  # station trailer on the second only
            (tagged(p1, t, st), tagged(p2, None, st)),  # the usual, bulk-framed
            (tagged(p1, t, st), f"\\g:2-2-{k % 9}*00\\" + p2),  # a group on the second only
            (tagged(p1, t), tagged(p2, t, st)),
        ]
        a, b = rng.choice(layouts)
        lines += [a, b] if rng.random() < 0.8 else [a, tagged(position(mmsi=211100000 + k), t, "r1"), b]
        if rng.random() < 0.1:
            lines.append(rng.choice([a, b]))  # heard again
    ref = _decoded_lines(lines, False, 50_000)
    assert ref["statics"].height > 450
    for batch in (41, 50_000):
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (batch, name, fast[name], ref[name])


# ------------------------------------------------------------------ 5. base-station clock


def _type4(mmsi: int, when: datetime) -> str:
    return encode({"type": 4, "mmsi": mmsi, "year": when.year, "month": when.month, "day": when.day,
                   "hour": when.hour, "minute": when.minute, "second": when.second, "lat": 54.0, "lon": 10.0})[0]


def test_time_from_basestation_times_a_raw_log_by_its_type_4_reports(tmp_path: Path, db: Path) -> None:
    t1 = datetime(2020, 4, 7, 21, 39, 50, tzinfo=UTC)
    t2 = datetime(2020, 4, 7, 21, 45, 0, tzinfo=UTC)
    s = [position(mmsi=211000000 + k) for k in range(8)]
    gsv = sentence("GPGSV,3,3,10,28,26,288,31,32,38,065,41")
    lines = [s[0],  # line 1: before any base station: untimed
             _type4(2190047, t1), s[1], s[2] + ",b003669794,1586295592",  # 3 timed; 4 has its own (trailer) time
             *[gsv] * CLOCK_WINDOW_LINES, s[3],  # line 305: too far after the clock
             _type4(2190048, t2), s[4],  # 306, 307
             _type4(2190049, datetime(2020, 4, 8, 3, 0, 0, tzinfo=UTC)), s[5]]  # 308, 309: clocks disagree
    path = tmp_path / "raw.nmea"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli(["ingest", path, "--time-from", "basestation"], db)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 sentences timed by the type 4 base-station report before them" in text  # lines 2 and 3
    stored = query(db, "SELECT line_no, ts FROM positions ORDER BY line_no")
    assert stored == [(3, t1), (4, datetime(2020, 4, 7, 21, 39, 52, tzinfo=UTC))]  # 4: its trailer
    assert query(db, "SELECT line_no, station_time = ts FROM base_stations ORDER BY line_no") == [(2, True)]
    untimed = dict(query(db, "SELECT line_no, coalesce(detail, '') FROM rejects WHERE reason = 'no_timestamp'"))
    assert set(untimed) == {1, 305, 306, 307, 308, 309}
    assert "more than 300" in untimed[305] and "base-station clocks disagree" in untimed[309]
    # the default (auto) does not trust base stations: the same lines are untimed
    other = tmp_path / "raw2.nmea"
    other.write_text("\n".join(lines[:4]) + "\n")
    auto_db = tmp_path / "auto.duckdb"
    assert run_cli(["ingest", other], auto_db).exit_code == 0
    assert query(auto_db, "SELECT line_no FROM positions") == [(4,)]


def test_basestation_clock_is_not_used_in_a_tag_block_stream(tmp_path: Path, db: Path) -> None:
    t1 = datetime(2020, 4, 7, 21, 39, 50, tzinfo=UTC)
    lines = [tagged(position(mmsi=211000001), 1586295590, "r1"), _type4(2190047, t1), position(mmsi=211000002)]
    path = tmp_path / "tagged.nmea"
    path.write_text("\n".join(lines) + "\n")
    assert run_cli(["ingest", path, "--time-from", "basestation"], db).exit_code == 0
    assert query(db, "SELECT line_no FROM positions") == [(1,)]
    detail = query(db, "SELECT detail FROM rejects WHERE reason = 'no_timestamp' AND line_no = 3")
    assert "stream timed by tag blocks" in detail[0][0]
