"""`shiptrack vessel --map/--png`: the offline HTML map and the PNG for print."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from PIL import Image

from shiptrack.dossier import Dossier
from shiptrack.export.maps import _script_json, prepare_map, render_html, write_html_map, write_png_map
from tests.conftest import ingest_lines, ping, run_cli, voyage

URAL = 273000001  # a Russian MMSI (MID 273)
XSS = 219000001
XSS_NAME = "<script>alert(1)</script>"
T0 = datetime(2018, 2, 20, 0, 0, tzinfo=UTC)
DARK_START = T0 + timedelta(minutes=10 * 119)  # the last ping before the 30 h silence
DARK_END = DARK_START + timedelta(hours=30, minutes=10)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ural_lines() -> list[str]:
    """South through the Strait of Sicily to Sfax (slow there), then east; silent 30 h; seen off Benghazi."""
    lines = voyage(_iso(T0), mmsi=URAL, name="URAL", destination="NOVOROSSIYSK", callsign="UBCD", imo=9000003)
    for i in range(120):
        lat, lon = (37.2 - i * 0.02, 11.6 - i * 0.0068) if i < 100 else (34.75, 10.80)
        lines.append(ping(_iso(T0 + timedelta(minutes=10 * i)), lat, lon, sog=10.0 if i < 100 else 0.2,
                          cog=190.0, mmsi=URAL))
    for i in range(80):
        lines.append(ping(_iso(DARK_END + timedelta(minutes=10 * i)), 32.3 + i * 0.004, 19.6 + i * 0.012,
                          cog=70.0, mmsi=URAL))
    return lines


def xss_lines() -> list[str]:
    """A DMA archive whose vessel name is a script tag and whose destinations carry quotes, & and </."""
    head = (",# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,"
            "Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,"
            "ETA,Data source type")
    rows = [head]
    dests = ['"SFAX ""A"" & B"'] * 3 + ['"</SCRIPT><!-- & ""X"""'] * 2
    for i, dest in enumerate(dests):
        rows.append(f"{i},08/02/2018 0{i * 2}:00:00,Class A,{XSS},{55.6 + i * 0.1:.2f},{12.7 + i * 0.02:.2f},"
                    f"Under way using engine,0.0,10.0,10.0,10.0,IMO9111111,OXYZ,{XSS_NAME},Cargo,,20,120,GPS,6.0,"
                    f"{dest},,AIS")
    return rows


def insert_event(db: Path, kind: str, start: datetime, end: datetime, lat: float, lon: float, port: str | None,
                 details: dict, lines: list[int]) -> None:
    """An event as a rule would store it (the dark_period and port rules are tested elsewhere)."""
    con = duckdb.connect(str(db))
    try:
        src = con.execute("SELECT source_id FROM sources WHERE name LIKE '%ural.nmea'").fetchone()[0]
        con.execute(
            """INSERT INTO events (event_id, kind, mmsi, start_utc, end_utc, duration_h, lat, lon, port,
                                   details, evidence, detected_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())""",
            [f"test{kind[:12]}", kind, URAL, start, end, (end - start).total_seconds() / 3600, lat, lon, port,
             json.dumps(details), [{"source_id": src, "line_no": n} for n in lines]],
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("maps") / "maps.duckdb"
    ingest_lines(db, ural_lines(), name="ural.nmea")
    ingest_lines(db, xss_lines(), name="xss.csv")
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    insert_event(db, "unplanned_port_call", T0 + timedelta(minutes=1000), DARK_START, 34.75, 10.80, "Mersa Sfax",
                 {"declared_ports": "NOVOROSSIYSK"}, [103, 104, 122])
    insert_event(db, "dark_period", DARK_START, DARK_END, 34.75, 10.80, "Banghazi",
                 {"heading_to_port": True, "probable_unreported_call": True, "note": "<b>bold</b> & \"q\""},
                 [122, 123])
    return db


@pytest.fixture(scope="module")
def ural_maps(store: Path) -> tuple[str, Path]:
    out = store.parent
    r = run_cli(["vessel", "URAL", "--map", out / "ural.html", "--png", out / "ural.png"], store)
    assert r.exit_code == 0, r.output
    return (out / "ural.html").read_text(encoding="utf-8"), out / "ural.png"


def map_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="shiptrack-data">(.*?)</script>', page, re.S)
    assert m, "the map lost its data block"
    return json.loads(m.group(1))


def test_html_needs_no_network(ural_maps: tuple[str, Path]) -> None:
    page, _ = ural_maps
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.I), "every script must be inline"
    assert not re.search(r"<link[^>]*\shref\s*=", page, re.I), "every stylesheet must be inline"
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page), "CSS must not fetch images"
    # The only URL the page may load is the optional tile layer, and the CSP says so.
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "L.map(" in page and "Leaflet" in page  # Leaflet itself is inlined
    assert len(page) < 1_500_000


