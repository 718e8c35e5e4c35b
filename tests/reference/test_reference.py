"""Bundled reference data: port gazetteer, MID -> flag, land mask and coastline distance.

The loaders are cached, so the data is read once per test session.
"""

from __future__ import annotations

import csv
import dataclasses
import random
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from shiptrack.errors import PortNotFound
from shiptrack.reference import build_ports, land
from shiptrack.reference.mid import flag_of_mmsi, mid_frame, mid_of_mmsi, mid_sql, station_kind
from shiptrack.reference.ports import Port, load_ports, ports_frame, resolve_port, search_ports

DATA = Path(build_ports.__file__).parent / "data"
WPI_SOURCE = build_ports.DEFAULT_SOURCE

# -- ports ----------------------------------------------------------------------------------------

# English name, UN/LOCODE as the WPI gives it (None: none), where the port really is (+-0.05 deg)
NAMED_PORTS = [
    ("Benghazi", "LYBEN", 32.12, 20.05),
    ("Sfax", "TNSFA", 34.73, 10.77),
    ("Novorossiysk", "RUNVS", 44.72, 37.78),
    ("Douala", "CMDLA", 4.05, 9.69),
    ("Latakia", "SYALD", 35.52, 35.77),
    ("Tartus", "SYTTS", 34.90, 35.87),
    ("Tobruk", "LYTOB", 32.08, 23.98),
    ("Misrata", "LYMIS", 32.37, 15.22),
    ("Gibraltar", None, 36.14, -5.36),
    ("Port Said", "EGPSD", 31.26, 32.31),
]


def assert_at(port: Port, lat: float, lon: float) -> None:
    assert abs(port.lat - lat) <= 0.05 and abs(port.lon - lon) <= 0.05, port


@pytest.mark.parametrize(("name", "locode", "lat", "lon"), NAMED_PORTS)
def test_named_port_resolves_by_english_name(name: str, locode: str | None, lat: float, lon: float) -> None:
    port = resolve_port(name)
    assert port.locode == locode
    assert_at(port, lat, lon)


@pytest.mark.parametrize(("name", "locode", "lat", "lon"), [p for p in NAMED_PORTS if p[1]])
def test_named_port_resolves_by_locode_in_any_spelling(
    name: str, locode: str, lat: float, lon: float
) -> None:
    spaced = f"{locode[:2]} {locode[2:]}"
    for query in (locode, spaced, spaced.lower(), f"{locode[:2]}-{locode[2:]}".lower(), f" {locode} "):
        port = resolve_port(query)
        assert port == resolve_port(name), query
        assert_at(port, lat, lon)


def test_benghazi_is_the_wpi_entry_banghazi() -> None:
    port = resolve_port("LY BEN")
    assert (port.port_id, port.name, port.country) == (45280, "Banghazi", "Libya")
    assert port.alt_names == ("Bengasi",)
    assert resolve_port("Port of Benghazi") == port


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NOVOROSSIYSK", "Novorossiysk"),
        ("novorossiysk", "Novorossiysk"),
        ("Dakar", "Dakar"),
        ("DAKAR", "Dakar"),
        ("Gebze", "Gebze"),
        ("GEBZE", "Gebze"),
        ("Gölcük", "Golcuk Burnu"),
        ("GÖLCÜK", "Golcuk Burnu"),
        ("Constanța", "Constanta"),
        ("Bur Sa'id", "Bur Sa'id"),
        ("bur said", "Bur Sa'id"),
        ("mersa sfax", "Mersa Sfax"),
        ("Ras Lanuf", "Ras Lanuf"),  # the WPI writes "Ras   Lanuf"
    ],
)
def test_names_match_ignoring_case_accents_and_punctuation(query: str, expected: str) -> None:
    assert resolve_port(query).name == expected


