"""What a reporter opens: the events CSV with the finding in words and each piece of
evidence once, nested values as JSON text in CSV and as objects and lists in JSON, a
dossier without empty sections or dangling separators that flags a number that is not
an IMO number, port search that offers the closest names and leaves unrelated ones out,
and `export` with a time window and an error that lists what can be exported."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from shiptrack.dossier import imo_valid
from shiptrack.events import EVENT_COLUMNS
from tests.conftest import ingest_lines, ping, query, run_cli, voyage

URAL_MMSI = 352180218


@pytest.fixture(scope="module")
def store(ural_store: Path) -> Path:
    return ural_store


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- the events CSV and JSON -----------------------------------------------------------------------


@pytest.mark.slow
def test_export_events_csv_has_the_finding_in_words_and_json_text_cells(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    result = run_cli(["export", "events", "--format", "csv", "-o", out], store)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(EVENT_COLUMNS)
    rows = _csv(text)
    assert len(rows) == query(store, "SELECT count(*) FROM events")[0][0]
    dossier = json.loads(run_cli(["vessel", "URAL", "--format", "json"], store).output)
    said = {t["event_id"]: t["summary"] for t in dossier["timeline"]}
    ural = [r for r in rows if r["mmsi"] == str(URAL_MMSI)]
    assert ural and all(r["finding"] == said[r["event_id"]] for r in ural)  # the dossier's sentence
    [dark] = [r for r in rows if r["kind"] == "dark_period"]
    assert dark["finding"].startswith("AIS silent 110.3 h; went silent 50 nm from Banghazi")
    assert "probable unreported call at Banghazi" in dark["finding"]
    assert json.loads(dark["details"])["probable_unreported_call"] is True
    assert all(r["finding"] for r in rows)
    # the same rows and columns as `shiptrack events --format csv`
    assert _csv(run_cli(["events", "--format", "csv"], store).output) == rows


@pytest.mark.slow
def test_evidence_cites_each_message_once(store: Path) -> None:
    """A rule may cite one message twice (a port call's last position that is also where the
    next leg starts): the CSV and JSON list it once, in file and line order."""
    repeated = query(store, "SELECT event_id FROM events WHERE len(evidence) != len(list_distinct(evidence))")
    assert repeated, "the Ural fixture has events whose evidence repeats a message"
    distinct = dict(query(store, "SELECT event_id, len(list_distinct(evidence)) FROM events"))
    rows = _csv(run_cli(["events", "--format", "csv"], store).output)
    for r in rows:
        refs = r["evidence"].split("; ")
        assert len(refs) == len(set(refs)) == distinct[r["event_id"]], r["evidence"]
        assert refs == sorted(refs, key=lambda ref: (ref.rsplit(":", 1)[0], int(ref.rsplit(":", 1)[1])))


@pytest.mark.slow
def test_events_json_has_objects_and_lists(store: Path) -> None:
    events = json.loads(run_cli(["events", "--vessel", "URAL", "--format", "json"], store).output)
    assert events and all(isinstance(e["details"], dict) and isinstance(e["evidence"], list) for e in events)
    dark = next(e for e in events if e["kind"] == "dark_period")
    assert dark["details"]["coverage"]["status"] == "live"
    assert [ref.rsplit("/", 1)[-1] for ref in dark["evidence"]] == ["ural.nmea:31323", "ural.nmea:39543"]
    assert dark["finding"].startswith("AIS silent")


@pytest.mark.slow
def test_export_events_geojson_and_parquet_keep_objects_and_lists(store: Path, tmp_path: Path) -> None:
    import polars as pl

    assert run_cli(["export", "events", "--format", "geojson", "-o", tmp_path / "e.geojson"], store).exit_code == 0
    features = json.loads((tmp_path / "e.geojson").read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in features]
    assert all(isinstance(p["details"], dict) and isinstance(p["evidence"], list) and p["finding"] for p in props)
    assert run_cli(["export", "events", "--format", "parquet", "-o", tmp_path / "e.parquet"], store).exit_code == 0
    df = pl.read_parquet(tmp_path / "e.parquet")
    assert df.columns == EVENT_COLUMNS and df.schema["evidence"] == pl.List(pl.String)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "md", "table", "json"])
def test_a_query_with_nested_columns_prints_in_every_format(store: Path, fmt: str) -> None:
    sql = ("SELECT event_id, evidence, {'n': len(evidence), 'at': start_utc} AS summary FROM events "
           "WHERE kind = 'dark_period'")
    result = run_cli(["query", sql, "--format", fmt], store)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    if fmt == "csv":
        [row] = _csv(result.output)
        evidence = json.loads(row["evidence"])
        assert [e["line_no"] for e in evidence] == [31323, 39543]
        assert json.loads(row["summary"]) == {"n": 2, "at": "2018-02-16T18:42:04Z"}
    elif fmt == "json":
        [row] = json.loads(result.output)
        assert [e["line_no"] for e in row["evidence"]] == [31323, 39543]
        assert row["summary"] == {"n": 2, "at": "2018-02-16T18:42:04Z"}
    else:
        assert '"line_no": 31323' in result.output


# -- the dossier -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("imo", "valid"), [(9180217, True), (9074729, True), (9180218, False),
                                            (123456789, False), (918021, False), (None, None)])
def test_imo_check_digit(imo: int | None, valid: bool | None) -> None:
    assert imo_valid(imo) is valid


def _dossier_store(db: Path) -> None:
    lines = [ping("2018-02-01T00:00:00Z", 34.0, 18.0, mmsi=352000001),
             ping("2018-02-01T01:00:00Z", 34.1, 18.1, mmsi=352000001),
             *voyage("2018-02-01T00:30:00Z", mmsi=352000001, name="NINE DIGITS", imo=123456789),
             ping("2018-02-01T00:00:00Z", 35.0, 18.0, mmsi=352000002),
             ping("2018-02-01T00:00:00Z", 35.5, 18.0, mmsi=352000003),
             *voyage("2018-02-01T00:10:00Z", mmsi=352000003, name="GOOD IMO", imo=9180217, callsign="3EUR8")]
    ingest_lines(db, lines)


def _no_dangling(text: str) -> None:
    for bad in ("IMO ,", "IMO -", ", ,", "— ,", ", \n", "None", "call sign -", "flag -", "Seen - to -"):
        assert bad not in text, (bad, text)
    assert not re.search(r"(—|,)\s*$", text.splitlines()[0]), text.splitlines()[0]


def test_a_dossier_shows_only_what_it_has(db: Path) -> None:
    """A vessel heard once, with no static report and no findings: no IMO, no identity
    table, no timeline table, one sentence saying there are no findings."""
    _dossier_store(db)
    md = run_cli(["vessel", "352000002", "--format", "md"], db).output
    assert md.splitlines()[0] == "# MMSI 352000002 — flag Panama"
    assert "Seen 2018-02-01T00:00:00Z to 2018-02-01T00:00:00Z: 1 position, 0 nm sailed" in md
    assert "## Identity history" not in md and "## Timeline" not in md and "| field |" not in md
    assert "No findings in the store" in md
    _no_dangling(md)
    term = run_cli(["vessel", "352000002"], db).output
    assert term.splitlines()[0].split() == ["MMSI", "352000002", "flag", "Panama"]
    assert "Identity history" not in term and "Timeline" not in term and "No findings in the store" in term
    _no_dangling(term)


def test_a_window_without_positions_says_so(db: Path) -> None:
    _dossier_store(db)
    for fmt in ("md", "table"):
        out = run_cli(["vessel", "352000003", "--since", "2019-01-01", "--until", "2019-02-01", "--format", fmt],
                      db).output
        assert "No position of this vessel from 2019-01-01T00:00:00Z to 2019-02-01T00:00:00Z." in out
        assert "Identity history" not in out and "Timeline" not in out
        _no_dangling(out)


def test_an_imo_that_fails_the_check_digit_is_shown_as_invalid(db: Path) -> None:
    _dossier_store(db)
    md = run_cli(["vessel", "NINE DIGITS", "--format", "md"], db).output
    assert md.splitlines()[0] == ("# NINE DIGITS — MMSI 352000001, IMO 123456789 (not a valid IMO number: the "
                                  "check digit fails), flag Panama")
    term = run_cli(["vessel", "NINE DIGITS"], db).output
    assert "IMO 123456789 (not a valid IMO number: the check digit fails)" in term
    doc = json.loads(run_cli(["vessel", "NINE DIGITS", "--format", "json"], db).output)
    assert doc["vessel"]["imo"] == 123456789 and doc["vessel"]["imo_valid"] is False
    good = run_cli(["vessel", "GOOD IMO", "--format", "md"], db).output
    assert good.splitlines()[0] == "# GOOD IMO — MMSI 352000003, IMO 9180217, flag Panama"
    assert json.loads(run_cli(["vessel", "GOOD IMO", "--format", "json"], db).output)["vessel"]["imo_valid"] is True
    term = run_cli(["vessel", "GOOD IMO"], db).output
    assert term.splitlines()[0].split() == ["GOOD", "IMO", "MMSI", "352000003", "IMO", "9180217", "call", "sign",
                                            "3EUR8", "flag", "Panama"]


# -- ports -----------------------------------------------------------------------------------------


def test_ports_with_no_match_prints_the_closest_names() -> None:
    result = run_cli(["ports", "xyzzy"])
    assert result.exit_code == 2
    assert result.output.startswith("shiptrack: no port matches 'xyzzy'; did you mean: ")
    assert "┏" not in result.output  # no empty table
    sfax = run_cli(["ports", "Sfaks"])  # no name within the fuzzy match's reach, Mersa Sfax among the closest
    assert sfax.exit_code == 2 and "Mersa Sfax" in sfax.output.split("did you mean: ")[1]
    nothing = run_cli(["ports", "qqqqxz"])
    assert nothing.exit_code == 2 and "no port name is close" in nothing.output


@pytest.mark.parametrize(("search", "expected"), [
    ("benghazi", ["Banghazi"]),  # not Lazi, Philippines
    ("Bengazi", ["Banghazi"]),  # not Bengkalis
    ("Novorosisk", ["Novorossiysk"]),
    ("rotterdm", ["Rotterdam"]),
])
def test_ports_lists_the_closest_matches_and_leaves_unrelated_ones_out(search: str, expected: list[str]) -> None:
    rows = _csv(run_cli(["ports", search, "--format", "csv"]).output)
    assert [r["name"] for r in rows] == expected


def test_ports_prefix_matches_come_before_fuzzy_ones() -> None:
    names = [r["name"] for r in _csv(run_cli(["ports", "Novoro", "--format", "csv"]).output)]
    assert names[0] == "Novorossiysk"


# -- export ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_export_since_until_on_tables(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    assert run_cli(["export", "positions", "--since", "2018-02-10", "--until", "2018-02-11", "--format", "csv",
                    "-o", out], store).exit_code == 0
    rows = _csv(out.read_text(encoding="utf-8"))
    expected = query(store, "SELECT count(*) FROM positions WHERE ts >= '2018-02-10' AND ts < '2018-02-11'")[0][0]
    assert len(rows) == expected > 0
    assert all("2018-02-10T00:00:00Z" <= r["ts"] < "2018-02-11T00:00:00Z" for r in rows)
    assert run_cli(["export", "events", "--since", "2018-02-16", "--until", "2018-02-17", "--format", "csv",
                    "-o", out], store).exit_code == 0
    starts = [r["start_utc"] for r in _csv(out.read_text(encoding="utf-8"))]
    assert starts and all("2018-02-16" <= s < "2018-02-17" for s in starts)
    assert run_cli(["export", "vessels", "--since", "2030-01-01", "--format", "csv", "-o", out], store).exit_code == 0
    assert _csv(out.read_text(encoding="utf-8")) == []


@pytest.mark.slow
def test_export_since_until_set_a_reports_window(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    ok = run_cli(["export", "dark_near_ports", "--since", "2018-02-01", "--until", "2018-03-05", "--format", "csv",
                  "-o", out], store)
    assert ok.exit_code == 0, ok.output
    assert [r["mmsi"] for r in _csv(out.read_text(encoding="utf-8"))] == [str(URAL_MMSI)]
    assert run_cli(["export", "dark_near_ports", "--since", "2018-02-17", "--until", "2018-03-05", "--format",
                    "csv", "-o", out], store).exit_code == 0
    assert _csv(out.read_text(encoding="utf-8")) == []  # it went dark on the 16th
    both = run_cli(["export", "dark_near_ports", "--since", "2018-02-01", "--param", "since=2018-02-01",
                    "--format", "csv", "-o", out], store)
    assert both.exit_code == 1 and "--since and --param since" in both.output
    timeless = run_cli(["export", "ports", "--since", "2018-02-01", "--format", "csv", "-o", out], store)
    assert timeless.exit_code == 1 and "ports has no time of its own" in timeless.output


def test_export_of_an_unknown_name_lists_tables_and_reports(db: Path, tmp_path: Path) -> None:
    ingest_lines(db, [ping("2018-02-01T00:00:00Z", 34.0, 18.0)])
    result = run_cli(["export", "evnts", "--format", "csv", "-o", tmp_path / "x.csv"], db)
    assert result.exit_code == 2
    msg = result.output
    assert msg.startswith("shiptrack: no table or report named 'evnts'")
    assert "tables: positions, static_reports" in msg and "events" in msg
    assert "reports: archive_holes" in msg and "dark_near_ports" in msg
    assert not (tmp_path / "x.csv").exists()
