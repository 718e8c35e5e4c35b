"""Decoded-position archives (DMA, NOAA, generic CSV / JSON lines) into records.

Exact assertions on the real files in fixtures/archives (see its README for
provenance), on two hand-written files with one bad row of each kind, and on
tiny inline tables for each rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack.decode import accounting
from shiptrack.decode.archives import (
    ALIASES,
    FIELDS,
    decode_archive,
    parse_columns_option,
    sniff_archive,
)
from shiptrack.decode.normalize import clean_positions
from shiptrack.decode.records import (
    BASE_STATION_SCHEMA,
    POSITION_SCHEMA,
    REJECT_REASONS,
    REJECT_SCHEMA,
    STATIC_SCHEMA,
)
from shiptrack.errors import InputError
from tests.conftest import query, run_cli

ARCHIVES = Path(__file__).resolve().parents[2] / "fixtures" / "archives"
DMA = ARCHIVES / "test_aisdk_20180208_sample.csv"
DMA_BAD = ARCHIVES / "dma_bad_rows.csv"
NOAA = ARCHIVES / "noaa_sample.csv"
BOSTON = ARCHIVES / "ais_points_DERIVED.csv"
GFW_263 = ARCHIVES / "263576000.json"
GFW_416 = ARCHIVES / "416000000.json"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def numbered(path: Path) -> Iterator[tuple[int, str]]:
    """What shiptrack.read gives the decoder: (1-based line number, text without line ending)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        for no, line in enumerate(f, 1):
            yield no, line.rstrip("\r\n")


def head(path: Path, n: int = 5) -> list[str]:
    return [text for _, text in zip(range(n), (t for _, t in numbered(path)), strict=False)]


@dataclass
class Decoded:
    positions: pl.DataFrame
    statics: pl.DataFrame
    base_stations: pl.DataFrame
    rejects: pl.DataFrame
    type_counts: Counter[int]
    lines: int
    batches: int


def decode(source: Path | list[str], fmt: str | None = None, columns: dict[str, str] | None = None,
           batch_rows: int = 50_000) -> Decoded:
    if isinstance(source, Path):
        lines = list(numbered(source))
    else:
        lines = list(enumerate(source, 1))
    if fmt is None:
        found = sniff_archive([t for _, t in lines[:5]])
        assert found is not None
        fmt = found[0]
    batches = list(decode_archive(iter(lines), fmt, columns, batch_rows=batch_rows))  # type: ignore[arg-type]
    counts: Counter[int] = Counter()
    for b in batches:
        assert b.dedup_window_s == 0
        assert b.positions.schema == pl.Schema(POSITION_SCHEMA)
        assert b.statics.schema == pl.Schema(STATIC_SCHEMA)
        assert b.base_stations.schema == pl.Schema(BASE_STATION_SCHEMA)
        assert b.rejects.schema == pl.Schema(REJECT_SCHEMA)
        assert set(b.rejects["reason"]) <= set(REJECT_REASONS)
        counts.update(b.type_counts)
    return Decoded(
        positions=pl.concat([b.positions for b in batches]),
        statics=pl.concat([b.statics for b in batches]),
        base_stations=pl.concat([b.base_stations for b in batches]),
        rejects=pl.concat([b.rejects for b in batches]),
        type_counts=+counts,
        lines=sum(b.lines for b in batches),
        batches=len(batches),
    )


def rejects_of(d: Decoded) -> list[tuple[int, str, str | None]]:
    return d.rejects.select("line_no", "reason", "detail").rows()


# ------------------------------------------------------------------ sniffing

GFW_MAPPING = {"mmsi": "ssvid", "ts": "timestamp", "lat": "lat", "lon": "lon", "sog": "speed", "cog": "course"}


@pytest.mark.parametrize(
    ("path", "fmt"),
    [(DMA, "dma"), (DMA_BAD, "dma"), (NOAA, "noaa"), (BOSTON, "generic"), (GFW_263, "generic"),
     (GFW_416, "generic")],
)
def test_sniff_recognises_each_fixture(path: Path, fmt: str) -> None:
    found = sniff_archive(head(path))
    assert found is not None
    assert found[0] == fmt


