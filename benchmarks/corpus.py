"""Write a large, realistic NMEA corpus fast, for benchmarks.

    .venv/bin/python benchmarks/corpus.py OUT N [--seed 1] [--no-tagblocks]

Writes exactly N sentences (lines): a few thousand MMSIs moving along straight
courses, receive times that never go backwards, NMEA 4.10 tag blocks
``\\s:rSTA01,c:1519862400*hh\\`` with correct checksums (unless --no-tagblocks).
The message mix, counted in messages (a type 5 is two sentences):

    80%  position reports: types 1, 2, 3 (Class A) and 18 (Class B, about 15%)
    10%  type 5, static and voyage data (two sentences)
     5%  type 24, parts A and B (Class B static data)
     3%  type 4, base station reports
     2%  types 8 (binary broadcast) and 21 (aid to navigation)

Speed: every field is packed into a bit matrix with numpy, armoured to 6-bit ASCII
with a lookup table, and the lines of each kind are laid out as fixed-width byte rows
(checksums computed as column-wise XORs), so no Python code runs per sentence. About
a million sentences in a few seconds. tests/benchmarks/test_corpus.py holds the payloads to
pyais's own encoder and decoder.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

T0 = 1519862400  # 2018-03-01T00:00:00Z
MESSAGES_PER_S = 25.0  # mean arrival rate of the merged feed
CHUNK = 100_000  # messages laid out at a time (bounds memory)

# kind -> (message type, share of messages)
KINDS = ("pos_a", "pos_b", "static5", "b24", "base4", "msg8", "aton21")
SHARES = np.array([0.68, 0.12, 0.10, 0.05, 0.03, 0.01, 0.01])
STATIONS = [f"rSTA{i:02d}".encode() for i in range(1, 13)]
MIDS = np.array([209, 210, 212, 215, 219, 224, 227, 229, 232, 235, 236, 237, 239, 240, 241, 244, 246, 247,
                 248, 249, 255, 256, 257, 259, 261, 265, 271, 273, 304, 305, 311, 338, 351, 352, 353, 354,
                 355, 356, 357, 366, 370, 371, 372, 412, 413, 416, 431, 440, 441, 477, 525, 533, 538, 563,
                 564, 565, 566, 572, 576, 577, 622, 636, 637])
# Sea areas vessels start in: lat_min, lat_max, lon_min, lon_max.
AREAS = np.array([(34.0, 40.0, 5.0, 25.0), (52.0, 58.0, 2.0, 8.0), (55.0, 60.0, 15.0, 22.0),
                  (36.0, 43.0, -72.0, -62.0), (1.0, 6.0, 100.0, 106.0), (22.0, 30.0, 118.0, 124.0)])
WORDS = ("NORDIC", "STAR", "OCEAN", "SPIRIT", "AEGEAN", "PRIDE", "EXPRESS", "TRADER", "GLORY", "BALTIC",
         "PACIFIC", "HORIZON", "ATLAS", "VEGA", "ORION", "MARE", "LIBERTY", "CORAL", "DELTA", "SEA")
PORTS = ("ROTTERDAM", "PIRAEUS", "SINGAPORE", "ALGECIRAS", "HAMBURG", "NEW YORK", "SHANGHAI", "GENOVA",
         "VALENCIA", "GDANSK", "PORT SAID", "ISTANBUL", "ANTWERP", "MALTA", "FOR ORDERS")

_ARMOUR = np.array([c + 48 if c < 40 else c + 56 for c in range(64)], dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_SIXBIT_WEIGHTS = np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)


# -------------------------------------------------------------- bit packing


def sixbit_text(texts: list[str], n_chars: int) -> np.ndarray:
    """AIS 6-bit character codes, '@'-padded: (len(texts), n_chars) uint8."""
    out = np.zeros((len(texts), n_chars), dtype=np.uint8)
    for i, t in enumerate(texts):
        codes = [ord(c) - 64 if ord(c) >= 64 else ord(c) for c in t.upper()[:n_chars]]
        out[i, : len(codes)] = codes
    return out


@dataclass
class BitWriter:
    """A (n, n_bits) matrix of bits, filled field by field, MSB first."""

    bits: np.ndarray
    offset: int = 0

    @classmethod
    def new(cls, n: int, n_bits: int) -> BitWriter:
        return cls(np.zeros((n, n_bits + (-n_bits % 6)), dtype=np.uint8))

    def put(self, width: int, values: np.ndarray | int) -> None:
        v = np.asarray(values, dtype=np.int64) & ((1 << width) - 1)  # two's complement for signed fields
        for k in range(width):
            self.bits[:, self.offset + k] = (v >> (width - 1 - k)) & 1
        self.offset += width

    def text(self, codes: np.ndarray) -> None:
        for j in range(codes.shape[1]):
            self.put(6, codes[:, j])

    def armour(self) -> tuple[np.ndarray, int]:
        """(n, n_chars) ASCII codes of the payload, and the fill bits."""
        n = self.bits.shape[0]
        values = self.bits.reshape(n, -1, 6) @ _SIXBIT_WEIGHTS
        return _ARMOUR[values], self.bits.shape[1] - self.offset


def pack_position_a(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    w = BitWriter.new(len(f["mmsi"]), 168)
    for name, width in (("msg_type", 6), ("repeat", 2), ("mmsi", 30), ("status", 4), ("turn", 8), ("speed", 10),
                        ("accuracy", 1), ("lon", 28), ("lat", 27), ("course", 12), ("heading", 9),
                        ("second", 6), ("maneuver", 2), ("spare", 3), ("raim", 1), ("radio", 19)):
        w.put(width, f.get(name, 0))
    return w.armour()


def pack_position_b(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    w = BitWriter.new(len(f["mmsi"]), 168)
    for name, width in (("msg_type", 6), ("repeat", 2), ("mmsi", 30), ("reserved", 8), ("speed", 10),
                        ("accuracy", 1), ("lon", 28), ("lat", 27), ("course", 12), ("heading", 9),
                        ("second", 6), ("reserved2", 2), ("cs", 1), ("display", 1), ("dsc", 1), ("band", 1),
                        ("msg22", 1), ("assigned", 1), ("raim", 1), ("radio", 20)):
        w.put(width, f.get(name, 0))
    return w.armour()


def pack_static5(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    w = BitWriter.new(len(f["mmsi"]), 424)
    w.put(6, 5)
    w.put(2, 0)
    w.put(30, f["mmsi"])
    w.put(2, f.get("ais_version", 0))
    w.put(30, f["imo"])
    w.text(f["callsign"])
    w.text(f["shipname"])
    for name, width in (("ship_type", 8), ("to_bow", 9), ("to_stern", 9), ("to_port", 6), ("to_starboard", 6),
                        ("epfd", 4), ("month", 4), ("day", 5), ("hour", 5), ("minute", 6), ("draught", 8)):
        w.put(width, f.get(name, 0))
    w.text(f["destination"])
    w.put(1, f.get("dte", 0))
    w.put(1, 0)
    return w.armour()


def pack_b24(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """Type 24 part A (partno 0: name) or part B (partno 1), row by row: both are 168 bits."""
    n = len(f["mmsi"])
    w = BitWriter.new(n, 168)
    w.put(6, 24)
    w.put(2, 0)
    w.put(30, f["mmsi"])
    w.put(2, f["partno"])
    start = w.offset
    a = BitWriter.new(n, 128)
    a.text(f["shipname"])
    b = BitWriter.new(n, 128)
    b.put(8, f["ship_type"])
    b.text(f["vendorid"])
    b.put(4, f["model"])
    b.put(20, f["serial"])
    b.text(f["callsign"])
    for name, width in (("to_bow", 9), ("to_stern", 9), ("to_port", 6), ("to_starboard", 6)):
        b.put(width, f[name])
    part_b = (np.asarray(f["partno"]) == 1)[:, None]
    w.bits[:, start : start + 128] = np.where(part_b, b.bits[:, :128], a.bits[:, :128])
    w.offset = 168
    return w.armour()


def pack_base4(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    w = BitWriter.new(len(f["mmsi"]), 168)
    for name, width in (("msg_type", 6), ("repeat", 2), ("mmsi", 30), ("year", 14), ("month", 4), ("day", 5),
                        ("hour", 5), ("minute", 6), ("second", 6), ("accuracy", 1), ("lon", 28), ("lat", 27),
                        ("epfd", 4), ("spare", 10), ("raim", 1), ("radio", 19)):
        w.put(width, f.get(name, 0))
    return w.armour()


def pack_msg8(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """Binary broadcast, DAC 235 FID 10 (no variant in pyais), 112 bits of data: one sentence."""
    w = BitWriter.new(len(f["mmsi"]), 168)
    w.put(6, 8)
    w.put(2, 0)
    w.put(30, f["mmsi"])
    w.put(2, 0)
    w.put(10, 235)
    w.put(6, 10)
    w.bits[:, w.offset : w.offset + 112] = f["data"]
    w.offset += 112
    return w.armour()


def pack_aton21(f: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    w = BitWriter.new(len(f["mmsi"]), 272)
    w.put(6, 21)
    w.put(2, 0)
    w.put(30, f["mmsi"])
    w.put(5, f["aid_type"])
    w.text(f["name"])
    for name, width in (("accuracy", 1), ("lon", 28), ("lat", 27), ("to_bow", 9), ("to_stern", 9),
                        ("to_port", 6), ("to_starboard", 6), ("epfd", 4), ("second", 6), ("off_position", 1),
                        ("reserved", 8), ("raim", 1), ("virtual_aid", 1), ("assigned", 1), ("spare", 1)):
        w.put(width, f.get(name, 0))
    return w.armour()


# ------------------------------------------------------------------ framing


def frame(payload: np.ndarray, fill: int, channel: np.ndarray, c: np.ndarray | None, station: np.ndarray,
          seq: np.ndarray) -> np.ndarray:
    """Fixed-width rows of bytes: tag block (if c is given) and sentence(s), each ending in a newline.

    payload: (n, n_chars) ASCII codes; a payload over 60 characters becomes two sentences
    (sequence id seq, an ASCII digit), each behind the same tag block.
    """
    n, n_chars = payload.shape
    parts = [payload[:, :60], payload[:, 60:]] if n_chars > 60 else [payload]
    pieces: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []  # (first, end) column of each checksummed body; '*hh' follows it
    width = 0

    def add(arr: np.ndarray) -> None:
        nonlocal width
        pieces.append(arr)
        width += arr.shape[1]

    def text(b: bytes) -> None:
        add(np.broadcast_to(np.frombuffer(b, dtype=np.uint8), (n, len(b))))

    for k, chunk in enumerate(parts, 1):
        if c is not None:
            first = width + 1  # after the backslash
            text(b"\\s:")
            add(station)
            text(b",c:")
            add(c)
            spans.append((first, width))
            text(b"*00\\")
        first = width + 1  # after the '!'
        text(f"!AIVDM,{len(parts)},{k},".encode())
        if len(parts) > 1:
            add(seq[:, None])
        text(b",")
        add(channel[:, None])
        text(b",")
        add(chunk)
        text(f",{fill if k == len(parts) else 0}".encode())
        spans.append((first, width))
        text(b"*00\n")
    rows = np.concatenate(pieces, axis=1)
    for first, end in spans:
        cs = np.bitwise_xor.reduce(rows[:, first:end], axis=1)
        rows[:, end + 1] = _HEX[cs >> 4]
        rows[:, end + 2] = _HEX[cs & 15]
    return rows


def digits(values: np.ndarray, n: int) -> np.ndarray:
    """Decimal digits of non-negative integers as ASCII codes, (len(values), n)."""
    powers = 10 ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + 48).astype(np.uint8)


# ------------------------------------------------------------------ vessels


@dataclass
class Fleet:
    mmsi: np.ndarray
    class_b: np.ndarray
    lat0: np.ndarray
    lon0: np.ndarray
    sog: np.ndarray  # knots
    cog: np.ndarray  # degrees
    status: np.ndarray
    imo: np.ndarray
    name: np.ndarray  # (n, 20) six-bit codes
    callsign: np.ndarray  # (n, 7)
    destination: np.ndarray  # (n, 20)
    ship_type: np.ndarray
    dims: np.ndarray  # (n, 4)
    draught: np.ndarray  # decimetres

    def position(self, idx: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Dead reckoning from the start position: lat, lon (degrees), sog, cog at times t."""
        hours = (t - T0) / 3600.0
        dist_nm = self.sog[idx] * hours
        rad = np.radians(self.cog[idx])
        lat = self.lat0[idx] + dist_nm * np.cos(rad) / 60.0
        lon = self.lon0[idx] + dist_nm * np.sin(rad) / (60.0 * np.cos(np.radians(self.lat0[idx])))
        lat = np.clip(lat, -84.0, 84.0)
        lon = (lon + 180.0) % 360.0 - 180.0
        moving = self.sog[idx] > 0.5
        sog = np.where(moving, self.sog[idx] + rng.normal(0, 0.15, len(idx)), rng.uniform(0, 0.2, len(idx)))
        cog = np.where(moving, self.cog[idx] + rng.normal(0, 1.5, len(idx)), rng.uniform(0, 360, len(idx)))
        return lat, lon, np.clip(sog, 0, 102.2), cog % 360


