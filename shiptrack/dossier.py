"""One vessel's story: identities over time, declared voyages against observed calls,
a timeline of findings with their evidence, and the figures a reporter quotes.

``build_dossier`` returns plain data (a :class:`Dossier`); the CLI renders it as a
terminal table, JSON or Markdown, and the map modules draw it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from shiptrack.events import event_rows
from shiptrack.store.db import rows
from shiptrack.units import iso_utc
from shiptrack.vessels import Vessel, find_vessel


@dataclass
class Dossier:
    vessel: dict[str, Any]
    since: str | None
    until: str | None
    first_seen: str | None
    last_seen: str | None
    positions: int
    distance_nm: float
    time_dark_h: float
    identities: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    voyages: list[dict[str, Any]] = field(default_factory=list)
    port_calls: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str, ensure_ascii=False)


def compact_evidence(evidence: str | None) -> str:
    """'/a/ural.nmea:11; /a/ural.nmea:4228' -> 'ural.nmea:11,4228' (for narrow displays)."""
    if not evidence:
        return ""
    by_file: dict[str, list[str]] = {}
    for ref in evidence.split("; "):
        path, _, line = ref.rpartition(":")
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        by_file.setdefault(name, [])
        if line not in by_file[name]:
            by_file[name].append(line)
    return "; ".join(f"{name}:{','.join(lines)}" for name, lines in by_file.items())


def summarise_event(kind: str, e: dict[str, Any], d: dict[str, Any]) -> str:
    """One line of evidence for the timeline, from the event and its details."""
    port = e.get("port")
    dur = e.get("duration_h")
    if kind == "dark_period":
        start = d.get("nearest_port_start") or {}
        end = d.get("nearest_port_end") or {}
        parts = [f"AIS silent {dur:.1f} h" if dur is not None else "AIS silent"]
        if start.get("distance_nm") is not None:
            toward = ", heading toward it" if d.get("heading_to_port") is True and d.get("heading_port") == \
                start.get("port") else ""
            parts.append(f"went silent {start['distance_nm']:.0f} nm from {start.get('port')}{toward}")
        if end.get("distance_nm") is not None:
            parts.append(f"reappeared {end['distance_nm']:.0f} nm from {end.get('port')}")
        cov = (d.get("coverage") or {}).get("other_vessels")
        if cov is not None:
            parts.append(f"{cov} other vessel{'s' if cov != 1 else ''} heard within "
                         f"{(d.get('coverage') or {}).get('radius_nm', 50):.0f} nm meanwhile")
        if d.get("probable_unreported_call"):
            parts.append(f"probable unreported call at {d.get('probable_call_port') or port}")
        if d.get("draught_before_m") is not None and d.get("draught_after_m") is not None:
            parts.append(f"draught {d['draught_before_m']} m before, {d['draught_after_m']} m after")
        return "; ".join(parts)
    if kind == "ais_gap":
        return f"no AIS for {dur:.1f} h in open sea" if dur is not None else "no AIS in open sea"
    if kind == "port_call":
        return f"called at {port} for {dur:.1f} h" if dur is not None else f"called at {port}"
    if kind == "unplanned_port_call":
        declared = d.get("declared_ports") or d.get("voyage")
        return f"unplanned call at {port}" + (f" on a voyage declared {declared}" if declared else "")
    if kind == "destination_change":
        return f"destination changed from {d.get('from')!r} to {d.get('to')!r}"
    if kind == "identity_change":
        field_ = d.get("field", "identity")
        return f"{field_} changed from {d.get('old')!r} to {d.get('new')!r}"
    if kind == "route_deviation":
        off = d.get("max_offset_nm")
        return f"{off:.0f} nm off the declared route for {dur:.1f} h" if off is not None and dur else \
            "off the declared route"
    if kind == "sts_encounter":
        return f"met vessel {e.get('other_mmsi')} at sea for {dur:.1f} h" if dur else "ship-to-ship meeting"
    if kind == "spoofing_jump":
        sp = d.get("implied_speed_kn") or d.get("max_implied_speed_kn")
        return f"impossible jump (implied {sp:.0f} kn)" if sp else "impossible jump"
    if kind == "position_on_land":
        km = d.get("max_inland_km") or d.get("inland_km")
        water = d.get("water_distance_km")
        where = f"{km:.0f} km inland" if km else "on land"
        if water is not None:
            where += f", {water:.0f} km from any mapped water"
        if d.get("reason") == "isolated_fix_inland" and d.get("jump_in_speed_kn"):
            return f"a fix jumped onto land and back: {where} (implied {d['jump_in_speed_kn']:.0f} kn)"
        return f"reported a position {where}"
    return kind.replace("_", " ")


def build_dossier(
    con: duckdb.DuckDBPyConnection,
    query: str | Vessel,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Dossier:
    v = find_vessel(con, query) if isinstance(query, str) else query
    win = {"m": v.mmsi, "since": since, "until": until}
    stats = con.execute(
        """
        WITH p AS (
            SELECT ts, lat, lon, lag(lat) OVER w AS plat, lag(lon) OVER w AS plon,
                   lag(ts) OVER w AS pts
            FROM positions
            WHERE mmsi = $m AND lat IS NOT NULL AND ($since IS NULL OR ts >= $since)
              AND ($until IS NULL OR ts < $until)
            WINDOW w AS (ORDER BY ts, dup_key)
        )
        SELECT count(*), min(ts), max(ts),
               -- legs that imply more than 60 kn are jumps (spoofing, a shared MMSI), not sailing
               coalesce(sum(CASE WHEN haversine_nm(plat, plon, lat, lon)
                                      <= 60 * greatest(epoch(ts - pts) / 3600.0, 1 / 60.0)
                                 THEN haversine_nm(plat, plon, lat, lon) END), 0)
        FROM p
        """,
        win,
    ).fetchall()[0]
    n_pos, first, last, dist = stats
    timeline = []
    for e in event_rows(con, mmsi=v.mmsi, since=since, until=until):
        details = json.loads(e["details"]) if e["details"] else {}
        timeline.append({
            "start_utc": iso_utc(e["start_utc"]), "end_utc": iso_utc(e["end_utc"]), "kind": e["kind"],
            "summary": summarise_event(e["kind"], e, details), "port": e["port"],
            "lat": e["lat"], "lon": e["lon"], "duration_h": e["duration_h"],
            "evidence": e["evidence"], "event_id": e["event_id"], "details": details,
        })
    dark_h = float(sum(t["duration_h"] or 0 for t in timeline if t["kind"] == "dark_period"))
    identities = rows(con, """
        SELECT field, value, first_seen, last_seen, reports FROM identity_history
        WHERE mmsi = $m AND field IN ('name', 'callsign', 'imo', 'ship_type', 'destination')
          AND ($since IS NULL OR last_seen >= $since) AND ($until IS NULL OR first_seen < $until)
        ORDER BY field, first_seen""", win)
    flags = rows(con, """
        WITH imos AS (SELECT DISTINCT imo FROM static_reports WHERE mmsi = $m AND imo IS NOT NULL),
        ids AS (SELECT DISTINCT mmsi FROM static_reports WHERE imo IN (SELECT imo FROM imos)
                UNION SELECT $m)
        SELECT v.mmsi, v.flag, v.flag_iso2, v.first_seen, v.last_seen FROM vessels v
        WHERE v.mmsi IN (SELECT mmsi FROM ids) ORDER BY v.first_seen""", win)
    voyages = rows(con, """
        SELECT v.voyage_id, v.ports AS declared, v.departed FROM declared_voyages v
        WHERE v.mmsi = $m ORDER BY v.departed""", win)
    calls = [t for t in timeline if t["kind"] in ("port_call", "unplanned_port_call")]
    for voy in voyages:
        dep = voy["departed"]
        voy["observed_calls"] = [
            {"port": t["port"], "arrival_utc": t["start_utc"], "departure_utc": t["end_utc"],
             "unplanned": any(u["kind"] == "unplanned_port_call" and u["port"] == t["port"]
                              and u["start_utc"] == t["start_utc"] for u in calls)}
            for t in calls if t["kind"] == "port_call" and (dep is None or t["start_utc"] >= iso_utc(dep))
        ]
        voy["departed"] = iso_utc(dep)
    return Dossier(
        vessel={"mmsi": v.mmsi, "imo": v.imo, "name": v.name, "callsign": v.callsign, "flag": v.flag},
        since=iso_utc(since), until=iso_utc(until),
        first_seen=iso_utc(first), last_seen=iso_utc(last), positions=int(n_pos),
        distance_nm=round(float(dist), 1), time_dark_h=round(dark_h, 1),
        identities=_iso_rows(identities), flags=_iso_rows(flags),
        voyages=voyages, port_calls=[t for t in timeline if t["kind"] == "port_call"], timeline=timeline,
    )


def _iso_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: iso_utc(v) if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]


def to_markdown(d: Dossier) -> str:
    """The dossier as Markdown, for pasting into a story draft. Text from AIS is escaped."""
    def esc(s: object) -> str:
        return "" if s is None else str(s).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")

    v = d.vessel
    out = [f"# {esc(v['name'] or v['mmsi'])} — MMSI {v['mmsi']}, IMO {esc(v['imo'])}, flag {esc(v['flag'])}", ""]
    out.append(f"Seen {d.first_seen} to {d.last_seen}: {d.positions:,} positions, "
               f"{d.distance_nm:,.0f} nm sailed, {d.time_dark_h:,.1f} h dark.")
    out += ["", "## Identity history", "", "| field | value | first seen | last seen | reports |", "|---|---|---|---|---|"]
    out += [f"| {r['field']} | {esc(r['value'])} | {r['first_seen']} | {r['last_seen']} | {r['reports']} |"
            for r in d.identities]
    if d.flags:
        out += ["", "## Flags", "", "| MMSI | flag | first seen | last seen |", "|---|---|---|---|"]
        out += [f"| {r['mmsi']} | {esc(r['flag'])} | {r['first_seen']} | {r['last_seen']} |" for r in d.flags]
    if d.voyages:
        out += ["", "## Declared voyages against observed calls", ""]
        for voy in d.voyages:
            out.append(f"- declared **{esc(voy['declared'])}**, departed {voy['departed']}")
            for c in voy["observed_calls"]:
                tag = " — **unplanned**" if c["unplanned"] else ""
                out.append(f"  - called at {esc(c['port'])} {c['arrival_utc']} to {c['departure_utc']}{tag}")
    out += ["", "## Timeline", "", "| start (UTC) | end (UTC) | finding | evidence |", "|---|---|---|---|"]
    out += [f"| {t['start_utc']} | {t['end_utc'] or ''} | {esc(t['summary'])} | {esc(compact_evidence(t['evidence']))} |"
            for t in d.timeline]
    return "\n".join(out) + "\n"
