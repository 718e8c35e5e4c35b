"""Find a vessel from what a reporter types: MMSI, IMO, call sign, or a name (current or former).

Resolution order, each step only if the previous found nothing:

1. 9 digits: an MMSI heard in the store (or any 9-digit number, even unheard, is
   refused with a suggestion — a typo in an MMSI should not silently match nothing);
2. 7 digits, with or without ``IMO``: an IMO number ever broadcast;
3. a call sign ever broadcast (case-insensitive, spaces ignored);
4. a name ever broadcast, current or former (case-insensitive, spacing forgiven:
   "ural", "U R A L" and "URAL " match "URAL").

Several MMSIs matching a step is an :class:`AmbiguousVessel` listing candidates;
nothing matching is :class:`VesselNotFound` with the closest names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb

from shiptrack.errors import AmbiguousVessel, VesselNotFound


@dataclass(frozen=True)
class Vessel:
    mmsi: int
    imo: int | None
    name: str | None
    callsign: str | None
    flag: str | None
    first_seen: datetime | None
    last_seen: datetime | None


def _squash(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


_VESSEL_SQL = """
    SELECT mmsi, imo, name, callsign, flag, first_seen, last_seen FROM vessels WHERE mmsi IN (SELECT unnest($m))
    ORDER BY last_seen DESC NULLS LAST, mmsi
"""


def _vessels(con: duckdb.DuckDBPyConnection, mmsis: list[int]) -> list[Vessel]:
    rows = con.execute(_VESSEL_SQL, {"m": mmsis}).fetchall()
    return [Vessel(*r) for r in rows]


def _candidates(con: duckdb.DuckDBPyConnection, vessels: list[Vessel]) -> list[dict]:
    out = []
    for v in vessels:
        names = [r[0] for r in con.execute(
            "SELECT value FROM identity_history WHERE mmsi = $m AND field = 'name' "
            "GROUP BY value ORDER BY min(first_seen)", {"m": v.mmsi}).fetchall()]
        out.append({
            "mmsi": v.mmsi, "imo": v.imo, "names": " / ".join(names) or v.name, "flag": v.flag,
            "first_seen": v.first_seen.strftime("%Y-%m-%dT%H:%MZ") if v.first_seen else None,
            "last_seen": v.last_seen.strftime("%Y-%m-%dT%H:%MZ") if v.last_seen else None,
        })
    return out


def _one(con: duckdb.DuckDBPyConnection, query: str, mmsis: list[int]) -> Vessel | None:
    mmsis = sorted(set(mmsis))
    if not mmsis:
        return None
    vessels = _vessels(con, mmsis)
    if len(vessels) == 1:
        return vessels[0]
    if len(vessels) > 1:
        raise AmbiguousVessel(query, _candidates(con, vessels))
    return None


def find_vessel(con: duckdb.DuckDBPyConnection, text: str) -> Vessel:
    """Resolve ``text`` to exactly one vessel, or raise AmbiguousVessel / VesselNotFound."""
    q = text.strip()
    digits = re.sub(r"^IMO\s*", "", q, flags=re.I)
    if re.fullmatch(r"\d{9}", q):
        found = _one(con, q, [int(q)])
        if found:
            return found
    if re.fullmatch(r"\d{7}", digits):
        rows = con.execute("SELECT DISTINCT mmsi FROM static_reports WHERE imo = $i", {"i": int(digits)}).fetchall()
        found = _one(con, q, [r[0] for r in rows])
        if found:
            return found
    key = _squash(q)
    if key:
        rows = con.execute(
            "SELECT DISTINCT mmsi FROM static_reports "
            "WHERE regexp_replace(upper(callsign), '[^0-9A-Z]', '', 'g') = $k", {"k": key}).fetchall()
        found = _one(con, q, [r[0] for r in rows])
        if found:
            return found
        rows = con.execute(
            "SELECT DISTINCT mmsi FROM identity_history WHERE field = 'name' "
            "AND regexp_replace(upper(value), '[^0-9A-Z]', '', 'g') = $k", {"k": key}).fetchall()
        found = _one(con, q, [r[0] for r in rows])
        if found:
            return found
    if re.fullmatch(r"\d{1,10}", q):  # an MMSI not of 9 digits (defaults, SAR, base stations: 1193046)
        found = _one(con, q, [int(q)])
        if found:
            return found
    raise VesselNotFound(q, suggest_names(con, q))


def suggest_names(con: duckdb.DuckDBPyConnection, text: str, limit: int = 5) -> list[str]:
    names = [r[0] for r in con.execute(
        "SELECT DISTINCT value FROM identity_history WHERE field = 'name'").fetchall()]
    if not names:
        return []
    from rapidfuzz import fuzz, process

    matches = process.extract(text.upper(), names, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [m[0] for m in matches]