def test_sniff_reports_the_mapping_it_chose() -> None:
    assert sniff_archive(head(BOSTON)) == ("generic", {
        "mmsi": "mmsi", "ts": "basedatetime", "lat": "lat", "lon": "lon", "sog": "sog", "cog": "cog",
        "heading": "heading", "nav_status": "status"})
    assert sniff_archive(head(GFW_263)) == ("generic", GFW_MAPPING)
    fmt, mapping = sniff_archive(head(DMA)) or ("", {})
    assert fmt == "dma"
    assert mapping["ts"] == "# Timestamp" and mapping["class"] == "Type of mobile"
    assert "to_bow" not in mapping  # this DMA file has no A,B,C,D columns
    fmt, mapping = sniff_archive(head(NOAA)) or ("", {})
    assert (fmt, mapping["ts"], mapping["class"], mapping["draught"]) == (
        "noaa", "BaseDateTime", "TransceiverClass", "Draft")


@pytest.mark.parametrize(
    "lines",
    [
        ["!AIVDM,1,1,,A,15Mj23P000G?q7fK>g:o7@1:0L3S,0*1B"],
        ["\\s:2573238,c:1733782034*0A\\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F"],
        ["$PGHP,1,2010,6,11,11,46,11,929,244,0,0,1,01*2D", "!AIVDM,1,1,,A,15Mj23P000G?q7fK>g:o7@1:0L3S,0*1B"],
        ["just some prose without columns"],
        ["[1, 2, 3]"],
        ["1,2,3", "4,5,6"],  # no header
        [],
        ["", "   "],
    ],
)
def test_sniff_returns_none_for_non_archives(lines: list[str]) -> None:
    assert sniff_archive(lines) is None


def test_sniff_reports_unmappable_table_as_generic_so_decoding_can_ask_for_columns() -> None:
    lines = ["ship;when;north;east", "1;2;3;4"]
    assert sniff_archive(lines) == ("generic", {})
    with pytest.raises(InputError, match=r"mmsi, ts, lat, lon.*--columns mmsi=\.\.\.,ts=\.\.\."):
        decode_archive(enumerate(lines, 1), "generic")


# ------------------------------------------------------------------ real files

def test_dma_sample() -> None:
    d = decode(DMA)
    assert d.lines == 11
    assert len(d.positions) == 10
    assert d.rejects.is_empty() and d.statics.is_empty() and d.base_stations.is_empty()
    assert d.type_counts == {1: 10}
    assert d.positions["ts"].min() == utc(2018, 2, 8, 0, 0, 0)
    assert d.positions["ts"].max() == utc(2018, 2, 8, 0, 0, 2)
    assert sorted(d.positions["mmsi"]) == [
        244678000, 265177000, 265410000, 265547220, 265550210, 265585590, 265650970, 265778450,
        266065000, 266322000]
    assert d.positions.row(0, named=True) == {
        "mmsi": 265177000, "ts": utc(2018, 2, 8), "lat": 57.602225, "lon": 11.644943, "sog": 15.7,
        "cog": 61.4, "heading": 63, "nav_status": 0, "accuracy": None, "msg_type": 1, "station": None,
        "line_no": 2,
        "raw": "60,08/02/2018 00:00:00,Class A,265177000,57.602225,11.644943,Under way using engine,"
               "0.0,15.7,61.4,63.0,Unknown,,,Undefined,,,,Undefined,,,,AIS",
        "dedup": "265177000|2018-02-08T00:00:00.000000Z|57.602225|11.644943|15.7|61.4|63",
    }
    status = dict(d.positions.select("mmsi", "nav_status").iter_rows())
    assert status[244678000] == 1  # At anchor
    assert status[266065000] == 9  # Reserved for future amendment [HSC]
    assert status[265778450] == 7  # Engaged in fishing
    assert status[265550210] == 15  # Unknown value (clean_positions makes it NULL)