@pytest.mark.parametrize(
    ("query", "port_id"),
    [
        ("Tripoli", 45330),  # the alias table's choice: Libya (the WPI's only "Tripoli")
        ("Tripoli, Libya", 45330),
        ("Tripoli, Lebanon", 45025),
        ("Tripoli (LB)", 45025),
        ("Tripoli (Lebanon)", 45025),
        ("Tarabulus", 45025),
        ("LBKYE", 45025),
        ("Alexandria", 45165),  # Egypt, not Alexandria, Virginia
        ("Alexandria, US", 8240),
        ("Alexandria (United States)", 8240),
        ("Lagos", 46130),  # Nigeria
        ("Lagos, Portugal", 38010),
        ("Vancouver", 18150),  # no alias: the larger WPI harbour (Canada) wins
        ("SYLTK", 45010),  # Latakia's UN/LOCODE, which the WPI gives as SY ALD
    ],
)
def test_ambiguous_names_follow_the_documented_rule(query: str, port_id: int) -> None:
    assert resolve_port(query).port_id == port_id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Latakia", "Al Ladhiqiyah"),
        ("Port Said", "Bur Sa'id"),
        ("Tartous", "Tartus"),
        ("Odessa", "Odesa"),
        ("Piraeus", "Piraievs"),
        ("Algiers", "Alger"),
        ("Istanbul", "Istanbul"),
        ("Constanta", "Constanta"),
        ("Misurata", "Misratah"),
        ("Chornomorsk", "Illichivsk"),
        ("Le Havre", "Port Of Le Havre"),
        ("Valletta", "Valletta Harbors"),
    ],
)
def test_common_english_names(query: str, expected: str) -> None:
    assert resolve_port(query).name == expected


@pytest.mark.parametrize("query", ["Bengazi", "Benghasi"])
def test_misspelling_raises_with_suggestions(query: str) -> None:
    with pytest.raises(PortNotFound) as info:
        resolve_port(query)
    err = info.value
    assert err.query == query
    assert err.exit_code == 2
    assert any("Banghazi" in s or "Benghazi" in s for s in err.suggestions), err.suggestions
    assert "did you mean" in str(err)


def test_nonsense_raises_without_suggestions() -> None:
    for query in ["", "   ", "qqqqxz"]:
        with pytest.raises(PortNotFound):
            resolve_port(query)


def test_search_orders_exact_then_prefix_then_fuzzy() -> None:
    assert search_ports("Benghazi")[0].name == "Banghazi"
    assert search_ports("sfax")[0].name == "Mersa Sfax"
    assert search_ports("TN SFA", limit=1)[0].name == "Mersa Sfax"
    assert "Novorossiysk" in [p.name for p in search_ports("Novoro", limit=5)]
    assert "Novorossiysk" in [p.name for p in search_ports("Novorosisk", limit=5)]  # fuzzy
    alex = [p.country for p in search_ports("Alexandria", limit=3)]
    assert alex[:2] == ["Egypt", "United States"]  # both exact; the alias first
    assert len(search_ports("port", limit=7)) == 7
    assert search_ports("") == [] and search_ports("Benghazi", limit=0) == []


def test_gazetteer_size_and_integrity() -> None:
    ports = load_ports()
    assert len(ports) >= 3000
    ids = [p.port_id for p in ports]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    for p in ports:
        assert -90 <= p.lat <= 90 and -180 <= p.lon <= 180
        assert p.locode is None or (len(p.locode) == 5 and " " not in p.locode)
        assert p.harbor_size in (None, "Large", "Medium", "Small", "Very Small")
        assert p.name and p.name == p.name.strip()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ports[0].name = "x"  # type: ignore[misc]
    load_ports().clear()  # callers get a copy, never the cache
    assert len(load_ports()) == len(ports)


def test_every_alias_resolves_to_its_port() -> None:
    with (DATA / "port_aliases.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 50
    for row in rows:
        assert resolve_port(row["alias"]).port_id == int(row["port_id"]), row


def test_ports_frame_loads_into_duckdb() -> None:
    frame = ports_frame()
    assert frame.columns == ["port_id", "name", "country", "locode", "lat", "lon"]
    assert frame.schema["port_id"] == pl.Int64 and frame.schema["lat"] == pl.Float64
    assert frame.height == len(load_ports())
    con = duckdb.connect()
    con.register("ports", frame.to_arrow())
    assert con.execute("SELECT name FROM ports WHERE locode = 'LYBEN'").fetchall() == [("Banghazi",)]


@pytest.mark.skipif(not WPI_SOURCE.exists(), reason="the WPI source CSV is not on this machine")
def test_ports_csv_is_reproducible_from_the_wpi(tmp_path: Path) -> None:
    rows, notes = build_ports.read_wpi(WPI_SOURCE)
    out = tmp_path / "ports.csv"
    build_ports.write_ports(rows, out)
    assert out.read_bytes() == (DATA / "ports.csv").read_bytes()
    assert len(notes) == 4  # 2 non-integer WPI numbers dropped, 2 repeated numbers merged
    assert build_ports.check_aliases(rows, DATA / "port_aliases.csv") == []


# -- MID ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mmsi", "flag"),
    [
        (352123456, ("Panama", "PA")),  # ship station
        (273000000, ("Russia", "RU")),
        (2730000, ("Russia", "RU")),  # coast station 002730000
        (27312345, ("Russia", "RU")),  # group 027312345
        (111273123, ("Russia", "RU")),  # SAR aircraft
        (982731234, ("Russia", "RU")),  # craft associated with a parent ship
        (992731234, ("Russia", "RU")),  # aid to navigation
        (970123456, None),  # AIS-SART
        (972123456, None),  # man overboard
        (974123456, None),  # EPIRB-AIS
        (812345678, None),  # handheld VHF
        (123, None),
        (-352123456, None),
        (1_352_123_456, None),
        (200000000, None),  # well-formed, but MID 200 is not allocated
    ],
)
def test_flag_of_mmsi(mmsi: int, flag: tuple[str, str] | None) -> None:
    assert flag_of_mmsi(mmsi) == flag


