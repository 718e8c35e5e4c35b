"""Maps of one vessel: an interactive HTML page that opens offline, and a PNG for print.

Both draw the same things, prepared once by `prepare_map`:

* the track, coloured by time (a ramp from the first position to the last);
* gaps: consecutive positions more than `GAP_H` hours apart, and every
  ``dark_period`` / ``ais_gap`` event, as dashed lines labelled with their duration;
* ports: those the dossier's events name, and World Port Index ports within
  `PORT_RADIUS_NM` of the track (at most `MAX_NEARBY_PORTS`, largest harbours first);
* the dossier's events, numbered in timeline order: the HTML pop-up and the PNG
  legend give the kind, times and port; the pop-up adds the summary, the
  ``file:line`` evidence and the rule's details.

The HTML page is one self-contained file: Leaflet 1.9 (BSD-2, read from the
``django-js-lib-leaflet`` wheel, which ships Leaflet's own files and needs no
Django) is inlined, the coastlines are the bundled Natural Earth polygons clipped
to the track's surroundings, and a Content-Security-Policy allows no request but
OpenStreetMap tiles, a layer that stays off until the reader picks it: opening
the map tells nobody what is being investigated.

AIS text (names, destinations, rule details) is untrusted. The page's own HTML is
escaped with `html.escape`; the data travels as JSON with ``<``, ``>`` and ``&``
written as ``\\u003c`` etc., so no ``</script>`` or ``<!--`` can close its block;
the script puts text into the page with ``textContent`` only; and the CSP runs only
the two inline scripts whose hashes it lists. In the PNG, text is drawn with
matplotlib's mathtext off, so a ``$`` in a name is just a dollar sign.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shiptrack.dossier import Dossier
from shiptrack.errors import InputError, ShiptrackError
from shiptrack.geo import distance_nm
from shiptrack.reference.land import land_geojson
from shiptrack.reference.ports import Port, load_ports, resolve_port

__all__ = ["MapData", "prepare_map", "render_html", "write_html_map", "write_png_map"]

GAP_H = 2.0  # consecutive positions further apart than this are drawn as a dashed gap
PORT_RADIUS_NM = 20.0  # WPI ports this close to the track are drawn
MAX_NEARBY_PORTS = 25
MAX_DRAWN_POSITIONS = 20_000  # the drawn line is thinned to this; gap ends and events never are
MAX_LABELLED_GAPS = 25  # beyond this, only the longest gaps carry a permanent label
EVENT_PORT_MAX_NM = 60.0  # a port name resolved to a place further than this from its event is not drawn
HTML_COLOUR_BINS = 24
GAP_KINDS = ("dark_period", "ais_gap")

KIND_COLOURS = {
    "dark_period": "#d7191c",
    "ais_gap": "#f07c00",
    "port_call": "#1a9641",
    "unplanned_port_call": "#7b3294",
    "destination_change": "#2c7bb6",
    "identity_change": "#00898a",
    "route_deviation": "#a6611a",
    "sts_encounter": "#c51b7d",
    "spoofing_jump": "#222222",
    "position_on_land": "#6b6b00",
}
GAP_COLOUR = "#555555"
LAND_FILL, LAND_EDGE, SEA = "#ece6d6", "#8f8a7c", "#d6e6f2"
_HARBOR_RANK = {"Large": 4, "Medium": 3, "Small": 2, "Very Small": 1}


# -- the data both maps draw ---------------------------------------------------------------------


@dataclass
class Gap:
    lat_a: float
    lon_a: float
    lat_b: float
    lon_b: float
    start_s: float  # epoch seconds of the last position before the gap
    end_s: float  # and of the first after it
    hours: float
    kind: str  # "gap" (no positions) or the event kind
    event: int | None = None  # the event's number, for event gaps

    @property
    def label(self) -> str:
        dur = f"{self.hours:.1f} h" if self.hours < 48 else f"{self.hours / 24:.1f} d"
        return {"dark_period": f"dark {dur}", "ais_gap": f"AIS gap {dur}"}.get(self.kind, dur)

    @property
    def colour(self) -> str:
        return KIND_COLOURS.get(self.kind, GAP_COLOUR)


@dataclass
class PortMark:
    port_id: int | None
    name: str
    country: str
    locode: str | None
    lat: float
    lon: float
    harbor_size: str | None
    distance_nm: float | None  # from the nearest drawn position
    in_events: bool


@dataclass
class EventMark:
    n: int  # 1-based number, in timeline order
    row: dict[str, Any]  # the dossier's timeline entry
    lat: float | None  # where it is drawn: the event's own place, else the track at its start
    lon: float | None

    @property
    def colour(self) -> str:
        return KIND_COLOURS.get(self.row["kind"], "#666666")


@dataclass
class MapData:
    """What both maps draw, in lon/lat degrees and epoch seconds (UTC)."""

    lat: np.ndarray
    lon: np.ndarray
    t_s: np.ndarray
    drawn: np.ndarray  # indices of the positions the line is drawn through
    breaks: np.ndarray  # i where the line stops between positions i and i+1 (a gap)
    gaps: list[Gap]
    events: list[EventMark]
    ports: list[PortMark]
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max of all the content
    t0: float
    t1: float
    extra: dict[str, Any] = field(default_factory=dict)

    def runs(self) -> list[np.ndarray]:
        """The drawn line split at the gaps: arrays of position indices."""
        if len(self.drawn) == 0:
            return []
        cut = np.flatnonzero(np.isin(self.drawn[:-1], self.breaks) & (np.diff(self.drawn) == 1)) + 1
        return np.split(self.drawn, cut)


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _fmt_t(seconds: float, minutes: bool = True) -> str:
    dt = datetime.fromtimestamp(seconds, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%MZ" if minutes else "%Y-%m-%d")


def _track_arrays(track: pl.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, pl.DataFrame]:
    if track is None or track.height == 0:
        empty = np.zeros(0)
        return empty, empty, empty, pl.DataFrame()
    df = track.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null() & pl.col("ts").is_not_null())
    df = df.sort("ts", maintain_order=True)
    t_s = df["ts"].dt.epoch("ms").to_numpy().astype(np.float64) / 1000.0
    return df["lat"].to_numpy().astype(np.float64), df["lon"].to_numpy().astype(np.float64), t_s, df


def _event_gaps(events: list[dict[str, Any]], lat: np.ndarray, lon: np.ndarray,
                t_s: np.ndarray) -> list[tuple[Gap, int, int]]:
    """Each dark_period / ais_gap event as a Gap between the positions either side of it."""
    out = []
    for n, e in enumerate(events, start=1):
        if e["kind"] not in GAP_KINDS:
            continue
        start, end = _epoch(e["start_utc"]), _epoch(e["end_utc"])
        if start is None or end is None or len(t_s) == 0:
            continue
        a = int(np.searchsorted(t_s, start, side="right")) - 1
        b = int(np.searchsorted(t_s, end, side="left"))
        if a < 0 or b >= len(t_s) or b <= a:
            continue
        hours = e["duration_h"] if e["duration_h"] is not None else (end - start) / 3600.0
        out.append((Gap(lat[a], lon[a], lat[b], lon[b], t_s[a], t_s[b], float(hours), e["kind"], n), a, b))
    return out


def _drawn_indices(n: int, breaks: np.ndarray, keep: list[int], limit: int) -> np.ndarray:
    """Every position, or every k-th plus both ends of every gap and the ends of the track."""
    if n <= limit:
        return np.arange(n)
    stride = math.ceil(n / limit)
    must = np.concatenate([breaks, breaks + 1, np.asarray(keep, dtype=np.int64), [0, n - 1]])
    must = must[(must >= 0) & (must < n)]
    return np.unique(np.concatenate([np.arange(0, n, stride), must]))


@lru_cache(maxsize=1)
def _port_arrays() -> tuple[tuple[Port, ...], np.ndarray, np.ndarray]:
    ports = tuple(load_ports())
    return ports, np.array([p.lat for p in ports]), np.array([p.lon for p in ports])


def _nearby_ports(lat: np.ndarray, lon: np.ndarray, radius_nm: float, limit: int) -> list[tuple[Port, float]]:
    """WPI ports within radius_nm of any of the given positions: the largest harbours, then the nearest."""
    if len(lat) == 0:
        return []
    ports, plat, plon = _port_arrays()
    dlat = radius_nm / 60.0
    dlon = radius_nm / (60.0 * max(math.cos(math.radians(min(89.0, np.abs(lat).max() + dlat))), 0.05))
    cand = np.flatnonzero((plat >= lat.min() - dlat) & (plat <= lat.max() + dlat)
                          & (plon >= lon.min() - dlon) & (plon <= lon.max() + dlon))
    if len(cand) == 0:
        return []
    best = np.full(len(cand), np.inf)
    for s in range(0, len(lat), 2000):
        d = distance_nm(plat[cand][:, None], plon[cand][:, None], lat[None, s:s + 2000], lon[None, s:s + 2000])
        best = np.minimum(best, d.min(axis=1))
    near = [(ports[i], float(dist)) for i, dist in zip(cand, best, strict=True) if dist <= radius_nm]
    near.sort(key=lambda pd: (-_HARBOR_RANK.get(pd[0].harbor_size or "", 0), pd[1], pd[0].port_id))
    return near[:limit]


def _event_port(name: str, near: list[tuple[float, float]]) -> Port | None:
    """The WPI port an event names: an exact main name, else the gazetteer's answer; the one nearest
    the event's places (its own position, the track at its start and end), if within EVENT_PORT_MAX_NM."""
    ports, _, _ = _port_arrays()
    try:
        cands = [p for p in ports if p.name == name] or [resolve_port(name)]
    except ShiptrackError:
        return None
    if not near:
        return cands[0]
    la, lo = np.array([p[0] for p in near]), np.array([p[1] for p in near])
    dist = [float(distance_nm(la, lo, np.full(len(la), p.lat), np.full(len(la), p.lon)).min()) for p in cands]
    best = int(np.argmin(dist))
    return cands[best] if dist[best] <= EVENT_PORT_MAX_NM else None


