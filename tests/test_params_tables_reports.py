"""One parameter grammar for rules and reports; tables that never break a value; reports that
read an archive over its own time, and say what the store holds when they find nothing."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shiptrack.errors import RuleError
from shiptrack.params import Param, assign, parse_param_line
from shiptrack.reference.ports import resolve_port
from tests.conftest import ROOT, ingest_lines, ping, query, run_cli, voyage

# ------------------------------------------------------------------ 7. one parameter grammar


def _harbour_stay(mmsi: int, port: str, day: str, hours: int = 8) -> list[str]:
    p = resolve_port(port)
    return [ping(f"{day}T{h:02d}:00:00Z", p.lat, p.lon, 0.2, mmsi=mmsi) for h in range(hours)]


@pytest.fixture
def calls(db: Path) -> Path:
    """Two vessels that stay 7 h at Benghazi; one broadcasts a destination that is not it."""
    lines = _harbour_stay(352000001, "Benghazi", "2018-02-10") + _harbour_stay(352000002, "Benghazi", "2018-02-10")
    lines += voyage("2018-02-10T01:00:00Z", mmsi=352000002, destination="TOBRUK", name="SECOND", seq_id=1)
    ingest_lines(db, lines)
    return db


def test_a_parameter_belongs_to_its_rule(calls: Path) -> None:
    # min_duration_h is declared by port_call, route_deviation and sts_encounter: refused unqualified
    result = run_cli(["detect", "--param", "min_duration_h=12"], calls)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "--param min_duration_h is declared by 3 rules" in text
    for q in ("port_call.min_duration_h", "route_deviation.min_duration_h", "sts_encounter.min_duration_h"):
        assert q in text
    # qualified: only port_call changes (7 h stays: none with 12, two with the default 4)
    assert run_cli(["detect", "--param", "port_call.min_duration_h=12"], calls).exit_code == 0
    assert query(calls, "SELECT count(*) FROM events WHERE kind = 'port_call'") == [(0,)]
    # decimals for continuous quantities; unqualified is fine when one rule run declares it
    result = run_cli(["detect", "--rules", "port_call", "--param", "port_radius_nm=5.5",
                      "--param", "min_duration_h=6.5"], calls)
    assert result.exit_code == 0, result.output
    assert query(calls, "SELECT count(*) FROM events WHERE kind = 'port_call'") == [(2,)]
    # counts stay whole; unknown names and rules are named
    result = run_cli(["detect", "--param", "identity_change.min_identity_reports=1.5"], calls)
    assert result.exit_code == 1 and "expected a whole number" in result.output
    result = run_cli(["detect", "--param", "port_call.nonsense=1"], calls)
    assert result.exit_code == 1 and "port_call has no parameter 'nonsense'" in " ".join(result.output.split())
    result = run_cli(["detect", "--param", "no_rule.x=1"], calls)
    assert result.exit_code == 1 and "no rule 'no_rule'" in result.output
    result = run_cli(["detect", "--param", "port_radius_nm=lots"], calls)  # port_call and gaps both declare it
    assert result.exit_code == 1 and "gaps.port_radius_nm" in result.output
    # a parameter of a rule that is not run is not used, and not an error (scripts keep working)
    assert run_cli(["detect", "--rules", "port_call", "--param", "min_gap_h=3"], calls).exit_code == 0
    result = run_cli(["detect", "--rules", "port_call", "--param", "min_gapp_h=3"], calls)
    assert result.exit_code == 1 and "rule port_call has no parameter min_gapp_h" in result.output


def test_rules_and_reports_share_one_header_grammar(tmp_path: Path, calls: Path) -> None:
    assert parse_param_line("offset_h = -2  -- a negative default", "x") == Param("offset_h", "number", "-2",
                                                                                 "a negative default")
    assert parse_param_line("since (time) = 7 days ago -- start", "x").type == "time"
    assert parse_param_line("n (integer) = 3", "x").value() == 3
    assert parse_param_line("r = 5", "x").parse("5.5") == 5.5
    with pytest.raises(RuleError, match="unknown type"):
        parse_param_line("n (float) = 3", "x")
    with pytest.raises(RuleError, match="say which one"):
        assign(["k=1"], {"a": {"k": Param("k", "number", "1")}, "b": {"k": Param("k", "number", "2")}})
    # a rule of one's own with a negative default and a typed time; a report with the same grammar
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shifted.sql").write_text(
        "-- kind: shifted\n-- title: Shifted\n-- description: positions, shifted by offset_h hours, for a test.\n"
        "-- param: offset_h = -2  -- hours added (negative: earlier)\n"
        "SELECT 'shifted' AS kind, mmsi, NULL::BIGINT AS other_mmsi, "
        "min(ts) + to_microseconds(CAST($offset_h * 3600e6 AS BIGINT)) AS start_utc, "
        "max(ts) AS end_utc, NULL::DOUBLE AS lat, NULL::DOUBLE AS lon, NULL AS port, NULL::INTEGER AS port_id, "
        "NULL::DOUBLE AS port_distance_nm, '{}' AS details, [] AS evidence FROM pos GROUP BY mmsi\n")
    result = run_cli(["detect", "--rules-dir", rules, "--rules", "shifted", "--param", "shifted.offset_h=-1.5"], calls)
    assert result.exit_code == 0, result.output
    assert query(calls, "SELECT strftime(min(start_utc), '%H:%M') FROM events WHERE kind = 'shifted'") == [("22:30",)]
    listing = run_cli(["detect", "--rules-dir", rules, "--list", "shifted"]).output
    assert "--param shifted.offset_h=-2  (number)" in listing
    reports = tmp_path / "queries"
    reports.mkdir()
    (reports / "near.sql").write_text(
        "-- title: Near\n-- description: positions within radius_nm of a point.\n"
        "-- param: radius_nm = 5  -- nm\n-- param: lat (number) = 32.1\n"
        "SELECT count(*) AS n, $radius_nm AS r FROM positions WHERE abs(lat - $lat) < $radius_nm / 60\n")
    out = run_cli(["report", "run", "near", "--queries", reports, "--param", "near.radius_nm=5.5",
                   "--param", "lat=32.1", "--format", "csv"], calls).output
    assert list(csv.DictReader(io.StringIO(out))) == [{"n": "16", "r": "5.5"}]


# ------------------------------------------------------------------ 8. readable tables


def test_detect_list_is_short_and_describes_a_rule_on_request() -> None:
    short = run_cli(["detect", "--list"]).output.splitlines()
    assert len(short) == 10  # nine rules, one line each, and how to see more
    assert short[0].startswith("destination_change") and "port_call" in short[1]
    one = run_cli(["detect", "--list", "port_call"]).output
    assert "Hysteresis" in one and "--param port_call.min_duration_h=4.0  (number)" in one
    assert "gaps" not in one
    long = run_cli(["detect", "--list", "--long"]).output
    assert "--param gaps.min_gap_h=6.0" in long and "--param sts_encounter.max_distance_m" in long
    assert run_cli(["detect", "--list", "no_such_rule"]).exit_code == 1


def test_tables_never_break_a_time_an_id_or_a_number(calls: Path) -> None:
    assert run_cli(["detect", "--rules", "port_call"], calls).exit_code == 0
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "60"}
    out = subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(calls), "events"], capture_output=True,
                         text=True, env=env, check=True).stdout
    times = re.findall(r"2018-02-10T\d\d:\d\d:\d\dZ", out)
    assert len(times) == 4  # two calls, arrival and departure: every one whole on its line
    assert "352000001" in out and "352000002" in out
    assert not re.search(r"2018-02-1\s|T\d\d:\d\s", out)


# ------------------------------------------------------------------ 9. reports on archives


def test_reports_read_an_archive_over_its_own_time_and_say_what_it_holds(calls: Path) -> None:
    assert run_cli(["detect", "--rules", "port_call"], calls).exit_code == 0
    # 2018 data, read years later: the default window (30 days back from "now") is the data's own
    out = run_cli(["report", "run", "port_calls", "--param", "port=Benghazi", "--format", "csv"], calls).output
    assert {r["mmsi"] for r in csv.DictReader(io.StringIO(out))} == {"352000001", "352000002"}
    # an empty result says the window and what the store holds
    result = run_cli(["report", "run", "port_calls", "--param", "port=Tobruk"], calls)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "report port_calls: no rows for since=2018-01-11T07:00:01Z, until=2018-02-10T07:00:01Z" in text
    assert "the store holds data from 2018-02-10T00:00:00Z to 2018-02-10T07:00:00Z" in text
    # a window given on the command line is the wall clock's, as before
    result = run_cli(["report", "run", "port_calls", "--param", "since=7 days ago", "--format", "csv"], calls)
    assert result.output.splitlines()[1:] == [] or "no rows" in result.output


def test_destination_never_matched_lists_only_vessels_that_broadcast_one(calls: Path) -> None:
    assert run_cli(["detect", "--rules", "port_call"], calls).exit_code == 0
    out = run_cli(["report", "run", "destination_never_matched", "--format", "csv"], calls).output
    rows = list(csv.DictReader(io.StringIO(out)))
    # 352000001 called at Benghazi and declared nothing: not listed; 352000002 declared TOBRUK
    assert [(r["mmsi"], r["destinations_broadcast"]) for r in rows] == [("352000002", "TOBRUK")]