def make_fleet(n: int, rng: np.random.Generator) -> Fleet:
    mmsi = np.unique(rng.choice(MIDS, n) * 1_000_000 + rng.integers(0, 1_000_000, n))
    n = len(mmsi)
    rng.shuffle(mmsi)
    area = AREAS[rng.integers(0, len(AREAS), n)]
    lat0 = rng.uniform(area[:, 0], area[:, 1])
    lon0 = rng.uniform(area[:, 2], area[:, 3])
    class_b = rng.random(n) < 0.15
    class_b[:2] = (True, False)  # both classes, however small the fleet
    under_way = rng.random(n) < 0.75
    sog = np.where(under_way, np.where(class_b, rng.uniform(4, 9, n), rng.uniform(8, 18, n)), 0.0).round(1)
    status = np.where(under_way, 0, rng.choice(np.array([1, 5]), n))
    names = [f"{WORDS[a]} {WORDS[b]}" for a, b in rng.integers(0, len(WORDS), (n, 2))]
    calls = ["".join(chr(65 + x) for x in rng.integers(0, 26, 4)) + str(d) for d in rng.integers(0, 10, n)]
    imo7 = rng.integers(900_000, 999_999, n)
    check = sum((imo7 // 10 ** (5 - k) % 10) * (7 - k) for k in range(6)) % 10
    return Fleet(
        mmsi=mmsi, class_b=class_b, lat0=lat0, lon0=lon0, sog=sog, cog=rng.uniform(0, 360, n).round(1),
        status=status, imo=imo7 * 10 + check, name=sixbit_text(names, 20), callsign=sixbit_text(calls, 7),
        destination=sixbit_text([PORTS[i] for i in rng.integers(0, len(PORTS), n)], 20),
        ship_type=np.where(class_b, 37, rng.choice(np.array([70, 71, 79, 80, 81, 60, 52]), n)),
        dims=np.column_stack([rng.integers(20, 250, n), rng.integers(5, 40, n), rng.integers(3, 20, n),
                              rng.integers(3, 20, n)]),
        draught=rng.integers(30, 160, n),
    )


# ---------------------------------------------------------------- the corpus


def _kinds(n_sentences: int, rng: np.random.Generator) -> np.ndarray:
    """Message kinds whose sentences add up to exactly n_sentences."""
    n_est = int(n_sentences / 1.1) + 64
    while True:
        kinds = rng.choice(len(KINDS), n_est, p=SHARES)
        cum = np.cumsum(np.where(kinds == KINDS.index("static5"), 2, 1))
        if cum[-1] >= n_sentences:
            break
        n_est = int(n_est * 1.2) + 64
    m = int(np.searchsorted(cum, n_sentences, side="right"))
    if m == 0 or cum[m - 1] < n_sentences:  # one sentence short: the next message is a one-sentence report
        kinds[m] = KINDS.index("pos_a")
        m += 1
    return kinds[:m]


def _fields(kind: str, idx: np.ndarray, t: np.ndarray, fleet: Fleet, rng: np.random.Generator,
            stations: np.ndarray) -> tuple[np.ndarray, int]:
    n = len(idx)
    if kind in ("pos_a", "pos_b"):
        lat, lon, sog, cog = fleet.position(idx, t, rng)
        f = {"mmsi": fleet.mmsi[idx], "speed": np.round(sog * 10), "lon": np.round(lon * 600000),
             "lat": np.round(lat * 600000), "course": np.round(cog * 10) % 3600, "second": t % 60,
             "accuracy": rng.integers(0, 2, n), "radio": rng.integers(0, 1 << 19, n)}
        f["heading"] = np.where(fleet.sog[idx] > 0.5, np.round(cog).astype(np.int64) % 360, 511)
        if kind == "pos_b":
            return pack_position_b({**f, "msg_type": 18, "cs": 1, "dsc": 1, "band": 1, "msg22": 1})
        mt = rng.choice(np.array([1, 2, 3]), n, p=[0.7, 0.05, 0.25])
        return pack_position_a({**f, "msg_type": mt, "status": fleet.status[idx], "turn": -128})
    if kind == "static5":
        eta = t + rng.integers(3600, 10 * 86400, n)
        when = eta.astype("datetime64[s]")
        month = when.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (when.astype("datetime64[D]") - when.astype("datetime64[M]")).astype(np.int64) + 1
        sec_of_day = eta % 86400
        return pack_static5({
            "mmsi": fleet.mmsi[idx], "imo": fleet.imo[idx], "callsign": fleet.callsign[idx],
            "shipname": fleet.name[idx], "ship_type": fleet.ship_type[idx], "to_bow": fleet.dims[idx, 0],
            "to_stern": fleet.dims[idx, 1], "to_port": fleet.dims[idx, 2], "to_starboard": fleet.dims[idx, 3],
            "epfd": 1, "month": month, "day": day, "hour": sec_of_day // 3600, "minute": sec_of_day % 3600 // 60,
            "draught": fleet.draught[idx], "destination": fleet.destination[idx]})
    if kind == "b24":
        return pack_b24({
            "mmsi": fleet.mmsi[idx], "partno": rng.integers(0, 2, n), "shipname": fleet.name[idx],
            "ship_type": fleet.ship_type[idx], "vendorid": sixbit_text(["SRT"], 3).repeat(n, axis=0),
            "model": 1, "serial": fleet.mmsi[idx] % 1_000_000, "callsign": fleet.callsign[idx],
            "to_bow": fleet.dims[idx, 0] % 512, "to_stern": fleet.dims[idx, 1], "to_port": fleet.dims[idx, 2],
            "to_starboard": fleet.dims[idx, 3]})
    if kind == "base4":
        s = rng.integers(0, len(stations), n)
        when = t.astype("datetime64[s]")
        year = when.astype("datetime64[Y]").astype(np.int64) + 1970
        month = when.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (when.astype("datetime64[D]") - when.astype("datetime64[M]")).astype(np.int64) + 1
        sod = t % 86400
        return pack_base4({
            "msg_type": 4, "mmsi": stations[s, 0], "year": year, "month": month, "day": day, "hour": sod // 3600,
            "minute": sod % 3600 // 60, "second": sod % 60, "accuracy": 1, "lon": np.round(stations[s, 2]),
            "lat": np.round(stations[s, 1]), "epfd": 7, "radio": rng.integers(0, 1 << 19, n)})
    if kind == "msg8":
        return pack_msg8({"mmsi": fleet.mmsi[idx], "data": rng.integers(0, 2, (n, 112), dtype=np.uint8)})
    if kind == "aton21":
        k = rng.integers(0, 200, n)
        names = sixbit_text([f"BUOY {i}" for i in range(200)], 20)[k]
        return pack_aton21({
            "mmsi": 992_000_000 + rng.choice(MIDS[:20], n) * 1000 + k, "aid_type": 1 + k % 30, "name": names,
            "lon": np.round(stations[k % len(stations), 2] + rng.integers(-6000, 6000, n)),
            "lat": np.round(stations[k % len(stations), 1] + rng.integers(-6000, 6000, n)),
            "epfd": 1, "second": t % 60})
    raise ValueError(kind)


def generate_corpus(path: str | Path, n_sentences: int, seed: int = 1, tagblocks: bool = True) -> dict[str, int]:
    """Write n_sentences NMEA sentences to path; returns counts per message type and in all."""
    if n_sentences < 1:
        raise ValueError("n_sentences must be at least 1")
    rng = np.random.default_rng(seed)
    fleet = make_fleet(int(min(4000, max(20, n_sentences // 40))), rng)
    # base stations: mmsi 00MIDxxxx, lat/lon in 1/10000 minute
    n_base = 24
    base_at = rng.integers(0, len(fleet.mmsi), n_base)
    stations = np.column_stack([rng.choice(MIDS, n_base) * 10_000 + np.arange(n_base),
                                np.round(fleet.lat0[base_at] * 600000), np.round(fleet.lon0[base_at] * 600000)])
    kinds = _kinds(n_sentences, rng)
    m = len(kinds)
    t = T0 + np.floor(np.cumsum(rng.exponential(1 / MESSAGES_PER_S, m))).astype(np.int64)
    class_a = np.flatnonzero(~fleet.class_b)
    class_b = np.flatnonzero(fleet.class_b)
    vessel = np.where(np.isin(kinds, [KINDS.index("pos_b"), KINDS.index("b24")]),
                      class_b[rng.integers(0, len(class_b), m)], class_a[rng.integers(0, len(class_a), m)])
    station_codes = np.array([np.frombuffer(s, dtype=np.uint8) for s in STATIONS])
    counts = {"sentences": 0, "messages": m}
    with open(path, "wb") as out:
        for lo in range(0, m, CHUNK):
            hi = min(m, lo + CHUNK)
            rows_by_kind: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            for k, kind in enumerate(KINDS):
                sel = np.flatnonzero(kinds[lo:hi] == k)
                if not len(sel):
                    continue
                tk = t[lo:hi][sel]
                payload, fill = _fields(kind, vessel[lo:hi][sel], tk, fleet, rng, stations)
                channel = np.where(rng.random(len(sel)) < 0.5, ord("A"), ord("B")).astype(np.uint8)
                st = station_codes[rng.integers(0, len(STATIONS), len(sel))]
                seq = (48 + (lo + sel) % 10).astype(np.uint8)
                rows = frame(payload, fill, channel, digits(tk, 10) if tagblocks else None, st, seq)
                rows_by_kind[k] = (sel, rows)
            lengths = np.zeros(hi - lo, dtype=np.int64)
            for sel, rows in rows_by_kind.values():
                lengths[sel] = rows.shape[1]
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            buf = np.empty(int(lengths.sum()), dtype=np.uint8)
            for sel, rows in rows_by_kind.values():
                buf[starts[sel][:, None] + np.arange(rows.shape[1])] = rows
            out.write(buf.tobytes())
    types = {"pos_a": "1/2/3", "pos_b": "18", "static5": "5", "b24": "24", "base4": "4", "msg8": "8",
             "aton21": "21"}
    for k, kind in enumerate(KINDS):
        counts[f"type {types[kind]}"] = int((kinds == k).sum())
    counts["sentences"] = int(m + (kinds == KINDS.index("static5")).sum())
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output file")
    parser.add_argument("n", type=int, help="number of sentences (lines)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tagblocks", dest="tagblocks", action="store_false",
                        help="bare sentences, no receive time")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = generate_corpus(args.out, args.n, args.seed, args.tagblocks)
    elapsed = time.perf_counter() - start
    print(f"wrote {args.out}: {counts['sentences']:,} sentences, {counts['messages']:,} messages "
          f"in {elapsed:.2f} s ({counts['sentences'] / elapsed:,.0f} sentences/s)")
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items() if k.startswith("type")))


if __name__ == "__main__":
    main()
