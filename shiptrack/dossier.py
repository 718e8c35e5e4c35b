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
from shiptrack.findings import mmsi_caveat, summarise_event
from shiptrack.safe_text import markdown
from shiptrack.store.db import rows
from shiptrack.times import iso_utc
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
    archive_holes: list[dict[str, Any]] = field(default_factory=list)  # nobody heard, while it was seen

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


# Hours in which the store heard nobody at all that make a hole in the archive (the gaps
# rule's archive_hole_h default).
ARCHIVE_HOLE_H = 6.0


def holes_sentences(d: Dossier) -> list[str]:
    """The holes in the archive while the vessel was seen: one line each, or a summary."""
    holes = d.archive_holes
    if len(holes) <= 3:
        return [f"The archive holds nothing from anyone from {h['start_utc']} to {h['end_utc']} ({h['hours']:,.0f} h): "
                "nothing can be said of this ship then." for h in holes]
    longest = max(holes, key=lambda h: h["hours"])
    total = sum(h["hours"] for h in holes)
    return [f"The archive holds nothing from anyone for {total:,.0f} h, in {len(holes)} stretches of "
            f"{ARCHIVE_HOLE_H:.0f} h or more, while this ship was seen (the longest {longest['start_utc']} to "
            f"{longest['end_utc']}, {longest['hours']:,.0f} h): nothing can be said of it then "
            "(`shiptrack report run archive_holes` lists them)."]


def imo_valid(imo: object) -> bool | None:
    """Whether a broadcast IMO number is one: seven digits whose last is the check digit
    (the first six times 7, 6, 5, 4, 3, 2, summed, modulo 10). None when there is none.
    AIS carries whatever the crew typed: 0, an MMSI, a number with a digit wrong."""
    if imo is None or imo == "":
        return None
    s = str(imo).strip().upper().removeprefix("IMO").strip()
    if len(s) != 7 or not s.isdigit():
        return False
    return sum(int(c) * w for c, w in zip(s[:6], range(7, 1, -1), strict=True)) % 10 == int(s[6])


def imo_text(v: dict[str, Any]) -> str | None:
    """'IMO 9180217', a warning with a number that is not a valid IMO number, or None."""
    if v.get("imo") is None:
        return None
    if imo_valid(v["imo"]):
        return f"IMO {v['imo']}"
    return f"IMO {v['imo']} (not a valid IMO number: the check digit fails)"


def headline(v: dict[str, Any], callsign: bool = False) -> tuple[str, list[str]]:
    """The dossier's title and the identity facts after it, none of them empty: the name
    (else the MMSI), then MMSI, IMO, call sign and flag where known, and what the MMSI is when
    it is not a ship's."""
    title = v.get("name") or f"MMSI {v['mmsi']}"
    facts = [f"MMSI {v['mmsi']}"] if v.get("name") else []
    facts += [t for t in (imo_text(v), f"call sign {v['callsign']}" if callsign and v.get("callsign") else None,
                          f"flag {v['flag']}" if v.get("flag") else None, mmsi_caveat(v["mmsi"])) if t]
    return title, facts


def seen_sentence(d: Dossier) -> str:
    """'Seen A to B: n positions, x nm sailed, y h dark.', or what the window holds."""
    if d.positions:
        return (f"Seen {d.first_seen} to {d.last_seen}: {d.positions:,} position{'s' * (d.positions != 1)}, "
                f"{d.distance_nm:,.0f} nm sailed, {d.time_dark_h:,.1f} h dark.")
    return f"No position of this vessel {window_phrase(d)}."


def window_phrase(d: Dossier) -> str:
    if d.since and d.until:
        return f"from {d.since} to {d.until}"
    if d.since:
        return f"since {d.since}"
    if d.until:
        return f"before {d.until}"
    return "in the store"


def no_findings_sentence(d: Dossier) -> str:
    hint = " (`shiptrack detect` makes them, after each ingest)" if d.positions else ""
    return f"No findings {window_phrase(d)}{hint}."