def test_html_draws_track_gap_ports_and_events_with_evidence(ural_maps: tuple[str, Path]) -> None:
    data = map_data(ural_maps[0])
    track = data["track"]
    assert track["total"] == len(track["lat"]) == 200
    assert (track["lat"][0], track["lon"][0]) == (37.2, 11.6)
    assert [Path(s).name for s in track["sources"]] == ["ural.nmea"]
    assert track["line"][0] == 3  # the type 5 message takes lines 1-2
    dark = [g for g in data["gaps"] if g["kind"] == "dark_period"]
    assert len(dark) == 1 and dark[0]["label"] == "dark 30.2 h" and dark[0]["permanent"]
    assert not [g for g in data["gaps"] if g["kind"] == "gap"], "the event's gap is not drawn twice"
    ports = {p["name"]: p for p in data["ports"]}
    assert ports["Mersa Sfax"]["event"] and ports["Banghazi"]["event"]
    assert all(p["event"] or p["dist_nm"] <= 20 for p in data["ports"])
    kinds = [e["kind"] for e in data["events"]]
    assert kinds == ["unplanned_port_call", "dark_period"]
    dark_ev = data["events"][1]
    assert [Path(r).name for r in dark_ev["evidence"]] == ["ural.nmea:122", "ural.nmea:123"]
    assert ["heading_to_port", "true"] in dark_ev["details"]
    assert dark_ev["start"] == _iso(DARK_START) and dark_ev["duration_h"] == pytest.approx(30.17, abs=0.01)
    # Both events happened at Sfax: one marker, labelled "1,2".
    assert [m["ns"] for m in data["markers"]] == [[1, 2]]


def test_html_escapes_untrusted_text(store: Path) -> None:
    out = store.parent / "xss.html"
    r = run_cli(["vessel", str(XSS), "--map", out], store)
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert XSS_NAME not in page
    assert html.escape(XSS_NAME) in page  # shown as text in the title and the panel
    assert len(re.findall(r"<script", page, re.I)) == 3  # Leaflet, the data, the app: nothing injected
    assert len(re.findall(r"</script", page, re.I)) == 3
    assert page.count("<!--") == 0
    data = map_data(page)
    (change,) = [e for e in data["events"] if e["kind"] == "destination_change"]
    assert ["from", 'SFAX "A" & B'] in change["details"]
    assert ["to", '</SCRIPT><!-- & "X"'] in change["details"]
    assert "SFAX &quot;A&quot; &amp; B" in page  # the summary in the panel


def test_script_json_cannot_close_its_block() -> None:
    text = _script_json({"a": "</script><!--<script>&\u2028", "n": 1.5})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!--<script>&\u2028", "n": 1.5}


def test_png_is_a_readable_map(ural_maps: tuple[str, Path]) -> None:
    _, png = ural_maps
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (1950, 1275)
        px = np.asarray(img.convert("RGB")).reshape(-1, 3).astype(int)
    assert px.std() > 20, "the PNG is blank"
    colours = {tuple(c) for c in px[:: 7]}
    assert (236, 230, 214) in colours, "no land fill"
    assert (214, 230, 242) in colours, "no sea"
    assert len(colours) > 200


def test_xss_png_renders_name_as_text(store: Path) -> None:
    out = store.parent / "xss.png"
    assert run_cli(["vessel", str(XSS), "--png", out], store).exit_code == 0
    with Image.open(out) as img:
        assert img.size == (1950, 1275)


# -- the library on hand-made dossiers ------------------------------------------------------------


