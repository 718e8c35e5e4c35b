"""Hostile vessel names reach no output raw: terminal, Markdown, KML, CSV.

A JSON-lines archive (as other tools export) names a vessel with an ANSI title change and
colour, a bell, backspace, NUL, a right-to-left override, a carriage return, HTML, a
javascript: link, rich markup and an emoji code. Every command a reporter runs on it
(vessel, events, report, query, track, export) shows the text, escaped, and obeys none of it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from shiptrack.cli import main

MMSI = 352000001
NAME = ("\x1b]0;pwned\x07EVIL\x1b[31m RED\x08\x00 <script>alert(1)</script><img src=x onerror=alert(1)> "
        "[click](javascript:alert(1)) \u202eLIVE\rNEXT [bold]B[/bold] :b:")
RAW_CONTROLS = ("\x1b", "\x07", "\x08", "\x00", "\u202e", "\r")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    rows = []
    for i, (hh, lat) in enumerate([(0, 34.0), (1, 34.1), (9, 34.9), (10, 35.0)]):  # an 8 h gap: an ais_gap event
        rows.append({"mmsi": MMSI, "timestamp": f"2018-02-20T{hh:02d}:00:00Z", "lat": lat, "lon": 18.0,
                     "speed": 10.0, "course": 0.0, "name": NAME, "destination": NAME, "seq": i})
    path = folder / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = folder / "hostile.duckdb"
    for args in (["ingest", path, "--columns", "mmsi=mmsi,ts=timestamp,lat=lat,lon=lon,sog=speed,cog=course,"
                                               "name=name,destination=destination"], ["detect"]):
        result = CliRunner().invoke(main, ["--db", str(db), *map(str, args)])
        assert result.exit_code == 0, result.output
    return db


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def test_the_name_is_stored_as_received(store: Path) -> None:
    out = run(store, "query", f"SELECT name FROM vessels WHERE mmsi = {MMSI}", "--format", "json")
    assert json.loads(out)[0]["name"].startswith("\x1b]0;pwned")  # JSON escapes it: \u001b


@pytest.mark.parametrize("args", [
    ["vessel", str(MMSI)],
    ["events"],
    ["report", "run", "identity_changes", "--param", "since=2018-01-01", "--param", "until=2018-03-01"],
    ["query", "SELECT mmsi, name, destination FROM vessels"],
    ["report", "list"],
])
def test_terminal_output_shows_controls_as_escapes_and_no_markup(store: Path, args: list[str]) -> None:
    out = run(store, *args)
    for c in RAW_CONTROLS:
        assert c not in out, (args, repr(c))
    if args[0] in ("vessel", "query"):
        assert "\\x1b]0;pwned\\x07EVIL" in out.replace("\n", "")  # shown, not obeyed
        assert ":b:" in out and "[bold]B[/bold]" in out.replace("\n", "")  # no emoji, no markup


@pytest.mark.parametrize("args", [
    ["vessel", str(MMSI), "--format", "md"],
    ["events", "--format", "md"],
    ["query", "SELECT mmsi, name, destination FROM vessels", "--format", "md"],
    ["report", "run", "identity_changes", "--param", "since=2018-01-01", "--param", "until=2018-03-01",
     "--format", "md"],
])
def test_markdown_escapes_html_links_and_line_breaks(store: Path, args: list[str]) -> None:
    out = run(store, *args)
    assert "<script>" not in out and "<img" not in out
    assert "[click](javascript" not in out  # the brackets are escaped: no live link
    for c in RAW_CONTROLS:
        assert c not in out
    if args[0] != "report":
        assert "&lt;script>" in out


def test_kml_is_well_formed_xml(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.kml"
    run(store, "track", str(MMSI), "--format", "kml", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    ET.fromstring(text.encode("utf-8"))  # raises if not well-formed
    for c in ("\x1b", "\x00", "\x08", "\x07"):
        assert c not in text


@pytest.mark.parametrize("args", [
    ["events", "--format", "csv"],
    ["query", "SELECT mmsi, name, destination FROM vessels", "--format", "csv"],
    ["export", "vessels", "--format", "csv", "-o", "{out}"],
])
def test_csv_cells_carry_no_nul_or_esc(store: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "x.csv"
    text = run(store, *[a.format(out=out) for a in args])
    if out.exists():
        text = out.read_text(encoding="utf-8")
    assert "\x00" not in text and "\x1b" not in text and "\\x1b" in text
