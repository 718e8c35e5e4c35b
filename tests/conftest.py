"""Shared helpers: the real CLI, the real store, and a tiny NMEA line builder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result
from pyais.encode import encode_dict

from shiptrack.cli import main
from shiptrack.decode.nmea import nmea_checksum

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def run_cli(args: Sequence[str], db: Path | None = None, input: str | bytes | None = None) -> Result:
    """Invoke the real click command, as a user would type it."""
    full = (["--db", str(db)] if db is not None else []) + [str(a) for a in args]
    return CliRunner().invoke(main, full, input=input, catch_exceptions=False)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def tagged(sentence: str, unix: int | float | None, station: str | None = None, ms: bool = False) -> str:
    """Wrap a sentence in an NMEA 4.10 tag block with a correct checksum."""
    items = []
    if station:
        items.append(f"s:{station}")
    if unix is not None:
        items.append(f"c:{int(unix * 1000) if ms else int(unix)}")
    body = ",".join(items)
    return f"\\{body}*{nmea_checksum(body):02X}\\{sentence}"


def encode(msg: dict, channel: str = "A", seq_id: int = 0) -> list[str]:
    """pyais-encoded sentences for one message dict (msg_type is set for pyais's sake)."""
    data = dict(msg)
    data.setdefault("msg_type", data["type"])
    return encode_dict(data, radio_channel=channel, talker_id="AI", sentence_type="VDM", seq_id=seq_id)


def position(mmsi: int = 352001234, lat: float = 34.0, lon: float = 18.0, **kw) -> str:
    msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 10.0, "course": 90.0,
           "heading": 90, "status": 0, **kw}
    return encode(msg)[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture(scope="session")
def ural_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Ural reconstruction as ``make demo`` stores it: ingested, its voyage declared, every
    rule run. Built once per test process and shared: tests read it, or copy it to change it."""
    db = tmp_path_factory.mktemp("ural") / "ural.duckdb"
    ural = FIXTURES / "ural"
    for args in (["ingest", ural / "ural.nmea"], ["route", "import", ural / "routes.csv"], ["detect"]):
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output
    return db


def ping(when: str, lat: float, lon: float, sog: float = 10.0, cog: float = 90.0, *,
         mmsi: int = 352001234, status: int = 0, heading: int | None = None, station: str = "rTEST",
         msg_type: int = 1) -> str:
    """One tag-blocked position report at ISO time ``when`` (UTC): a builder for rule tests."""
    from shiptrack.times import parse_utc

    t = parse_utc(when).timestamp()
    if msg_type == 18:
        msg = {"type": 18, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": sog, "course": cog,
               "heading": heading if heading is not None else int(cog) % 360}
    else:
        msg = {"type": msg_type, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": sog, "course": cog,
               "heading": heading if heading is not None else int(cog) % 360, "status": status}
    return tagged(encode(msg)[0], t, station)


def voyage(when: str, mmsi: int = 352001234, *, name: str = "TEST", destination: str = "",
           callsign: str = "TEST1", imo: int = 9000003, draught: float = 6.5, ship_type: int = 70,
           station: str = "rTEST", seq_id: int = 1) -> list[str]:
    """A tag-blocked two-part type 5 (static and voyage) message."""
    from shiptrack.times import parse_utc

    t = parse_utc(when).timestamp()
    msg = {"type": 5, "mmsi": mmsi, "shipname": name, "destination": destination, "callsign": callsign,
           "imo": imo, "draught": draught, "ship_type": ship_type, "to_bow": 50, "to_stern": 50,
           "to_port": 8, "to_starboard": 8}
    return [tagged(s, t, station) for s in encode(msg, seq_id=seq_id)]


def ingest_lines(db: Path, lines: list[str], name: str = "track.nmea") -> Result:
    """Write lines to a file beside the database and ingest it through the CLI."""
    path = db.parent / name
    path.write_text("\n".join(lines) + "\n")
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    return result