def dossier(timeline: list[dict] | None = None, name: str = "TEST", n: int = 0) -> Dossier:
    return Dossier(vessel={"mmsi": 352001234, "imo": 9000003, "name": name, "callsign": "X", "flag": "Panama"},
                   since=None, until=None, first_seen="2018-02-20T00:00:00Z", last_seen="2018-02-21T00:00:00Z",
                   positions=n, distance_nm=0.0, time_dark_h=0.0, timeline=timeline or [])


def track(times_h: list[float], lat0: float = 34.0, lon0: float = 18.0) -> pl.DataFrame:
    t = [T0 + timedelta(hours=h) for h in times_h]
    k = len(t)
    return pl.DataFrame({
        "ts": pl.Series(t, dtype=pl.Datetime("us", "UTC")), "mmsi": [352001234] * k,
        "lat": [lat0 + 0.01 * i for i in range(k)], "lon": [lon0 + 0.01 * i for i in range(k)],
        "sog": [10.0] * k, "cog": [90.0] * k, "heading": [90] * k, "nav_status": [0] * k, "msg_type": [1] * k,
        "station": ["r"] * k, "source": ["f.nmea"] * k, "line_no": list(range(1, k + 1)), "raw": ["x"] * k,
    })


def test_gaps_longer_than_two_hours_are_dashed_and_labelled() -> None:
    m = prepare_map(dossier(), track([0, 2, 4.01, 5, 12]))
    assert [(round(g.hours, 2), g.kind, g.label) for g in m.gaps] == [(2.01, "gap", "2.0 h"), (7.0, "gap", "7.0 h")]
    assert [r.tolist() for r in m.runs()] == [[0, 1], [2, 3], [4]]  # exactly 2 h apart is no gap


def test_runs_break_exactly_at_gaps() -> None:
    m = prepare_map(dossier(), track([0, 1, 5, 6]))
    assert [r.tolist() for r in m.runs()] == [[0, 1], [2, 3]]


def test_dark_period_without_a_long_gap_still_drawn_and_numbered() -> None:
    ev = {"start_utc": "2018-02-20T01:00:00Z", "end_utc": "2018-02-20T01:30:00Z", "kind": "dark_period",
          "summary": "AIS silent", "port": None, "lat": None, "lon": None, "duration_h": 0.5,
          "evidence": "f.nmea:2; f.nmea:3", "details": {}}
    m = prepare_map(dossier([ev]), track([0, 1, 1.5, 2]))
    assert [(g.kind, g.event, g.label) for g in m.gaps] == [("dark_period", 1, "dark 0.5 h")]
    assert (m.events[0].lat, m.events[0].lon) == (34.01, 18.01)  # placed on the track at its start


def test_long_track_is_thinned_but_gap_ends_are_kept() -> None:
    hours = [i / 60 for i in range(30_000)] + [600 + i / 60 for i in range(30_000)]
    m = prepare_map(dossier(), track(hours, lat0=30.0, lon0=0.0), max_drawn=5_000)
    assert len(m.drawn) < 6_000 and {29_999, 30_000} <= set(m.drawn.tolist())
    assert len(m.runs()) == 2


def test_nothing_to_map_is_a_one_line_error(tmp_path: Path) -> None:
    from shiptrack.errors import InputError

    with pytest.raises(InputError, match="nothing to map"):
        write_html_map(dossier(), track([]), tmp_path / "m.html")


def test_name_with_dollars_is_not_mathtext(tmp_path: Path) -> None:
    write_png_map(dossier(name="$\\frac{1}{0}$ $"), track([0, 1, 2]), tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 10_000


def test_50k_positions_render_quickly(tmp_path: Path) -> None:
    n = 50_000
    hours = [i * 2 / 60 for i in range(n)]  # every 2 minutes for 69 days
    df = track(hours, lat0=31.0, lon0=12.0).with_columns(
        lat=31.0 + 3 * np.sin(np.arange(n) / 4000), lon=12.0 + np.arange(n) * (16 / n))
    d = dossier(n=n)
    t = time.perf_counter()
    page = render_html(d, df)
    html_s = time.perf_counter() - t
    t = time.perf_counter()
    write_png_map(d, df, tmp_path / "big.png")
    png_s = time.perf_counter() - t
    assert 10_000 < len(map_data(page)["track"]["lat"]) <= 20_000
    assert html_s < 5 and png_s < 5, f"html {html_s:.1f} s, png {png_s:.1f} s"