def _track_at(t_s: np.ndarray, when: float | None, within_s: float = 6 * 3600) -> int | None:
    """Index of the position nearest in time to `when`, if one is within `within_s`."""
    if when is None or len(t_s) == 0:
        return None
    i = int(np.clip(np.searchsorted(t_s, when), 0, len(t_s) - 1))
    if i > 0 and abs(t_s[i - 1] - when) <= abs(t_s[i] - when):
        i -= 1
    return i if abs(t_s[i] - when) <= within_s else None


def prepare_map(d: Dossier, track: pl.DataFrame | None, max_drawn: int = MAX_DRAWN_POSITIONS) -> MapData:
    """Everything both maps draw. Raises InputError when there is nothing to place on a map."""
    lat, lon, t_s, df = _track_arrays(track)
    n = len(t_s)
    gap_idx = np.flatnonzero(np.diff(t_s) > GAP_H * 3600.0) if n > 1 else np.zeros(0, dtype=np.int64)
    ev_gaps = _event_gaps(d.timeline, lat, lon, t_s)
    covered = np.zeros(len(gap_idx), dtype=bool)
    for _, a, b in ev_gaps:
        covered |= (gap_idx >= a) & (gap_idx < b)
    breaks = np.unique(np.concatenate([gap_idx, [a for _, a, b in ev_gaps if b == a + 1]])).astype(np.int64)
    gaps = [g for g, _, _ in ev_gaps] + [
        Gap(lat[i], lon[i], lat[i + 1], lon[i + 1], t_s[i], t_s[i + 1], (t_s[i + 1] - t_s[i]) / 3600.0, "gap")
        for i in gap_idx[~covered]
    ]
    gaps.sort(key=lambda g: g.start_s)

    events = []
    for k, e in enumerate(d.timeline, start=1):
        elat, elon = e.get("lat"), e.get("lon")
        i = _track_at(t_s, _epoch(e["start_utc"]))
        if (elat is None or elon is None) and i is not None:
            elat, elon = float(lat[i]), float(lon[i])
        events.append(EventMark(k, e, elat, elon))

    keep = [int(np.searchsorted(t_s, _epoch(e["start_utc"]) or 0.0)) for e in d.timeline] if n else []
    drawn = _drawn_indices(n, breaks, keep, max_drawn)
    sample = drawn if len(drawn) <= 4000 else drawn[:: math.ceil(len(drawn) / 4000)]

    ports: dict[Any, PortMark] = {}
    for ev in events:
        name = ev.row.get("port")
        if not name:
            continue
        near = [(ev.lat, ev.lon)] if ev.lat is not None and ev.lon is not None else []
        for when in (ev.row["start_utc"], ev.row["end_utc"]):
            j = _track_at(t_s, _epoch(when))
            if j is not None:
                near.append((float(lat[j]), float(lon[j])))
        p = _event_port(name, near)
        if p is not None and p.port_id not in ports:
            ports[p.port_id] = PortMark(p.port_id, p.name, p.country, p.locode, p.lat, p.lon, p.harbor_size,
                                        None, True)
    for p, dist in _nearby_ports(lat[sample], lon[sample], PORT_RADIUS_NM, MAX_NEARBY_PORTS):
        if p.port_id in ports:
            ports[p.port_id].distance_nm = round(dist, 1)
        else:
            ports[p.port_id] = PortMark(p.port_id, p.name, p.country, p.locode, p.lat, p.lon, p.harbor_size,
                                        round(dist, 1), False)

    xs = list(lon) + [e.lon for e in events if e.lon is not None] + [p.lon for p in ports.values() if p.in_events]
    ys = list(lat) + [e.lat for e in events if e.lat is not None] + [p.lat for p in ports.values() if p.in_events]
    if not xs:
        raise InputError(f"nothing to map for MMSI {d.vessel.get('mmsi')}: no positions and no placed events "
                         "in this window")
    ev_t = [t for e in d.timeline for t in (_epoch(e["start_utc"]), _epoch(e["end_utc"])) if t is not None]
    t0 = float(t_s[0]) if n else min(ev_t, default=0.0)
    t1 = float(t_s[-1]) if n else max(ev_t, default=0.0)
    return MapData(lat=lat, lon=lon, t_s=t_s, drawn=drawn, breaks=breaks, gaps=gaps, events=events,
                   ports=list(ports.values()), bbox=(min(xs), min(ys), max(xs), max(ys)), t0=t0, t1=max(t1, t0),
                   extra={"frame": df})