def test_mid_of_mmsi_reads_structure_only() -> None:
    assert mid_of_mmsi(200000000) == 200  # unallocated but well placed
    assert mid_of_mmsi(np.int64(636012345)) == 636
    assert mid_of_mmsi(111111111) is None  # SAR aircraft with MID 111: impossible
    assert mid_of_mmsi(3.52e8) is None  # type: ignore[arg-type]
    assert mid_of_mmsi("352123456") is None  # type: ignore[arg-type]



@pytest.mark.parametrize(("mmsi", "kind"), [
    (352123456, "ship"), (636012345, "ship"), (200000000, "ship_unallocated_mid"),
    (416000000, "ship_placeholder"), (416000001, "ship"),
    (1193046, "none"),  # 0x123456: a transponder default seen in exactEarth's archive
    (0, "none"), (123456, "none"), (999999999, "none"), (-352123456, "none"), (1_352_123_456, "none"),
    (31423000, "group"), (2730000, "coast_station"), (111273123, "sar_aircraft"), (982731234, "parent_craft"),
    (992731234, "aid_to_navigation"), (970123456, "sart"), (972123456, "man_overboard"), (974123456, "epirb"),
    (823012345, "handheld"), (812345678, "none"), (123456789, "none"),
])
def test_station_kind_reads_the_numbers_form(mmsi: int, kind: str) -> None:
    assert station_kind(mmsi) == kind

ITU_ALLOCATIONS = {
    "PA": [351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373, 374],
    "MH": [538],
    "LR": [636, 637],
    "RU": [273],
    "LY": [642],
    "TN": [672],
    "CM": [613],
    "TR": [271],
    "GR": [237, 239, 240, 241],
    "MT": [215, 229, 248, 249, 256],
    "SY": [468],
    "EG": [622],
    "CY": [209, 210, 212],
    "GB": [232, 233, 234, 235],
    "GI": [236],
    "US": [303, 338, 366, 367, 368, 369],
    "CN": [412, 413, 414],
    "HK": [477],
    "SG": [563, 564, 565, 566],
    "AE": [470, 471],
    "IR": [422],
    "KP": [445],
    "VC": [375, 376, 377],
    "BS": [308, 309, 311],
    "KM": [616, 620],
    "TZ": [674, 677],
    "GA": [626],
    "CK": [518],
    "PW": [511],
    "TG": [671],
    "SL": [667],
    "MD": [214],
    "BZ": [312],
    "DZ": [605],
    "MA": [242],
    "LB": [450],
    "IL": [428],
    "UA": [272],
    "GE": [213],
    "BG": [207],
    "RO": [264],
    "IN": [419],
    "VE": [775],
}


def test_mid_table_matches_itu_allocations() -> None:
    frame = mid_frame()
    assert frame.columns == ["mid", "country", "iso2"]
    table = dict(zip(frame["mid"].to_list(), frame["iso2"].to_list(), strict=True))
    assert 280 <= len(table) <= 300
    assert all(201 <= m <= 775 for m in table)
    assert all(len(c) == 2 and c.isupper() for c in table.values())
    for iso2, mids in ITU_ALLOCATIONS.items():
        for mid in mids:
            assert table.get(mid) == iso2, mid
    assert sorted(m for m, c in table.items() if c == "PA") == ITU_ALLOCATIONS["PA"]
    assert flag_of_mmsi(271000001) == ("Türkiye", "TR")