def test_boston_lowercase_noaa_style_csv() -> None:
    d = decode(BOSTON)
    assert (len(d.positions), d.lines, len(d.rejects)) == (972, 973, 0)
    assert d.type_counts == {0: 972}  # no class column: msg_type unknown
    assert d.positions["msg_type"].null_count() == 972
    assert d.positions.group_by("mmsi").len().sort("mmsi").rows() == [
        (215020081, 534), (240000208, 80), (255880350, 94), (257990100, 264)]
    assert d.positions["ts"].min() == utc(2014, 1, 1, 4, 43, 53)
    assert d.positions["ts"].max() == utc(2014, 1, 7, 17, 18, 14)
    row = d.positions.row(0, named=True)
    assert row == {
        "mmsi": 215020081, "ts": utc(2014, 1, 5, 9, 48, 32), "lat": 42.396, "lon": -70.8065,
        "sog": 9.1, "cog": 253.0, "heading": 252, "nav_status": 0, "accuracy": None, "msg_type": None,
        "station": None, "line_no": 2,
        "raw": "183,215020081,2014-01-05T09:48:32Z,-70.8065,42.396,9.10000038146973,253.0,252.0,251.0,0,608,543325",
        "dedup": "215020081|2014-01-05T09:48:32.000000Z|42.396|-70.8065|9.1|253.0|252",
    }


def test_gfw_json_lines_with_nulls_and_not_available_values() -> None:
    d = decode(GFW_263)
    assert (len(d.positions), d.lines, len(d.rejects)) == (948, 948, 0)
    assert set(d.positions["mmsi"]) == {263576000}
    assert d.positions["ts"].min() == utc(2015, 10, 15, 2, 39, 55)
    assert d.positions["ts"].max() == utc(2015, 10, 16, 20, 9, 10)
    assert d.positions["lat"].null_count() == 19  # JSON null positions stay NULL
    na = d.positions.filter(pl.col("line_no") == 219).select("lat", "lon", "sog", "cog").row(0)
    assert na == (91.0, 181.0, 102.3, 360.0)  # raw sentinels (102.3000030518 rounded to 0.1)
    good, rejects = clean_positions(d.positions)
    assert rejects.is_empty()
    assert good.filter(pl.col("line_no") == 219).select("lat", "lon", "sog", "cog").row(0) == (
        None, None, None, None)
    assert good["lat"].null_count() == 20
    # lines 202 and 203 are the same report twice: one dedup key, merged by the loader
    dup = d.positions.filter(pl.col("line_no").is_in([202, 203]))["dedup"]
    assert dup[0] == dup[1] == "263576000|2015-10-15T09:15:55.000000Z|||||"


def test_gfw_naive_times_are_utc() -> None:
    d = decode(GFW_416)
    assert (len(d.positions), len(d.rejects)) == (1668, 0)
    assert d.positions["ts"].min() == utc(2014, 1, 1, 1, 14, 25)
    assert d.positions["ts"].max() == utc(2014, 1, 31, 11, 45, 45)
    assert d.positions.row(0, named=True)["lat"] == 22.568214416503906


# ------------------------------------------------------------------ hand-made files

def test_noaa_sample_rejects_one_of_each() -> None:
    d = decode(NOAA)
    assert rejects_of(d) == [
        (9, "empty_line", None),
        (12, "truncated", "6 fields, expected 17"),
        (14, "bad_value", "SOG='fast'"),
        (16, "bad_timestamp", "BaseDateTime='2020-01-01T25:61:00'"),
        (17, "no_timestamp", None),
        (18, "bad_mmsi", "MMSI='36699900X'"),
        (31, "truncated", "unterminated quote"),
        (32, "not_ais", "repeated header line"),
    ]
    raw = NOAA.read_text().splitlines()
    assert d.rejects["raw"].to_list() == [raw[n - 1] for n in d.rejects["line_no"]]
    assert d.lines == 32 == 1 + len(d.positions) + len(d.rejects)
    assert d.type_counts == {1: 16, 18: 7}