def _padded(bbox: tuple[float, float, float, float], frac: float, min_deg: float) -> tuple[float, ...]:
    x0, y0, x1, y1 = bbox
    px = max((x1 - x0) * frac, min_deg)
    py = max((y1 - y0) * frac, min_deg)
    return (max(x0 - px, -180.0), max(y0 - py, -90.0), min(x1 + px, 180.0), min(y1 + py, 90.0))


def _ramp(n: int) -> list[str]:
    """The time ramp, dark blue (first position) to orange (last): plasma without its pale yellow end."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["plasma"]
    return [to_hex(cmap(0.85 * i / max(n - 1, 1))) for i in range(n)]


def _time_ticks(t0: float, t1: float, k: int = 5) -> list[tuple[float, str]]:
    """k evenly spaced times from t0 to t1, as labels (minutes shown when the span is under 4 days)."""
    if t1 - t0 < 60:
        return [(t0, _fmt_t(t0))]
    minutes = t1 - t0 < 4 * 86400
    return [(t0 + (t1 - t0) * i / (k - 1), _fmt_t(t0 + (t1 - t0) * i / (k - 1), minutes)) for i in range(k)]


_TICK_STEPS_S = [s * 3600 for s in (1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720, 1440, 2160, 4320, 8760)]


def _round_time_ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    """Ticks on whole hours or days (UTC) between t0 and t1: at most 5 with times, 7 with dates only."""
    if t1 - t0 < 3600:
        return _time_ticks(t0, t1, 2)
    step = next((s for s in _TICK_STEPS_S if (t1 - t0) / s <= (6 if s >= 86400 else 4)), _TICK_STEPS_S[-1])
    first = math.ceil(t0 / step) * step
    ticks = np.arange(first, t1 + 1, step)
    minutes = step < 86400
    return [(float(t), _fmt_t(float(t), minutes)) for t in ticks]


def _plain(value: Any) -> str:
    """Untrusted text as one printable line (control characters become spaces)."""
    s = "" if value is None else str(value)
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in s).strip()


def _title(d: Dossier) -> tuple[str, str]:
    v = d.vessel
    name = _plain(v.get("name"))
    ids = [f"MMSI {v.get('mmsi')}"]
    if v.get("imo"):
        ids.append(f"IMO {_plain(v['imo'])}")
    if v.get("callsign"):
        ids.append(f"call sign {_plain(v['callsign'])}")
    if v.get("flag"):
        ids.append(f"flag {_plain(v['flag'])}")
    first = d.first_seen or d.since or "?"
    last = d.last_seen or d.until or "?"
    sub = (f"{first} to {last} · {d.positions:,} positions · {d.distance_nm:,.0f} nm sailed"
           + (f" · {d.time_dark_h:,.1f} h dark" if d.time_dark_h else ""))
    if not name:  # a vessel that never broadcast a name is titled by its MMSI, once
        return ", ".join(ids), sub
    return f"{name} — " + ", ".join(ids), sub


def _detail_text(value: Any, limit: int = 300) -> str:
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    s = _plain(s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


# Maps spanning at most this many degrees draw Natural Earth's full 1:10m coastline (a harbour,
# a strait, a coast); wider ones the land the rules use (simplified at 0.01 degree, ~1 km).
DETAIL_SPAN_DEG = 6.0


def map_land(span_deg: float, bbox: tuple[float, float, float, float], per_span: float) -> dict:
    """Land for a map ``span_deg`` across: the coastline's detail follows the extent. Simplified
    by span / ``per_span`` (about a pixel), from the full 1:10m coastline at harbour scale."""
    tolerance = span_deg / per_span
    if span_deg <= DETAIL_SPAN_DEG:
        from shiptrack.reference import land_detail

        return land_detail.land_geojson(max(tolerance, 0.0001), bbox)
    return land_geojson(min(max(tolerance, 0.003), 0.05), bbox)


# -- HTML ---------------------------------------------------------------------------------------

_LEAFLET_PKG = "js_lib_leaflet"
_LEAFLET_DIR = "static/js_lib_leaflet"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@lru_cache(maxsize=1)
def _leaflet() -> tuple[str, str]:
    """Leaflet's JS and CSS, with the CSS's images inlined as data: URIs."""
    try:
        base = resources.files(_LEAFLET_PKG).joinpath(_LEAFLET_DIR)
        js = base.joinpath("leaflet.js").read_text(encoding="utf-8")
        css = base.joinpath("leaflet.css").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - a broken install
        raise InputError("the HTML map needs Leaflet from the django-js-lib-leaflet package: "
                         "pip install django-js-lib-leaflet") from exc
    if re.search(r"</script|<!--", js, re.I):  # pragma: no cover - would end the inline <script>
        raise InputError("this Leaflet build cannot be inlined (it contains '</script' or '<!--')")

    def data_uri(m: re.Match[str]) -> str:
        png = base.joinpath(m.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode("ascii") + ")"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    return js, css


def _script_json(obj: Any) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' (so no '</script' or '<!--'), no U+2028/9."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                 ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text


def _num(a: np.ndarray, digits: int) -> list[float | None]:
    return [None if not math.isfinite(x) else round(float(x), digits) for x in a]


def _html_data(d: Dossier, m: MapData) -> dict[str, Any]:
    colours = _ramp(HTML_COLOUR_BINS)
    span = max(m.t1 - m.t0, 1.0)
    idx = m.drawn
    pos = {int(i): k for k, i in enumerate(idx)}
    runs = []
    for run in m.runs():
        ks = [pos[int(i)] for i in run]
        if len(ks) < 2:
            continue
        mid = (m.t_s[run[:-1]] + m.t_s[run[1:]]) / 2
        bins = np.clip(((mid - m.t0) / span * HTML_COLOUR_BINS).astype(int), 0, HTML_COLOUR_BINS - 1)
        start = 0
        for j in range(1, len(bins) + 1):
            if j == len(bins) or bins[j] != bins[start]:
                runs.append([ks[start], ks[j], int(bins[start])])
                start = j
    df = m.extra["frame"]
    sources: list[str] = []
    src_idx: dict[str, int] = {}
    src, line, sog = [], [], []
    if len(idx):
        sub = df[idx.tolist()]
        for s in sub["source"].to_list():
            s = _plain(s)
            if s not in src_idx:
                src_idx[s] = len(sources)
                sources.append(s)
            src.append(src_idx[s])
        line = sub["line_no"].to_list()
        sog = [None if x is None or not math.isfinite(x) else round(float(x), 1) for x in sub["sog"].to_list()]
    land_bbox = _padded(m.bbox, 0.6, 2.0)
    span_deg = max(m.bbox[2] - m.bbox[0], m.bbox[3] - m.bbox[1], 0.01)
    land = map_land(span_deg, (land_bbox[0], land_bbox[1], land_bbox[2], land_bbox[3]), 1500.0)
    n_perm = sorted(range(len(m.gaps)), key=lambda i: -m.gaps[i].hours)[:MAX_LABELLED_GAPS]
    gaps = [{"a": [round(g.lat_a, 5), round(g.lon_a, 5)], "b": [round(g.lat_b, 5), round(g.lon_b, 5)],
             "label": g.label, "colour": g.colour, "kind": g.kind, "hours": round(g.hours, 2),
             "start": _fmt_t(g.start_s), "end": _fmt_t(g.end_s), "event": g.event,
             "permanent": g.event is not None or i in n_perm} for i, g in enumerate(m.gaps)]
    events = []
    for ev in m.events:
        e = ev.row
        events.append({
            "n": ev.n, "kind": e["kind"], "colour": ev.colour, "start": e["start_utc"], "end": e["end_utc"],
            "duration_h": None if e["duration_h"] is None else round(float(e["duration_h"]), 2),
            "summary": _plain(e.get("summary")), "port": _plain(e.get("port")) or None,
            "evidence": [r.strip() for r in (e.get("evidence") or "").split(";") if r.strip()],
            "details": [[_plain(k), _detail_text(v)] for k, v in (e.get("details") or {}).items()],
            "event_id": e.get("event_id"), "placed": ev.lat is not None,
        })
    groups: dict[tuple[float, float], list[EventMark]] = {}
    for ev in m.events:
        if ev.lat is not None and ev.lon is not None:
            groups.setdefault((round(ev.lat, 3), round(ev.lon, 3)), []).append(ev)
    markers = [{"lat": round(g[0].lat or 0.0, 5), "lon": round(g[0].lon or 0.0, 5), "ns": [e.n for e in g],
                "colour": g[0].colour} for g in groups.values()]
    ports = [{"name": _plain(p.name), "country": _plain(p.country), "locode": p.locode, "lat": p.lat,
              "lon": p.lon, "size": p.harbor_size, "dist_nm": p.distance_nm, "event": p.in_events,
              "wpi": p.port_id} for p in m.ports]
    b = _padded(m.bbox, 0.05, 0.05)
    return {
        "bounds": [[b[1], b[0]], [b[3], b[2]]], "colours": colours, "tiles": OSM_TILES,
        "track": {"lat": _num(m.lat[idx], 5), "lon": _num(m.lon[idx], 5), "t": [int(x) for x in m.t_s[idx]],
                  "sog": sog, "src": src, "line": line, "sources": sources, "runs": runs,
                  "total": int(len(m.t_s))},
        "gaps": gaps, "events": events, "markers": markers, "ports": ports, "land": land,
        "sea": SEA, "land_fill": LAND_FILL, "land_edge": LAND_EDGE,
    }


_CSS = """
html,body{margin:0;height:100%;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}
body{display:flex}
#map{flex:1;height:100%;background:#d6e6f2}
#panel{width:360px;height:100%;overflow:auto;box-sizing:border-box;padding:10px 12px;border-left:1px solid #bbb;
  background:#fafafa}