def test_mid_sql_agrees_with_python() -> None:
    rng = random.Random(20180226)
    values = [352123456, 2730000, 27312345, 111273123, 982731234, 992731234, 970123456, 123, 0]
    values += [rng.randrange(10**9) for _ in range(3000)] + [rng.randrange(10**8) for _ in range(3000)]
    values += [rng.randrange(10**7) for _ in range(2000)] + [
        111_000_000 + rng.randrange(10**6) for _ in range(1000)
    ]
    values += [980_000_000 + rng.randrange(2 * 10**7) for _ in range(1000)]
    con = duckdb.connect()
    con.register("t", pl.DataFrame({"mmsi": values}, schema={"mmsi": pl.Int64}).to_arrow())
    con.register("mids", mid_frame().to_arrow())
    got = con.execute(
        f"SELECT t.mmsi, {mid_sql('t.mmsi')}, mids.iso2 FROM t LEFT JOIN mids ON mids.mid = {mid_sql('t.mmsi')}"
    ).fetchall()
    for mmsi, mid, iso2 in got:
        assert mid == mid_of_mmsi(mmsi), mmsi
        flag = flag_of_mmsi(mmsi)
        assert iso2 == (flag[1] if flag else None), mmsi


# -- land -----------------------------------------------------------------------------------------

CENTRAL_LIBYA = (28.0, 17.0)
CENTRAL_MED = (35.0, 18.0)


def test_is_land_is_vectorised() -> None:
    lat = np.array([[CENTRAL_LIBYA[0], CENTRAL_MED[0]], [51.5, np.nan]])
    lon = np.array([[CENTRAL_LIBYA[1], CENTRAL_MED[1]], [-0.12, 0.0]])
    assert land.is_land(lat, lon).tolist() == [[True, False], [True, False]]
    assert bool(land.is_land(*CENTRAL_LIBYA)) and not bool(land.is_land(*CENTRAL_MED))
    assert bool(land.is_land(28.0, 17.0 + 360.0))  # longitudes wrap
    with pytest.raises(ValueError):
        land.is_land(95.0, 0.0)


def test_is_land_by_blocks_gives_global_land_masks_answers() -> None:
    """Large inputs are read in blocks (land._BLOCK points at a time): the same answers as
    global-land-mask, in the input's shape, a scalar coordinate broadcast to all."""
    from global_land_mask import globe

    rng = np.random.default_rng(11)
    n = 2 * land._BLOCK + 12_340
    lat, lon = rng.uniform(-89.9, 89.9, n), rng.uniform(-540.0, 540.0, n)
    expected = globe.is_land(lat, (lon + 180.0) % 360.0 - 180.0)
    assert np.array_equal(land.is_land(lat, lon), expected)
    assert np.array_equal(land.is_land(lat.reshape(-1, 4), lon.reshape(-1, 4)), expected.reshape(-1, 4))
    assert np.array_equal(land.is_land(lat, 17.0), globe.is_land(lat, np.full(n, 17.0)))
    lat[n - 3] = 95.0  # in the last block
    with pytest.raises(ValueError):
        land.is_land(lat, lon)


def test_central_libya_is_far_inland_and_the_med_is_sea() -> None:
    d = land.inland_distance_km(
        np.array([CENTRAL_LIBYA[0], CENTRAL_MED[0]]), np.array([CENTRAL_LIBYA[1], CENTRAL_MED[1]])
    )
    assert d[0] > 100.0
    assert d[1] == 0.0
    signed = land.inland_distance_km(*CENTRAL_MED, signed=True)
    assert signed < -100.0  # about 320 km off the Libyan coast


def test_wpi_ports_are_near_the_coast() -> None:
    names = [
        "Benghazi",
        "Sfax",
        "Novorossiysk",
        "Douala",
        "Latakia",
        "Tartus",
        "Tobruk",
        "Misrata",
        "Port Said",
    ]
    ports = [resolve_port(n) for n in names]
    d = land.inland_distance_km(np.array([p.lat for p in ports]), np.array([p.lon for p in ports]))
    assert (d < 5.0).all(), dict(zip(names, d.round(2).tolist(), strict=True))
    coast = land.coast_distance_km(np.array([p.lat for p in ports]), np.array([p.lon for p in ports]))
    assert (coast < 5.0).all(), dict(zip(names, coast.round(2).tolist(), strict=True))


