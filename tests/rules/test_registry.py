"""The rule registry: headers, bound parameters, deterministic ids, re-runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiptrack.errors import RuleError
from shiptrack.rules.registry import load_rules, parse_rule
from tests.conftest import ingest_lines, ping, query, run_cli, voyage


def test_every_shipped_rule_has_a_full_header() -> None:
    rules = load_rules()
    assert rules, "no rules shipped"
    for rule in rules.values():
        assert rule.kinds and rule.title and len(rule.description) > 40, rule.name
        for p in rule.params.values():
            assert p.doc, f"{rule.name}: param {p.name} has no description"


def test_header_without_kind_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.sql"
    path.write_text("-- title: t\n-- description: d\nSELECT 1")
    with pytest.raises(RuleError, match="kind"):
        parse_rule(path)


def destination_track(db: Path) -> None:
    lines = [ping("2018-02-01T00:00:00Z", 44.7, 37.8, 0.0)]
    lines += voyage("2018-02-01T00:05:00Z", destination="DOUALA")
    lines += voyage("2018-02-02T00:05:00Z", destination="douala  ", seq_id=2)  # same after normalising
    lines += voyage("2018-02-03T00:05:00Z", destination="SFAX", seq_id=3)
    ingest_lines(db, lines)


def test_detect_twice_gives_the_same_events(db: Path) -> None:
    destination_track(db)
    assert run_cli(["detect"], db).exit_code == 0
    first = query(db, "SELECT event_id, kind, start_utc, details FROM events ORDER BY event_id")
    assert run_cli(["detect"], db).exit_code == 0
    assert query(db, "SELECT event_id, kind, start_utc, details FROM events ORDER BY event_id") == first
    changes = [r for r in first if r[1] == "destination_change"]
    assert len(changes) == 1 and '"from":"DOUALA"' in changes[0][3] and '"to":"SFAX"' in changes[0][3]


def test_events_csv_has_the_documented_columns_and_evidence(db: Path) -> None:
    destination_track(db)
    run_cli(["detect", "--rules", "destination_change"], db)
    out = run_cli(["events", "--kind", "destination_change", "--format", "csv"], db).output
    header, row = out.splitlines()[0], out.splitlines()[1]
    assert header == ("event_id,kind,mmsi,segment,imo,vessel_name,start_utc,end_utc,duration_h,lat,lon,port,"
                      "port_distance_nm,other_mmsi,finding,details,evidence")
    assert "2018-02-03T00:05:00Z" in row and "track.nmea:" in row
    assert ",destination changed from 'DOUALA' to 'SFAX'," in row


def test_unknown_param_and_rule_are_clear_errors(db: Path) -> None:
    destination_track(db)
    result = run_cli(["detect", "--param", "nonsense=3"], db)
    assert result.exit_code == 1 and "unknown --param nonsense" in result.output
    result = run_cli(["detect", "--rules", "no_such_rule"], db)
    assert result.exit_code == 1 and "no rule or event kind" in result.output


def test_seconds_between_is_exact_and_reaches_stores_of_the_previous_schema(db: Path) -> None:
    """The rules take durations with ``seconds_between`` (microsecond counts, not ICU's
    interval subtraction). A store made before the macro existed gets it when opened for
    writing, as `detect` does."""
    from shiptrack.store.db import SCHEMA_VERSION, connect

    con = connect(db)
    con.execute("DROP MACRO seconds_between")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    con = connect(db)  # an older store, opened by this version
    pairs = [("2018-02-10 23:59:59.999999+00", "2018-02-11 00:00:00+00", 1e-6),
             ("2018-01-01 00:00:00+00", "2018-03-01 06:30:00.25+00", 59 * 86400 + 6.5 * 3600 + 0.25),
             ("2020-02-28 12:00:00+00", "2020-03-01 12:00:00+00", 2 * 86400.0),  # across 29 February
             ("2018-02-11 00:00:00+00", "2018-02-10 00:00:00+00", -86400.0)]
    for a, b, want in pairs:
        got = con.execute("SELECT seconds_between(CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ)), "
                          "epoch(CAST(? AS TIMESTAMPTZ) - CAST(? AS TIMESTAMPTZ))", [a, b, b, a]).fetchall()[0]
        assert got[0] == want and abs(got[1] - want) < 1e-6
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0] == SCHEMA_VERSION
    con.close()



def test_a_store_of_schema_8_gets_the_time_spread_column_and_detects(db: Path) -> None:
    """A store made before sources.time_spread_s: the first command that opens it adds the
    column (NULL: its sources were timed as before), and the segmenter reads it."""
    import duckdb

    from shiptrack.store.db import SCHEMA_VERSION

    ingest_lines(db, [ping("2018-02-01T00:00:00Z", 44.7, 37.8, 0.0), ping("2018-02-01T03:10:00Z", 44.8, 37.9, 0.0)])
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE sources DROP COLUMN time_spread_s")
    con.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    con.close()
    result = run_cli(["detect"], db)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT time_spread_s FROM sources").fetchall() == [(None,)]
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(SCHEMA_VERSION,)]
    con.close()

def test_a_rule_of_ones_own_reads_pos_neighbours_and_the_macros(db: Path, tmp_path: Path) -> None:
    """What the README promises a rule in --rules-dir: pos with seg, rn and n_ts, and the macros."""
    ingest_lines(db, [ping("2018-02-01T00:00:00Z", 44.7, 37.8, 0.0), ping("2018-02-01T00:10:00Z", 44.7, 37.8, 0.0),
                      ping("2018-02-01T03:10:00Z", 44.8, 37.9, 0.0)])
    rules = tmp_path / "mine"
    rules.mkdir()
    (rules / "long_silence.sql").write_text(
        "-- kind: long_silence\n-- title: Long silences\n"
        "-- description: two consecutive positions of one segment at least min_h apart (a test rule).\n"
        "-- param: min_h = 1.0 -- hours\n"
        "SELECT 'long_silence' AS kind, mmsi, CAST(NULL AS INTEGER) AS other_mmsi, ts AS start_utc,\n"
        "       n_ts AS end_utc, lat, lon, CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id,\n"
        "       CAST(NULL AS DOUBLE) AS port_distance_nm,\n"
        "       json_object('rn', rn, 'seg', seg, 'km', round(haversine_nm(lat, lon, 44.8, 37.9) * 1.852, 1)) AS details,\n"
        "       [struct_pack(source_id := source_id, line_no := line_no)] AS evidence\n"
        "FROM pos WHERE seconds_between(ts, n_ts) >= $min_h * 3600\n")
    result = run_cli(["detect", "--rules-dir", str(rules), "--rules", "long_silence"], db)
    assert result.exit_code == 0, result.output
    rows = query(db, "SELECT strftime(start_utc, '%H:%M'), strftime(end_utc, '%H:%M'), duration_h, details "
                     "FROM events WHERE kind = 'long_silence'")
    assert rows == [("00:10", "03:10", 3.0, '{"rn":2,"seg":0,"km":13.6}')]  # 0.1 deg N, 0.1 deg E at 44.7 N