def test_noaa_sample_values() -> None:
    d = decode(NOAA)
    tanker = d.positions.filter(pl.col("line_no") == 4).row(0, named=True)
    assert {k: tanker[k] for k in ("mmsi", "ts", "sog", "cog", "heading", "nav_status", "msg_type")} == {
        "mmsi": 538001234, "ts": utc(2020, 1, 1, 0, 1), "sog": 0.0, "cog": 360.0, "heading": 511,
        "nav_status": 1, "msg_type": 1}
    assert d.positions.filter(pl.col("mmsi") == 367000002)["msg_type"].unique().to_list() == [18]
    assert d.positions.filter(pl.col("mmsi") == 367000002)["nav_status"].null_count() == 7
    dup = d.positions.filter(pl.col("line_no").is_in([22, 23]))["dedup"]
    assert dup[0] == dup[1]
    good, rejects = clean_positions(d.positions)
    assert rejects.is_empty()
    row13 = good.filter(pl.col("line_no") == 13).select("lat", "lon", "sog", "cog", "heading").row(0)
    assert row13 == (None, None, 0.0, None, None)
    assert good.filter(pl.col("line_no") == 10)["sog"].to_list() == [None]


def test_noaa_statics_only_when_they_change() -> None:
    d = decode(NOAA)
    assert d.statics.select("mmsi", "line_no", "msg_type", "imo", "name", "callsign", "ship_type",
                            "draught").rows() == [
        (366999001, 2, 5, 9212345, "SEA SPRITE", "WDC1234", 70, 9.5),
        (367000002, 3, 24, None, "BAY RUNNER", "WDE5678", 37, None),
        (538001234, 4, 5, 9300001, "NORDIC, STAR", "V7AB3", 80, 14.2),
        (366999001, 19, 5, 9212345, "SEA SPRITE", "WDC1234", 70, 10.2),
        (538001234, 28, 5, 9300001, "NORDIC, STAR", "V7AB3", 80, 14.3),
    ]
    assert d.statics["ts"].to_list()[:1] == [utc(2020, 1, 1)]
    assert d.statics.select(["part", "to_bow", "to_stern", "to_port", "to_starboard", "station"]).null_count().row(0) == (5,) * 6


def test_dma_bad_rows() -> None:
    d = decode(DMA_BAD)
    assert rejects_of(d) == [
        (5, "bad_value", "SOG='fast'"),
        (6, "truncated", "8 fields, expected 23"),
        (7, "bad_timestamp", "# Timestamp='31/02/2018 00:00:01'"),
        (8, "no_timestamp", None),
        (9, "bad_mmsi", "MMSI missing"),
        (10, "empty_line", None),
    ]
    assert d.positions["line_no"].to_list() == [2, 3, 4, 11, 12, 13, 16]
    assert d.type_counts == {1: 6, 18: 1, 4: 1, 21: 1}  # the AtoN (line 15) is counted, not stored
    assert d.base_stations.select("mmsi", "ts", "lat", "lon", "epfd", "station_time", "line_no").rows() == [
        (2190068, utc(2018, 2, 8, 0, 0, 2), 57.68955, 11.832783, 7, None, 14)]
    assert d.lines == 16 == 1 + len(d.positions) + len(d.base_stations) + len(d.rejects) + 1


def test_dma_statics_with_text_codes_and_eta() -> None:
    d = decode(DMA_BAD)
    rows = d.statics.select("mmsi", "line_no", "msg_type", "imo", "name", "callsign", "ship_type", "draught",
                            "destination", "eta", "epfd").rows()
    assert rows == [
        (266322000, 11, 5, 9123456, "STENA EXAMPLE", "SKAE", 70, 7.4, "GOTHENBURG", "02-08T06:00", 1),
        (265547220, 13, 24, None, None, None, 37, None, None, None, None),
        (266322000, 16, 5, 9123456, "STENA EXAMPLE", "SKAE", 70, 7.4, "VARBERG", "02-08T09:30", 1),
    ]