def _union_hours(spans: list[tuple[datetime, datetime]]) -> float:
    """Hours covered by the union of the intervals (overlapping segments count once)."""
    total = 0.0
    cur: tuple[datetime, datetime] | None = None  # the union's interval being extended
    for a, b in sorted(spans):
        if cur is None or a > cur[1]:
            if cur is not None:
                total += (cur[1] - cur[0]).total_seconds()
            cur = (a, b)
        elif b > cur[1]:
            cur = (cur[0], b)
    if cur is not None:
        total += (cur[1] - cur[0]).total_seconds()
    return total / 3600.0


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
    events = event_rows(con, mmsi=v.mmsi, since=since, until=until)
    for e in events:
        details = json.loads(e["details"]) if e["details"] else {}
        timeline.append({
            "start_utc": iso_utc(e["start_utc"]), "end_utc": iso_utc(e["end_utc"]), "kind": e["kind"],
            "summary": summarise_event(e["kind"], e, details), "port": e["port"],
            "lat": e["lat"], "lon": e["lon"], "duration_h": e["duration_h"],
            "evidence": e["evidence"], "event_id": e["event_id"], "details": details,
        })
    # time dark: the union of the dark periods, so that the overlapping segments of a shared
    # MMSI never make a vessel dark for longer than it was observed
    dark_h = _union_hours([(e["start_utc"], e["end_utc"]) for e in events
                           if e["kind"] == "dark_period" and e["end_utc"] is not None])
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
    holes = rows(con, """
        WITH heard AS (SELECT DISTINCT hour FROM coverage WHERE hour >= $a - INTERVAL 1 DAY AND hour <= $b),
             steps AS (SELECT hour, lead(hour) OVER (ORDER BY hour) AS next_hour FROM heard)
        SELECT hour + INTERVAL 1 HOUR AS start_utc, next_hour AS end_utc,
               round(seconds_between(hour, next_hour) / 3600.0 - 1, 1) AS hours
        FROM steps
        WHERE next_hour > $a AND hour < $b AND seconds_between(hour, next_hour) / 3600.0 - 1 >= $min_h
        ORDER BY hour""", {"a": first, "b": last, "min_h": ARCHIVE_HOLE_H}) if first is not None and con.execute(
        # a store of this vessel alone has no holes to speak of: its silences are its own gaps
        "SELECT count(*) FROM (SELECT 1 FROM positions WHERE mmsi <> $m LIMIT 1)", {"m": v.mmsi}
    ).fetchall()[0][0] else []
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
        vessel={"mmsi": v.mmsi, "imo": v.imo, "imo_valid": imo_valid(v.imo), "name": v.name,
                "callsign": v.callsign, "flag": v.flag},
        since=iso_utc(since), until=iso_utc(until),
        first_seen=iso_utc(first), last_seen=iso_utc(last), positions=int(n_pos),
        distance_nm=round(float(dist), 1), time_dark_h=round(dark_h, 1),
        identities=_iso_rows(identities), flags=_iso_rows(flags),
        voyages=voyages, port_calls=[t for t in timeline if t["kind"] == "port_call"], timeline=timeline,
        archive_holes=_iso_rows(holes),
    )


def _iso_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: iso_utc(v) if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]


def to_markdown(d: Dossier) -> str:
    """The dossier as Markdown, for pasting into a story draft. Text from AIS is escaped.
    A section with nothing to show is left out (an empty timeline is one sentence)."""
    esc = markdown

    title, facts = headline(d.vessel)
    out = [f"# {esc(title)}" + (f" — {esc(', '.join(facts))}" if facts else ""), ""]
    out.append(seen_sentence(d))
    out += holes_sentences(d)
    if d.identities:
        out += ["", "## Identity history", "", "| field | value | first seen | last seen | reports |",
                "|---|---|---|---|---|"]
        out += [f"| {r['field']} | {esc(r['value'])} | {r['first_seen']} | {r['last_seen']} | {r['reports']} |"
                for r in d.identities]
    if d.flags:
        out += ["", "## Flags", "", "| MMSI | flag | first seen | last seen |", "|---|---|---|---|"]
        out += [f"| {r['mmsi']} | {esc(r['flag'])} | {r['first_seen']} | {r['last_seen']} |" for r in d.flags]
    if d.voyages:
        out += ["", "## Declared voyages against observed calls", ""]
        for voy in d.voyages:
            departed = f", departed {voy['departed']}" if voy["departed"] else ""
            out.append(f"- declared **{esc(voy['declared'])}**{departed}")
            for c in voy["observed_calls"]:
                tag = " — **unplanned**" if c["unplanned"] else ""
                out.append(f"  - called at {esc(c['port'])} {c['arrival_utc']} to {c['departure_utc']}{tag}")
            if not voy["observed_calls"]:
                out.append("  - no port call observed since")
    if d.timeline:
        out += ["", "## Timeline", "", "| start (UTC) | end (UTC) | finding | evidence |", "|---|---|---|---|"]
        out += [f"| {t['start_utc']} | {t['end_utc'] or ''} | {esc(t['summary'])} | "
                f"{esc(compact_evidence(t['evidence']))} |" for t in d.timeline]
    else:
        out += ["", no_findings_sentence(d)]
    return "\n".join(out) + "\n"