def test_caspian_is_sea_though_the_mask_calls_it_land() -> None:
    assert bool(land.is_land(42.0, 51.0))  # global-land-mask counts the Caspian as a lake
    assert land.inland_distance_km(42.0, 51.0) == 0.0
    assert land.inland_distance_km(42.0, 51.0, signed=True) < -50.0


def test_coast_distance_matches_a_brute_force_search() -> None:
    xy = np.vstack(
        [np.asarray(ring.coords) for p in land.land_geometries() for ring in (p.exterior, *p.interiors)]
    )
    xy = xy[np.abs(xy[:, 0]) < 179.99]  # the antimeridian cut is not coastline
    rng = np.random.default_rng(11)
    far_inland = np.array([[16.06, 24.11], [45.0, 85.0], [-25.0, 135.0], [62.0, 100.0], [41.7, -160.5]])
    lat = np.r_[rng.uniform(-70.0, 75.0, 25), rng.uniform(30.0, 46.0, 15), far_inland[:, 0]]
    lon = np.r_[rng.uniform(-170.0, 170.0, 25), rng.uniform(-5.0, 36.0, 15), far_inland[:, 1]]
    fast = land.coast_distance_km(lat, lon)
    for la, lo, d in zip(lat, lon, fast, strict=True):
        p1, p2 = np.radians(la), np.radians(xy[:, 1])
        h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(xy[:, 0] - lo) / 2) ** 2
        nearest_vertex_km = (2 * 6371.0088 * np.arcsin(np.sqrt(h))).min()
        # never farther than the nearest vertex, never much nearer than it (segments are short)
        slack = 0.05 if d < 100 else 0.05 * d
        assert nearest_vertex_km - 15.0 <= d <= nearest_vertex_km + slack, (la, lo, d, nearest_vertex_km)


def test_nan_positions() -> None:
    d = land.inland_distance_km(np.array([np.nan, CENTRAL_LIBYA[0]]), np.array([0.0, CENTRAL_LIBYA[1]]))
    assert np.isnan(d[0]) and d[1] > 100.0


def test_inland_distance_is_fast_for_thousands_of_points() -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(25.0, 47.0, 5000), rng.uniform(-6.0, 42.0, 5000)
    land.inland_distance_km(lat[:10], lon[:10])  # load the data outside the timing
    start = time.perf_counter()
    d = land.inland_distance_km(lat, lon)
    assert time.perf_counter() - start < 3.0
    on_land = land.is_land(lat, lon)
    assert (d[on_land] >= 0).all() and (d[~on_land] == 0).all()
    assert 0.3 < on_land.mean() < 0.8


def test_land_geometries_and_geojson() -> None:
    polys = land.land_geometries()
    assert len(polys) > 4000
    assert all(p.geom_type == "Polygon" and p.is_valid for p in polys[:200])
    bbox = (-6.0, 30.0, 42.0, 47.0)
    gj = land.land_geojson(bbox=bbox)
    assert gj["type"] == "FeatureCollection" and gj["features"]
    xy = np.array(
        [
            pt
            for f in gj["features"]
            for poly in (
                [f["geometry"]["coordinates"]]
                if f["geometry"]["type"] == "Polygon"
                else f["geometry"]["coordinates"]
            )
            for ring in poly
            for pt in ring
        ]
    )
    assert xy[:, 0].min() >= bbox[0] and xy[:, 0].max() <= bbox[2]
    assert xy[:, 1].min() >= bbox[1] and xy[:, 1].max() <= bbox[3]
    gj["features"].clear()  # a fresh dict each call
    assert land.land_geojson(bbox=bbox)["features"]