def test_dma_dimensions_from_abcd_columns() -> None:
    header = ("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,"
              "Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,"
              "Destination,ETA,Data source type,A,B,C,D")
    row = ("01/03/2024 12:00:00,Class A,219000001,55.1,11.2,Moored,0.0,0.0,10.0,511,Unknown,OXAB2,TEST ONE,"
           "Tanker,,20,120,GPS,6.1,AARHUS,,AIS,100,20,8,12")
    assert sniff_archive([header, row]) is not None
    d = decode([header, row], "dma")
    assert d.positions.select("ts", "nav_status", "heading").row(0) == (utc(2024, 3, 1, 12), 5, 511)
    assert d.statics.select("ship_type", "to_bow", "to_stern", "to_port", "to_starboard", "imo").row(0) == (
        80, 100, 20, 8, 12, None)


# ------------------------------------------------------------------ rules, one by one

GENERIC = "mmsi,timestamp,lat,lon,sog"


@pytest.mark.parametrize(
    ("line", "reason", "detail"),
    [
        ("", "empty_line", None),
        ("   ", "empty_line", None),
        ("366999001,2020-01-01T00:00:00,29.9", "truncated", "3 fields, expected 5"),
        ("366999001,2020-01-01T00:00:00,29.9,-89.9,1.0,extra", "truncated", "6 fields, expected 5"),
        ("366999001,2020-01-01T00:00:00,north,-89.9,1.0", "bad_value", "lat='north'"),
        ("366999001,2020-01-01T00:00:00,29.9,-89.9,1.0.0", "bad_value", "sog='1.0.0'"),
        ("366999001,yesterday,29.9,-89.9,1.0", "bad_timestamp", "timestamp='yesterday'"),
        ("366999001,2020-02-30T00:00:00,29.9,-89.9,1.0", "bad_timestamp", "timestamp='2020-02-30T00:00:00'"),
        ("366999001,,29.9,-89.9,1.0", "no_timestamp", None),
        ("366999001,Unknown,29.9,-89.9,1.0", "no_timestamp", None),
        (",2020-01-01T00:00:00,29.9,-89.9,1.0", "bad_mmsi", "MMSI missing"),
        ("abc,2020-01-01T00:00:00,29.9,-89.9,1.0", "bad_mmsi", "mmsi='abc'"),
        ("0,2020-01-01T00:00:00,29.9,-89.9,1.0", "bad_mmsi", "mmsi='0'"),
        ("1000000000,2020-01-01T00:00:00,29.9,-89.9,1.0", "bad_mmsi", "mmsi='1000000000'"),
        ("3669990.5,2020-01-01T00:00:00,29.9,-89.9,1.0", "bad_mmsi", "mmsi='3669990.5'"),
        ("abc,,north,-89.9,1.0", "bad_mmsi", "mmsi='abc'"),  # the first failure names the reject
        (GENERIC, "not_ais", "repeated header line"),
    ],
)
def test_each_reject_reason(line: str, reason: str, detail: str | None) -> None:
    d = decode([GENERIC, line], "generic")
    assert rejects_of(d) == [(2, reason, detail)]
    assert d.rejects["raw"].to_list() == [line]
    assert d.positions.is_empty()
    assert d.lines == 2


@pytest.mark.parametrize(
    ("line", "detail"),
    [("{not json", "not JSON"), ('["a", "list"]', "JSON line is not an object"), ("42", "JSON line is not an object")],
)
def test_json_garbage(line: str, detail: str) -> None:
    good = '{"ssvid": 1, "timestamp": 1420070400, "lat": 1.5, "lon": 2.5}'
    d = decode([good, line, "", good.replace("1.5", "1.6")], "generic")
    assert [(n, r) for n, r, _ in rejects_of(d)] == [(2, "garbage"), (3, "empty_line")]
    assert rejects_of(d)[0][2].startswith(detail)  # type: ignore[union-attr]
    assert d.positions.select("line_no", "ts", "lat").rows() == [
        (1, utc(2015, 1, 1), 1.5), (4, utc(2015, 1, 1), 1.6)]
    assert d.lines == 4