#panel h1{font-size:16px;margin:0 0 4px}
#panel h2{font-size:13px;margin:12px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#555}
.sub{color:#444;margin:0 0 6px}
.ramp{height:12px;border:1px solid #888;border-radius:2px}
.ticks{display:flex;justify-content:space-between;font-size:11px;color:#444}
.key{display:flex;align-items:center;gap:6px;margin:2px 0;font-size:12px}
.key i{display:inline-block;width:28px;height:0;border-top:3px dashed}
.key b{display:inline-block;width:9px;height:9px;border:1px solid #222;border-radius:50%}
ol.events{list-style:none;padding:0;margin:0}
ol.events li{padding:4px 4px;border-bottom:1px solid #e4e4e4;cursor:pointer}
ol.events li:hover{background:#eef3f8}
ol.events .num{display:inline-block;min-width:18px;padding:0 4px;border-radius:9px;color:#fff;text-align:center;
  font-weight:bold;font-size:11px;margin-right:4px}
ol.events .when{color:#555;font-size:11px}
.ev-icon{color:#fff;font:bold 11px/20px sans-serif;text-align:center;border-radius:11px;border:2px solid #fff;
  box-shadow:0 0 3px rgba(0,0,0,.6);height:20px;box-sizing:content-box;white-space:nowrap}
.ev-stem{width:2px;height:10px;margin:0 auto}
.leaflet-div-icon.ev{background:none;border:none}
.gap-dark_period{color:#b00000;border-color:#d7191c}
.gap-ais_gap{color:#a04e00;border-color:#f07c00}
.port-label.near{color:#444;font-size:10px}
.gap-label{background:rgba(255,255,255,.85);border:1px solid #999;padding:0 4px;font-size:11px;box-shadow:none}
.port-label{background:rgba(255,255,255,.8);border:none;box-shadow:none;padding:0 3px;font-size:11px}
.pop h3{margin:0 0 4px;font-size:13px}
.pop table{border-collapse:collapse;font-size:12px}
.pop td{padding:1px 6px 1px 0;vertical-align:top}
.pop td:first-child{color:#666;white-space:nowrap}
.pop .evidence{max-height:140px;overflow:auto;font:11px/1.3 ui-monospace,monospace;margin:2px 0 6px;padding-left:16px}
.pop + .pop{border-top:1px solid #ccc;margin-top:6px;padding-top:6px}
.note{color:#666;font-size:11px}
"""

_APP_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("shiptrack-data").textContent);
  var T = D.track;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function table(rows) {
    var t = el("table");
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") { return; }
      var tr = el("tr");
      tr.appendChild(el("td", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    return t;
  }
  function iso(s) { return new Date(s * 1000).toISOString().replace(".000Z", "Z"); }
  function hours(h) { return h === null ? null : (h < 48 ? h.toFixed(1) + " h" : (h / 24).toFixed(1) + " d (" + h.toFixed(0) + " h)"); }

  var map = L.map("map", {preferCanvas: true, zoomSnap: 0.25});
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Coastlines: Natural Earth");
  var offline = L.layerGroup();
  var osm = L.tileLayer(D.tiles, {maxZoom: 18, attribution: "\u00a9 OpenStreetMap contributors"});
  var land = L.geoJSON(D.land, {interactive: false, style: {color: D.land_edge, weight: 0.8, fillColor: D.land_fill, fillOpacity: 1}});
  offline.addTo(map);
  land.addTo(map);

  function positionPopup(k) {
    var box = el("div", "pop");
    box.appendChild(el("h3", null, "Position " + iso(T.t[k])));
    box.appendChild(table([["lat, lon", T.lat[k].toFixed(5) + ", " + T.lon[k].toFixed(5)],
                           ["speed", T.sog[k] === null ? null : T.sog[k] + " kn"],
                           ["source", T.sources[T.src[k]] + ":" + T.line[k]]]));
    return box;
  }
  function nearest(i0, i1, ll) {
    var best = i0, bd = Infinity;
    for (var i = i0; i <= i1; i++) {
      var dy = T.lat[i] - ll.lat, dx = T.lon[i] - ll.lng, dd = dx * dx + dy * dy;
      if (dd < bd) { bd = dd; best = i; }
    }
    return best;
  }
  var track = L.featureGroup();
  T.runs.forEach(function (r) {
    var pts = [];
    for (var i = r[0]; i <= r[1]; i++) { pts.push([T.lat[i], T.lon[i]]); }
    var line = L.polyline(pts, {color: D.colours[r[2]], weight: 3, opacity: 0.95});
    line.on("click", function (e) {
      var k = nearest(r[0], r[1], e.latlng);
      L.popup().setLatLng([T.lat[k], T.lon[k]]).setContent(positionPopup(k)).openOn(map);
    });
    track.addLayer(line);
  });
  [[0, "first position"], [T.lat.length - 1, "last position"]].forEach(function (fe) {
    var k = fe[0];
    if (k < 0) { return; }
    var c = L.circleMarker([T.lat[k], T.lon[k]], {radius: 5, color: "#fff", weight: 2,
      fillColor: D.colours[k === 0 ? 0 : D.colours.length - 1], fillOpacity: 1});
    c.bindTooltip(el("span", null, fe[1] + " " + iso(T.t[k])));
    c.bindPopup(function () { return positionPopup(k); });
    track.addLayer(c);
  });
  track.addTo(map);

  var gaps = L.featureGroup();
  D.gaps.forEach(function (g) {
    var line = L.polyline([g.a, g.b], {color: g.colour, weight: g.event ? 3 : 2.5, dashArray: "7 6", opacity: 0.95});
    line.bindTooltip(el("span", null, g.label), {permanent: g.permanent, direction: "center",
                                                  className: "gap-label gap-" + g.kind});
    line.bindPopup(function () {
      var box = el("div", "pop");
      box.appendChild(el("h3", null, g.event ? ("#" + g.event + " " + g.kind.replace(/_/g, " ")) : "No positions"));
      box.appendChild(table([["last before", g.start], ["first after", g.end], ["duration", hours(g.hours)]]));
      return box;
    });
    gaps.addLayer(line);
  });
  gaps.addTo(map);

  var ports = L.featureGroup();
  D.ports.forEach(function (p) {
    var c = L.circleMarker([p.lat, p.lon], {radius: p.event ? 5 : 4, color: "#222", weight: 1.5,
      fillColor: p.event ? "#222" : "#fff", fillOpacity: 1});
    c.bindTooltip(el("span", null, p.name), {permanent: p.event || D.ports.length <= 10, direction: "right",
                                              offset: [6, 0], className: p.event ? "port-label" : "port-label near"});
    c.bindPopup(function () {
      var box = el("div", "pop");
      box.appendChild(el("h3", null, p.name));
      box.appendChild(table([["country", p.country], ["UN/LOCODE", p.locode], ["WPI number", p.wpi],
                             ["harbour size", p.size], ["from the track", p.dist_nm === null ? null : p.dist_nm + " nm"],
                             ["named by", p.event ? "an event" : null]]));
      return box;
    });
    ports.addLayer(c);
  });
  ports.addTo(map);

  function eventPopup(e) {
    var box = el("div", "pop");
    box.appendChild(el("h3", null, "#" + e.n + " " + e.kind.replace(/_/g, " ")));
    box.appendChild(table([["start", e.start], ["end", e.end], ["duration", hours(e.duration_h)],
                           ["port", e.port], ["finding", e.summary], ["event id", e.event_id]]));
    if (e.evidence.length) {
      box.appendChild(el("div", null, "Evidence (" + e.evidence.length + " messages, file:line)"));
      var ul = el("ul", "evidence");
      e.evidence.forEach(function (r) { ul.appendChild(el("li", null, r)); });
      box.appendChild(ul);
    }
    if (e.details.length) { box.appendChild(table(e.details)); }
    return box;
  }
  var events = L.featureGroup();
  var byNumber = {};
  D.markers.forEach(function (m) {
    // A pin: the numbered badge on a short stem whose foot is the event's place.
    var label = m.ns.join(",");
    var w = 12 + 7 * label.length;
    var pin = el("div");
    var badge = pin.appendChild(el("div", "ev-icon", label));
    var stem = pin.appendChild(el("div", "ev-stem"));
    badge.style.background = stem.style.background = m.colour;
    badge.style.width = w + "px";
    var mk = L.marker([m.lat, m.lon], {icon: L.divIcon({html: pin, className: "ev", iconSize: [w + 4, 34],
                                                         iconAnchor: [(w + 4) / 2, 34], popupAnchor: [0, -30]}),
                                       zIndexOffset: 1000, keyboard: true,
                                       title: "finding " + label});
    mk.bindPopup(function () {
      var box = el("div");
      m.ns.forEach(function (n) { box.appendChild(eventPopup(D.events[n - 1])); });
      return box;
    }, {maxWidth: 440, maxHeight: 440, autoPanPaddingTopLeft: [60, 20]});
    m.ns.forEach(function (n) { byNumber[n] = mk; });
    events.addLayer(mk);
  });
  events.addTo(map);

  L.control.layers({"Coastlines (offline)": offline, "OpenStreetMap (online)": osm},
                   {"Land": land, "Track": track, "Gaps": gaps, "Ports": ports, "Events": events},
                   {collapsed: true}).addTo(map);
  map.on("baselayerchange", function (e) {
    if (e.layer === osm) { map.removeLayer(land); } else { land.addTo(map); }
  });
  L.control.scale({imperial: false}).addTo(map);
  map.fitBounds(D.bounds, {padding: [40, 40]});

  Array.prototype.forEach.call(document.querySelectorAll("ol.events li"), function (li) {
    li.addEventListener("click", function () {
      var mk = byNumber[Number(li.getAttribute("data-n"))];
      if (mk) { map.setView(mk.getLatLng(), Math.max(map.getZoom(), 8)); mk.openPopup(); }
    });
  });
  document.body.setAttribute("data-shiptrack", "ready");
})();
"""


def _csp(scripts: list[str]) -> str:
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii")
                      + "'" for s in scripts)
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
            "img-src data: https://tile.openstreetmap.org; base-uri 'none'; form-action 'none'")


def _panel(d: Dossier, m: MapData, data: dict[str, Any]) -> str:
    e = html.escape
    title, sub = _title(d)
    ramp = ", ".join(data["colours"])
    ticks = "".join(f"<span>{e(label)}</span>" for _, label in _time_ticks(m.t0, m.t1, 3))
    kinds = sorted({ev.row["kind"] for ev in m.events})
    keys = [f'<div class="key"><i style="border-color:{GAP_COLOUR}"></i>no positions for more than {GAP_H:g} h</div>']
    for k in GAP_KINDS:
        if any(g.kind == k for g in m.gaps):
            keys.append(f'<div class="key"><i style="border-color:{KIND_COLOURS[k]}"></i>{e(k.replace("_", " "))}'
                        " (event)</div>")
    if any(p.in_events for p in m.ports):
        keys.append('<div class="key"><b style="background:#222"></b>port named by an event</div>')
    if any(not p.in_events for p in m.ports):
        keys.append(f'<div class="key"><b style="background:#fff"></b>WPI port within {PORT_RADIUS_NM:g} nm</div>')
    keys += [f'<div class="key"><b style="background:{KIND_COLOURS.get(k, "#666")}"></b>{e(k.replace("_", " "))}'
             "</div>" for k in kinds]
    items = []
    for ev in m.events:
        r = ev.row
        where = f" — {e(_plain(r.get('port')))}" if r.get("port") else ""
        unplaced = "" if ev.lat is not None else ' <span class="note">(no position)</span>'
        items.append(
            f'<li data-n="{ev.n}"><span class="num" style="background:{ev.colour}">{ev.n}</span>'
            f'<b>{e(r["kind"].replace("_", " "))}</b>{where}{unplaced}<br>'
            f'<span class="when">{e(str(r["start_utc"]))}{" to " + e(str(r["end_utc"])) if r["end_utc"] else ""}'
            f"</span><br>{e(_plain(r.get('summary')))}</li>")
    shown, total = len(data["track"]["lat"]), data["track"]["total"]
    thin = (f'<p class="note">The line is drawn through {shown:,} of {total:,} positions; gap ends and '
            "events are never dropped.</p>") if shown < total else ""
    return (
        f'<div id="panel"><h1>{e(title)}</h1><p class="sub">{e(sub)}</p>'
        f'<h2>Track, by time (UTC)</h2><div class="ramp" style="background:linear-gradient(to right, {ramp})">'
        f'</div><div class="ticks">{ticks}</div>{thin}'
        f'<h2>Key</h2>{"".join(keys)}'
        f'<h2>Findings ({len(m.events)})</h2><ol class="events">{"".join(items)}</ol>'
        '<p class="note">Click the track for a position and the file:line it came from; click a numbered '
        "marker for the evidence. The map works offline; the OpenStreetMap layer (in the layer control) "
        "loads tiles from the internet when picked.</p></div>"
    )


def render_html(d: Dossier, track: pl.DataFrame | None) -> str:
    """The HTML page as text (see `write_html_map`)."""
    m = prepare_map(d, track)
    data = _html_data(d, m)
    js, css = _leaflet()
    title, _ = _title(d)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{_csp([js, _APP_JS])}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="shiptrack">\n'
        f"<title>{html.escape(title)} — shiptrack map</title>\n"
        f"<style>\n{css}\n</style>\n<style>{_CSS}</style>\n"
        f"<script>{js}</script>\n</head>\n<body>\n"
        f'<div id="map"></div>\n{_panel(d, m, data)}\n'
        f'<script type="application/json" id="shiptrack-data">{_script_json(data)}</script>\n'
        f"<script>{_APP_JS}</script>\n</body>\n</html>\n"
    )


def write_html_map(d: Dossier, track: pl.DataFrame | None, path: Path) -> None:
    """An interactive map in one HTML file that opens offline: the track coloured by time, dashed
    gaps, nearby ports and numbered events whose pop-ups carry the evidence."""
    Path(path).write_text(render_html(d, track), encoding="utf-8")


# -- PNG ----------------------------------------------------------------------------------------

_FIG_W_IN, _FIG_H_IN, _DPI = 13.0, 8.5, 150
_MAP_RECT = (0.055, 0.15, 0.63, 0.74)  # left, bottom, width, height (figure fractions)
_MAX_LISTED_EVENTS = 40


def _fit_extent(bbox: tuple[float, float, float, float], box_ratio: float) -> tuple[float, float, float, float]:
    """Pad the content box and widen it so that, drawn with aspect 1/cos(lat), it fills the axes."""
    x0, y0, x1, y1 = _padded(bbox, 0.08, 0.15)
    k = math.cos(math.radians((y0 + y1) / 2))
    w, h = (x1 - x0) * k, y1 - y0
    if w / h < box_ratio:
        extra = (h * box_ratio / k - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
    else:
        extra = ((x1 - x0) * k / box_ratio - h) / 2
        y0, y1 = max(y0 - extra, -89.0), min(y1 + extra, 89.0)
    return x0, y0, x1, y1


def _land_path(geojson: dict) -> Any:
    from matplotlib.path import Path as MplPath

    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for f in geojson["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            for ring in poly:
                r = np.asarray(ring, dtype=float)
                if len(r) < 3:
                    continue
                c = np.full(len(r), MplPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                verts.append(r)
                codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _nice_nm(width_nm: float) -> float:
    target = width_nm / 4
    best = 1.0
    for v in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if v <= target:
            best = float(v)
    return best


def _deg_formatter(pos: str, neg: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{abs(v):g}°{pos if v >= 0 else neg}")


def _label_ports(ax: Any, ports: list[PortMark], halo: list,
                 taken: list[tuple[float, float, str]] | None = None) -> None:
    """Port names beside their symbols, event ports first, then the larger harbours; a name that
    would overlap one already placed (or a label in `taken`: lon, lat, text centred there) tries
    the other three corners and is dropped if none is free."""
    ax.apply_aspect()  # so that transData and the frame are the ones drawn
    order = sorted(ports, key=lambda p: (not p.in_events, -_HARBOR_RANK.get(p.harbor_size or "", 0),
                                         p.distance_nm or 0.0))
    to_px = ax.transData.transform
    pt_px = ax.figure.dpi / 72.0
    x_lo, x_hi = sorted(ax.get_xlim())
    y_lo, y_hi = sorted(ax.get_ylim())
    frame = ax.get_window_extent()
    placed: list[tuple[float, float, float, float]] = []
    for lon, lat, text in taken or []:
        x, y = to_px((lon, lat))
        w, h = (len(text) * 7 * 0.6 + 6) * pt_px, 12 * pt_px
        placed.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    for p in order:
        if not (x_lo <= p.lon <= x_hi and y_lo <= p.lat <= y_hi):
            continue
        size = 7.5 if p.in_events else 6.5
        name = _plain(p.name)
        w, h = len(name) * size * 0.6 * pt_px, size * 1.2 * pt_px
        x, y = to_px((p.lon, p.lat))
        for dx, dy, ha, va in ((4, 2, "left", "bottom"), (4, -2, "left", "top"), (-4, 2, "right", "bottom"),
                               (-4, -2, "right", "top")):
            x0 = x + dx * pt_px - (w if ha == "right" else 0)
            y0 = y + dy * pt_px - (h if va == "top" else 0)
            box = (x0, y0, x0 + w, y0 + h)
            inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                                  for b in placed):
                placed.append(box)
                ax.annotate(name, (p.lon, p.lat), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=size, fontweight="bold" if p.in_events else "normal", color="#222222",
                            zorder=6, path_effects=halo, parse_math=False, annotation_clip=True)
                break


def _numbers_label(ns: list[int], most: int = 4) -> str:
    """Finding numbers at one place: ``3``, ``3,5``, runs as ``1–47``, and at most ``most`` parts
    (``1–3,7,9,11 +3``: three more)."""
    parts: list[tuple[str, int]] = []  # (text, how many numbers it stands for)
    ns = sorted(ns)
    i = 0
    while i < len(ns):
        j = i
        while j + 1 < len(ns) and ns[j + 1] == ns[j] + 1:
            j += 1
        text = str(ns[i]) if j == i else f"{ns[i]},{ns[j]}" if j == i + 1 else f"{ns[i]}–{ns[j]}"
        parts.append((text, j - i + 1))
        i = j + 1
    label = ",".join(t for t, _ in parts[:most])
    rest = sum(n for _, n in parts[most:])
    return label + (f" +{rest}" if rest else "")


def render_png(d: Dossier, track: pl.DataFrame | None, path: Path) -> dict[str, Any]:
    """See `write_png_map`; returns where the findings list and the legend ended up (in the side
    panel's axes fractions: the list's bottom is above the legend's top) and the numbers written
    on the map."""
    layout: dict[str, Any] = {}
    from matplotlib import patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import PathPatch

    m = prepare_map(d, track)
    fig = Figure(figsize=(_FIG_W_IN, _FIG_H_IN), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes(_MAP_RECT)
    box_ratio = (_MAP_RECT[2] * _FIG_W_IN) / (_MAP_RECT[3] * _FIG_H_IN)
    x0, y0, x1, y1 = _fit_extent(m.bbox, box_ratio)
    k = math.cos(math.radians((y0 + y1) / 2))
    ax.set_facecolor(SEA)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(k, 0.05), adjustable="box")
    ax.xaxis.set_major_formatter(_deg_formatter("E", "W"))
    ax.yaxis.set_major_formatter(_deg_formatter("N", "S"))
    ax.tick_params(labelsize=8)
    ax.grid(color="white", lw=0.5, alpha=0.6)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]

    span = max(x1 - x0, y1 - y0)
    pad = min(0.1, span / 10)
    land = _land_path(map_land(span, (x0 - pad, y0 - pad, x1 + pad, y1 + pad), 2500.0))
    if land is not None:
        ax.add_patch(PathPatch(land, facecolor=LAND_FILL, edgecolor=LAND_EDGE, lw=0.6, zorder=1))

    cmap = LinearSegmentedColormap.from_list("shiptrack_time", _ramp(64))
    norm = Normalize(m.t0, max(m.t1, m.t0 + 1))
    segs, seg_t = [], []
    for run in m.runs():
        if len(run) < 2:
            continue
        xy = np.column_stack([m.lon[run], m.lat[run]])
        segs.append(np.stack([xy[:-1], xy[1:]], axis=1))
        seg_t.append((m.t_s[run[:-1]] + m.t_s[run[1:]]) / 2)
    if segs:
        lc = LineCollection(list(np.concatenate(segs)), colors=cmap(norm(np.concatenate(seg_t))), linewidths=1.8,
                            zorder=3, capstyle="round", joinstyle="round")
        ax.add_collection(lc)
    if len(m.t_s):
        ax.scatter([m.lon[0], m.lon[-1]], [m.lat[0], m.lat[-1]], s=30, c=[cmap(0.0), cmap(1.0)],
                   edgecolors="white", linewidths=1.2, zorder=4)

    longest = set(sorted(range(len(m.gaps)), key=lambda i: -m.gaps[i].hours)[:MAX_LABELLED_GAPS])
    gap_labels = []
    for i, g in enumerate(m.gaps):
        ax.plot([g.lon_a, g.lon_b], [g.lat_a, g.lat_b], ls=(0, (4, 3)), color=g.colour,
                lw=1.8 if g.event else 1.3, zorder=3.5)
        if g.event is not None or i in longest:
            gap_labels.append(((g.lon_a + g.lon_b) / 2, (g.lat_a + g.lat_b) / 2, g.label))
            ax.text((g.lon_a + g.lon_b) / 2, (g.lat_a + g.lat_b) / 2, g.label, fontsize=7, color=g.colour,
                    ha="center", va="center", zorder=6, parse_math=False,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": g.colour, "lw": 0.6, "alpha": 0.9})

    if m.ports:
        ax.scatter([p.lon for p in m.ports], [p.lat for p in m.ports], marker="s", s=14,
                   c=["#222222" if p.in_events else "white" for p in m.ports], edgecolors="#222222",
                   linewidths=0.8, zorder=5)
        _label_ports(ax, m.ports, halo, gap_labels)

    places: dict[tuple[float, float], list[EventMark]] = {}
    labels: list[str] = []
    for ev in m.events:
        if ev.lat is not None and ev.lon is not None:
            places.setdefault((round(ev.lat, 3), round(ev.lon, 3)), []).append(ev)
    for grp in places.values():
        # The number sits up and to the left of the place, on a short leader, so that it hides
        # neither the track nor a port's symbol and label.
        label = _numbers_label([ev.n for ev in grp])
        ax.scatter([grp[0].lon or 0.0], [grp[0].lat or 0.0], s=12, c=[grp[0].colour], edgecolors="white", linewidths=0.6, zorder=8)
        note = ax.annotate(label, (grp[0].lon, grp[0].lat), xytext=(-13, 13), textcoords="offset points", fontsize=7,
                    color="white", fontweight="bold", ha="center", va="center", zorder=9, parse_math=False,
                    bbox={"boxstyle": "circle,pad=0.25" if len(label) <= 2 else "round,pad=0.25",
                          "fc": grp[0].colour, "ec": "white", "lw": 1.0},
                    arrowprops={"arrowstyle": "-", "color": grp[0].colour, "lw": 1.0, "shrinkA": 0, "shrinkB": 2})
        note.set_clip_on(True)  # never over the findings list beside the map
        labels.append(label)

    width_nm = (x1 - x0) * 60 * k
    bar = _nice_nm(width_nm)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + bar / (60 * k)], [by, by], color="#222222", lw=2.5, solid_capstyle="butt", zorder=7)
    ax.text(bx, by + (y1 - y0) * 0.012, f"{bar:g} nm", fontsize=7.5, zorder=7, path_effects=halo)

    title, sub = _title(d)
    fig.text(0.055, 0.965, title, fontsize=14, fontweight="bold", va="top", parse_math=False)
    fig.text(0.055, 0.925, sub, fontsize=9.5, color="#333333", va="top", parse_math=False)

    cax = fig.add_axes((_MAP_RECT[0] + 0.08, 0.065, _MAP_RECT[2] - 0.16, 0.018))
    from matplotlib.cm import ScalarMappable

    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    ticks = _round_time_ticks(m.t0, m.t1)
    cb.set_ticks([t for t, _ in ticks], labels=[s for _, s in ticks])
    cb.ax.tick_params(labelsize=7.5)
    cb.set_label("track colour: time (UTC)", fontsize=8)

    side = fig.add_axes((0.715, 0.06, 0.27, 0.83))
    side.axis("off")
    side.text(0, 1, f"Findings ({len(m.events)})", fontsize=10, fontweight="bold", va="top",
              transform=side.transAxes)
    handles = [
        Line2D([], [], color=cmap(0.5), lw=2, label="track (colour = time)"),
        Line2D([], [], color=GAP_COLOUR, lw=1.3, ls=(0, (4, 3)), label=f"no positions > {GAP_H:g} h"),
    ]
    handles += [Line2D([], [], color=KIND_COLOURS[k_], lw=1.8, ls=(0, (4, 3)), label=k_.replace("_", " "))
                for k_ in GAP_KINDS if any(g.kind == k_ for g in m.gaps)]
    if any(p.in_events for p in m.ports):
        handles.append(Line2D([], [], marker="s", ls="", mfc="#222222", mec="#222222", ms=5,
                              label="port named by an event"))
    if any(not p.in_events for p in m.ports):
        handles.append(Line2D([], [], marker="s", ls="", mfc="white", mec="#222222", ms=5,
                              label=f"WPI port within {PORT_RADIUS_NM:g} nm"))
    if m.events:
        handles.append(Line2D([], [], marker="o", ls="", mfc="#666666", mec="white", ms=7,
                              label="finding (number as listed above)"))
    legend = side.legend(handles=handles, loc="lower left", fontsize=7.5, frameon=False, bbox_to_anchor=(0, 0))
    # the list stops above the legend, however many findings there are
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend_top = float(side.transAxes.inverted().transform(legend.get_window_extent(renderer))[1, 1])
    line_h = 0.021
    y = 1 - 0.04
    room = max(int((y - legend_top - 0.02) / line_h) + 1, 0)
    listed = len(m.events) if len(m.events) <= min(room, _MAX_LISTED_EVENTS) else max(min(room, _MAX_LISTED_EVENTS) - 1, 0)
    for ev in m.events[:listed]:
        r = ev.row
        side.text(0.0, y, str(ev.n), fontsize=7, color="white", fontweight="bold", ha="center", va="center",
                  transform=side.transAxes, bbox={"boxstyle": "circle,pad=0.2", "fc": ev.colour, "ec": "none"})
        when = (r["start_utc"] or "")[:16].replace("T", " ")
        port = f" — {_plain(r.get('port'))}" if r.get("port") else ""
        nopos = "" if ev.lat is not None else " (no position)"
        text = f"{when}  {r['kind'].replace('_', ' ')}{port}{nopos}"
        side.text(0.05, y, text[:62], fontsize=7.2, va="center", transform=side.transAxes, parse_math=False)
        y -= line_h
    if len(m.events) > listed:
        side.text(0.05, y, f"… and {len(m.events) - listed} more (see the dossier)", fontsize=7.2,
                  va="center", style="italic", transform=side.transAxes)
        y -= line_h
    layout["labels"] = labels
    layout["listed"] = listed
    layout["list_bottom"] = y + line_h / 2
    layout["legend_top"] = legend_top
    if len(m.drawn) < len(m.t_s):
        fig.text(0.055, 0.012, f"line drawn through {len(m.drawn):,} of {len(m.t_s):,} positions "
                 "(gap ends and events kept)", fontsize=6.5, color="#666666")
    coast = ("coastlines: Natural Earth 1:10m (docks, basins and rivers under ~1 km wide drawn as land)"
             if span <= DETAIL_SPAN_DEG else "coastlines: Natural Earth")
    fig.text(0.985, 0.012, f"shiptrack · {coast} · ports: World Port Index", fontsize=6.5,
             color="#666666", ha="right")
    fig.savefig(Path(path), dpi=_DPI, format="png", facecolor="white")
    return layout


def write_png_map(d: Dossier, track: pl.DataFrame | None, path: Path) -> None:
    """A static map for print: land, the track coloured by time, dashed gaps, labelled ports,
    numbered events with a legend listing them, and a title naming the vessel and the period."""
    render_png(d, track, path)