def test_land_mask_cache_gives_the_same_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed land grid is kept in the cache folder after the first use and mapped from
    there later; answers are those of global-land-mask itself, and a damaged or unwritable
    cache is ignored."""
    from global_land_mask import globe

    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-89.9, 89.9, 20_000), rng.uniform(-179.9, 179.9, 20_000)
    expected = globe.is_land(lat, lon)

    def fresh() -> np.ndarray:
        land._mask.cache_clear()
        try:
            return land.is_land(lat, lon)
        finally:
            land._mask.cache_clear()

    cache = tmp_path / "cache"
    monkeypatch.setenv("SHIPTRACK_CACHE_DIR", str(cache))
    assert np.array_equal(fresh(), expected)  # built, and written
    npy = sorted(cache.glob("land-mask-*.npy"))
    assert len(npy) == 1 and len(list(cache.glob("land-mask-*.json"))) == 1 and not list(cache.glob("*.tmp"))
    land._mask.cache_clear()
    assert isinstance(land._mask().bits, np.memmap)  # read back from the cache
    assert np.array_equal(fresh(), expected)
    npy[0].write_bytes(npy[0].read_bytes()[:1000])  # a damaged cache: rebuilt
    assert np.array_equal(fresh(), expected)
    assert npy[0].stat().st_size > 100_000_000
    monkeypatch.setenv("SHIPTRACK_CACHE_DIR", "")  # no cache at all
    assert land.cache_dir() is None and np.array_equal(fresh(), expected)


def test_the_land_mask_cache_is_named_by_content_and_kept_once(tmp_path: Path) -> None:
    """Two environments that installed the same global-land-mask (the same bytes, another
    place and time) share one cached grid; another version of the grid gets its own."""
    import os
    import shutil

    src = land.mask_source()
    a, b = tmp_path / "env_a" / src.name, tmp_path / "env_b" / src.name
    for copy in (a, b):
        copy.parent.mkdir()
        shutil.copyfile(src, copy)
    os.utime(b, (1_000_000_000, 1_000_000_000))  # installed at another time
    assert land.mask_key(a) == land.mask_key(b) == land.mask_key(src)
    other = tmp_path / "other.npz"
    other.write_bytes(src.read_bytes()[:-1] + b"x")
    assert land.mask_key(other) != land.mask_key(src)


def test_stale_land_mask_copies_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of the old naming (one per environment), copies of other content nobody used
    for 30 days, and temporary files of dead writes go; a recent copy of other content
    (another environment's global-land-mask version) and files of other names stay."""
    import os

    cache = tmp_path / "cache"
    cache.mkdir()
    long_ago = time.time() - 40 * 86400
    old_layout = [cache / f"land-mask-2518022-179659787282101477{i}.{ext}" for i in (1, 2) for ext in ("npy", "json")]
    unused = [cache / f"land-mask-v{land.MASK_CACHE_FORMAT}-{'0' * 20}.{ext}" for ext in ("npy", "json")]
    recent = [cache / f"land-mask-v{land.MASK_CACHE_FORMAT}-{'1' * 20}.{ext}" for ext in ("npy", "json")]
    dead_write = cache / "land-mask-v2-abc.npy.4242.tmp"
    mine = cache / "notes.txt"
    for f in (*old_layout, *unused, *recent, dead_write, mine):
        f.write_bytes(b"x")
    for f in (*unused, dead_write, mine):
        os.utime(f, (long_ago, long_ago))
    monkeypatch.setenv("SHIPTRACK_CACHE_DIR", str(cache))
    land._mask.cache_clear()
    try:
        assert bool(land.is_land(50.0, 10.0))  # Germany; builds and stores the current copy
    finally:
        land._mask.cache_clear()
    key = land.mask_key(land.mask_source())
    assert sorted(f.name for f in cache.iterdir()) == sorted(
        [f"{key}.json", f"{key}.npy", *(f.name for f in recent), mine.name])
    # the copy in use is marked as used: after 40 days idle, a run marks it again
    os.utime(cache / f"{key}.json", (long_ago, long_ago))
    land._mask.cache_clear()
    try:
        land.is_land(50.0, 10.0)
    finally:
        land._mask.cache_clear()
    assert time.time() - (cache / f"{key}.json").stat().st_mtime < 3600


def test_a_new_store_holds_the_gazetteer_and_mid_table_as_their_readers_give_them(tmp_path: Path) -> None:
    """The store loads ports.csv and mid.csv with DuckDB's CSV reader; the rows must be
    those of the Python readers (ports_frame, mid_frame), an empty LOCODE as NULL."""
    from shiptrack.store.db import connect, frame

    con = connect(tmp_path / "s.duckdb")
    ports = frame(con, "SELECT * FROM ports ORDER BY port_id")
    want = ports_frame().sort("port_id")
    assert ports.height == want.height == 3798
    assert ports.equals(want.cast(dict(ports.schema)))
    assert ports["locode"].null_count() == want["locode"].null_count() > 0
    mids = frame(con, "SELECT * FROM mid_flags ORDER BY mid")
    assert mids.equals(mid_frame().sort("mid").cast(dict(mids.schema)))
    con.close()