def test_bad_rows_never_raise() -> None:
    junk = ["\x00\x01binary", '"', ",,,,", "ä,ö,ü,ß,€", "1,2,3,4,5,6,7,8,9", "\t", "9" * 400 + ",x,y,z,w"]
    d = decode([GENERIC, *junk], "generic")
    assert len(d.rejects) == len(junk)
    assert d.lines == len(junk) + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-10-15T02:39:55.000000Z", utc(2015, 10, 15, 2, 39, 55)),
        ("2015-10-15T02:39:55Z", utc(2015, 10, 15, 2, 39, 55)),
        ("2015-10-15T02:39:55.25", datetime(2015, 10, 15, 2, 39, 55, 250000, tzinfo=UTC)),
        ("2014-01-01 01:14:25.000000", utc(2014, 1, 1, 1, 14, 25)),
        ("2014-01-01 01:14:25 UTC", utc(2014, 1, 1, 1, 14, 25)),
        ("2020-01-01T02:00:00+02:00", utc(2020, 1, 1, 0, 0, 0)),
        ("2020-01-01T00:00:00-0130", utc(2020, 1, 1, 1, 30, 0)),
        ("08/02/2018 13:05:09", utc(2018, 2, 8, 13, 5, 9)),
        ("1420070400", utc(2015, 1, 1)),
        ("1420070400.5", datetime(2015, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("1420070400123", datetime(2015, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(text: str, expected: datetime) -> None:
    d = decode(["mmsi,t,lat,lon", f"366999001,{text},1,2"], "generic")
    assert d.positions["ts"].to_list() == [expected]


# ------------------------------------------------------------------ column mapping

def test_auto_mapping_aliases_are_case_insensitive() -> None:
    header = "UserID\tDateTime\tLatitude\tLongitude\tSpeed_kn\tCourse\tTrue_Heading\tShipName\tStatus"
    found = sniff_archive([header, "1\t2\t3\t4\t5\t6\t7\t8\t9"])
    assert found == ("generic", {
        "mmsi": "UserID", "ts": "DateTime", "lat": "Latitude", "lon": "Longitude", "sog": "Speed_kn",
        "cog": "Course", "heading": "True_Heading", "name": "ShipName", "nav_status": "Status"})
    d = decode([header, "366999001\t2020-01-01 00:00:00\t29.9\t-89.9\t12.3\t45.6\t44\tSEA SPRITE\tMoored"],
               "generic")
    assert d.positions.select("mmsi", "sog", "cog", "heading", "nav_status").row(0) == (
        366999001, 12.3, 45.6, 44, 5)
    assert d.statics.select("name", "msg_type").row(0) == ("SEA SPRITE", None)


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_other_delimiters_with_decimal_comma(sep: str) -> None:
    lines = [sep.join(["MMSI", "x", "y", "time", "speed"]),
             sep.join(["366999001", "-89,95", "29,9", "01/01/2020 00:00:00", "12,5"])]
    found = sniff_archive(lines)
    assert found == ("generic", {"mmsi": "MMSI", "lon": "x", "lat": "y", "ts": "time", "sog": "speed"})
    d = decode(lines, "generic")
    assert d.positions.select("lat", "lon", "sog", "ts").row(0) == (29.9, -89.95, 12.5, utc(2020, 1, 1))


def test_columns_option_overrides_auto_mapping() -> None:
    lines = ["vessel,time,when_utc,lat,lon", "366999001,junk,2020-01-01T00:00:00,1,2"]
    with pytest.raises(InputError, match="mmsi"):
        decode_archive(enumerate(lines, 1), "generic")
    cols = parse_columns_option("mmsi=vessel, ts=when_utc")
    d = decode(lines, "generic", cols)
    assert d.positions.select("mmsi", "ts").row(0) == (366999001, utc(2020, 1, 1))


def test_columns_option_works_for_json_lines() -> None:
    lines = ['{"id": 366999001, "fix": {"at": 1}, "epoch_ms": 1420070400000, "la": 1.5, "lo": 2.5}']
    d = decode(lines, "generic", parse_columns_option("mmsi=id,ts=epoch_ms,lat=la,lon=lo"))
    assert d.positions.select("mmsi", "ts", "lat", "lon").row(0) == (366999001, utc(2015, 1, 1), 1.5, 2.5)


def test_columns_naming_a_missing_column_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"'nope' not in the generic header; columns are: mmsi, t, lat, lon"):
        decode_archive([(1, "mmsi,t,lat,lon")], "generic", {"ts": "nope"})


def test_missing_fields_error_names_them_and_suggests_columns() -> None:
    with pytest.raises(InputError) as e:
        decode_archive([(1, "ssvid,when,latitude,longitude")], "generic")
    assert str(e.value) == (
        "cannot tell which column holds ts in the generic header (columns: ssvid, when, latitude, "
        "longitude); name them with --columns ts=...")


def test_header_error_is_raised_at_call_not_at_first_batch() -> None:
    with pytest.raises(InputError):
        decode_archive(iter([(1, "a,b,c")]), "generic")


def test_parse_columns_option() -> None:
    assert parse_columns_option("mmsi=ssvid,ts=timestamp,lat=lat") == {
        "mmsi": "ssvid", "ts": "timestamp", "lat": "lat"}
    assert parse_columns_option(" ts = # Timestamp ") == {"ts": "# Timestamp"}
    assert parse_columns_option("name=a=b") == {"name": "a=b"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mmsi", "expected FIELD=COLUMN"),
        ("mmsi=", "expected FIELD=COLUMN"),
        ("=ssvid", "expected FIELD=COLUMN"),
        ("mmsi=a,,ts=b", "expected FIELD=COLUMN"),
        ("", "expected FIELD=COLUMN"),
        ("speed=sog", "unknown field 'speed'; fields are: mmsi, ts, lat, lon"),
        ("mmsi=a,mmsi=b", "given twice"),
    ],
)
def test_parse_columns_option_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_columns_option(text)


def test_every_alias_maps_its_field() -> None:
    assert set(ALIASES) == set(FIELDS)
    for field, aliases in ALIASES.items():
        for alias in aliases:
            found = sniff_archive([f"{alias},other column", "1,2"])
            assert found is not None and found[1].get(field) == alias, (field, alias)


# ------------------------------------------------------------------ batching and streaming

@pytest.mark.parametrize(
    ("path", "batch_rows"),
    [(p, n) for p in (DMA, DMA_BAD, NOAA) for n in (1, 3, 100)]
    + [(p, n) for p in (BOSTON, GFW_263, GFW_416) for n in (100, 333)],
)
def test_small_batches_give_the_same_rows(path: Path, batch_rows: int) -> None:
    whole = decode(path)
    parts = decode(path, batch_rows=batch_rows)
    n = len(list(numbered(path)))
    assert whole.batches == 1 and parts.batches == -(-n // batch_rows)  # batches of lines, the header's too
    for name in ("positions", "statics", "base_stations", "rejects"):
        assert getattr(parts, name).equals(getattr(whole, name)), name
    assert parts.type_counts == whole.type_counts
    assert parts.lines == whole.lines == n


def test_first_batch_counts_the_header() -> None:
    batches = list(decode_archive(numbered(NOAA), "noaa", batch_rows=10))
    assert [b.lines for b in batches] == [10, 10, 10, 2]
    assert [len(b.positions) + len(b.rejects) for b in batches] == [9, 10, 10, 2]
    lines, cats, _, _ = batches[0].entries.arrays()
    assert lines[cats == accounting.HEADER].tolist() == [1]


def test_header_only_and_empty_inputs() -> None:
    (only,) = decode_archive([(1, GENERIC)], "generic")
    assert (only.lines, len(only.positions), len(only.rejects)) == (1, 0, 0)
    assert list(decode_archive([], "noaa")) == []
    (blank,) = decode_archive([(1, ""), (2, "")], "generic")
    assert (blank.lines, blank.rejects["reason"].to_list()) == (2, ["empty_line", "empty_line"])
    (lead,) = decode_archive([(1, ""), (2, GENERIC), (3, "1,2020-01-01T00:00:00,1,2,3")], "generic")
    assert (lead.lines, len(lead.positions), lead.rejects["line_no"].to_list()) == (3, 1, [1])


def test_streams_without_reading_everything() -> None:
    consumed = 0

    def source() -> Iterator[tuple[int, str]]:
        nonlocal consumed
        yield 1, "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,TransceiverClass"
        consumed += 1
        for i in range(200_000):
            consumed += 1
            yield i + 2, f"{366000000 + i % 50},{1577836800 + i},29.9,-89.9,{i % 100 / 10},45.0,511,A"

    batches = decode_archive(source(), "noaa", batch_rows=1_000)
    assert isinstance(batches, Iterator)
    first = next(batches)
    assert len(first.positions) == 999 and first.lines == 1_000  # the header and 999 rows
    assert consumed <= 1_001  # one batch read, not 200k lines
    second = next(batches)
    assert second.positions["line_no"][0] == 1_001
    assert consumed <= 2_001


def test_static_state_survives_batches() -> None:
    lines = ["mmsi,ts,lat,lon,name"] + [
        f"366999001,{1577836800 + i},1,2,{'OLD' if i < 5 or i >= 8 else 'NEW'}" for i in range(12)]
    for rows in (1, 2, 50):
        d = decode(lines, "generic", batch_rows=rows)
        assert d.statics.select("line_no", "name").rows() == [(2, "OLD"), (7, "NEW"), (10, "OLD")]


# ------------------------------------------------------------------ property

@settings(max_examples=60, deadline=None)
@given(
    mmsi=st.integers(1, 999_999_999),
    lat=st.floats(-90, 90, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
    ts=st.datetimes(utc(1995, 1, 1).replace(tzinfo=None), utc(2099, 12, 31).replace(tzinfo=None),
                    timezones=st.just(UTC)),
    sep=st.sampled_from([",", ";", "\t", "|"]),
)
def test_written_row_reads_back(mmsi: int, lat: float, lon: float, ts: datetime, sep: str) -> None:
    header = sep.join(["mmsi", "timestamp", "lat", "lon"])
    row = sep.join([str(mmsi), ts.isoformat(), repr(lat), repr(lon)])
    d = decode([header, row], "generic")
    assert d.rejects.is_empty()
    assert d.positions.select("mmsi", "ts", "lat", "lon").row(0) == (mmsi, ts, lat, lon)


def test_a_header_after_many_blank_lines_is_read_and_judged_the_same(tmp_path: Path) -> None:
    """The header is read from the file's first lines before anything is stored; one that
    comes later (after 2,000 blank lines) is read from the chunks as they come: the same
    rows, the blank lines kept as rejects, and a header not understood fails the file with
    the same words and nothing stored."""
    good, bad = tmp_path / "late.csv", tmp_path / "late-bad.csv"
    good.write_text("\n" * 2000 + "mmsi,ts,lat,lon\n366000001,2020-01-01T00:00:00Z,29.9,-89.9\n")
    bad.write_text("\n" * 2000 + "a,b,c\n1,2,3\n")
    db = tmp_path / "late.duckdb"
    result = run_cli(["ingest", "--format", "generic", bad, good], db)
    assert result.exit_code == 1
    assert ("late-bad.csv: failed: cannot tell which column holds mmsi, ts, lat, lon in the generic header"
            in " ".join(result.output.split()))
    assert query(db, "SELECT name, lines_read, positions, rejects FROM sources") == [(str(good), 2002, 1, 2000)]
