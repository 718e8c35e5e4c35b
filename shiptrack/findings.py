"""A finding in one sentence: what the dossier's timeline and the events' ``finding`` column say.

Each event kind has its sentence, made from the event's columns and its ``details``; it
names the port, the duration and the other vessel, and says why a silence is or is not
the ship's.
"""

from __future__ import annotations

from typing import Any

from shiptrack.reference.mid import mid_of_mmsi, station_kind

# A port call with a silence this long inside it (the gaps rule's min_gap_h) says no length:
# the ship may have left and come back unheard (two snapshots of an archive, years apart).
SILENT_IN_CALL_H = 6.0

# what a number of another kind of station is, for a finding on it
_STATIONS = {
    "group": "a group call", "coast_station": "a coast station", "sar_aircraft": "a search and rescue aircraft",
    "parent_craft": "a craft tied to a parent ship", "aid_to_navigation": "an aid to navigation",
    "sart": "a search and rescue transmitter", "man_overboard": "a man-overboard beacon", "epirb": "an EPIRB",
    "handheld": "a handheld radio",
}


def summarise_event(kind: str, e: dict[str, Any], d: dict[str, Any]) -> str:
    """One line of evidence for the timeline, from the event and its details; on an MMSI
    that is not a ship's, followed by what it is (:func:`mmsi_caveat`)."""
    text = _summary(kind, e, d)
    transmitters = d.get("track_segments") or 1
    if transmitters > 1 and kind in ("dark_period", "ais_gap"):
        text += (f"; the MMSI's positions show {transmitters} transmitters: this is the silence of one of them "
                 f"(track segment {d.get('segment')})")
    spread = d.get("time_spread_h")
    if spread and kind in ("dark_period", "ais_gap", "implausible_gap"):
        text += (f"; its times may be up to {spread:g} h after sending (trailing times taken as they are: "
                 f"perhaps ground-arrival times), so how long it was silent is known only to within {spread:g} h")
    caveat = mmsi_caveat(e.get("mmsi"))
    if caveat and "the MMSI is not a ship's" not in text:
        text += f"; {caveat}"
    return text


def mmsi_caveat(mmsi: int | None) -> str | None:
    """Why the positions of an MMSI may not be one ship's, when its number is not a ship's:
    no station's form (a transponder default such as 1193046, which many devices share), a
    MID no country holds, or another kind of station. None for a ship's MMSI (9 digits, a
    MID some country holds) or no MMSI."""
    if mmsi is None:
        return None
    kind = station_kind(mmsi)
    if kind == "ship":
        return None
    if kind == "none":
        return (f"MMSI {mmsi} is not a ship's number (9 digits from a country's MID): often a transponder "
                "default that many devices share, so not shown to be one ship")
    if kind == "ship_placeholder":
        return (f"MMSI {mmsi} is its country's MID followed by six zeros: a placeholder that many transponders "
                "share, so not shown to be one ship")
    if kind == "ship_unallocated_mid":
        return (f"MMSI {mmsi} starts with MID {mid_of_mmsi(mmsi)}, which no country holds: a made-up or "
                "default number, so not shown to be one ship")
    return f"MMSI {mmsi} is the number of {_STATIONS[kind]}, not of a ship"


def _summary(kind: str, e: dict[str, Any], d: dict[str, Any]) -> str:
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
        parts.append(_coverage_phrase(d))
        if d.get("probable_unreported_call"):
            parts.append(f"probable unreported call at {d.get('probable_call_port') or port}")
        elif d.get("possible_call_port"):
            parts.append(_unclaimed_call(d))
        if d.get("draught_before_m") is not None and d.get("draught_after_m") is not None:
            parts.append(f"draught {d['draught_before_m']} m before, {d['draught_after_m']} m after")
        return "; ".join(parts)
    if kind == "ais_gap":
        hours = f"{dur:.1f} h" if dur is not None else "a while"
        hole = d.get("archive_hole") or {}
        if d.get("piece") == "before_hole":
            return (f"no AIS for at least {hours}, until a hole in the archive of {hole.get('hours', 0):.0f} h "
                    "(nobody heard at all): how long the ship was silent is unknown")
        if d.get("piece") == "after_hole":
            return (f"no AIS for at least {hours} after a hole in the archive of {hole.get('hours', 0):.0f} h "
                    "(nobody heard at all): how long the ship was silent is unknown")
        if d.get("in_port"):
            where = f" in port at {port}" if port else " in port"
            return f"AIS silent {hours}{where}, reappeared where it was: an in-port gap, not a dark approach"
        where = f" near {port}" if port else " at sea"
        return f"no AIS for {hours}{where}; {_coverage_phrase(d)}"
    if kind == "implausible_gap":
        return (f"no AIS for {dur:.1f} h, but its two ends are {d.get('displacement_nm', 0):,.0f} nm apart: "
                f"{d.get('implied_speed_kn', 0):.0f} kn, more than this ship can sail "
                f"({d.get('max_plausible_speed_kn', 30):.0f} kn): a wrong clock or another transmitter, not a "
                "dark period")
    if kind == "port_call":
        silent = d.get("longest_gap_h")
        if dur is not None and silent is not None and silent >= SILENT_IN_CALL_H:
            return (f"at {port} when heard, {dur:,.1f} h apart, but not heard at all for {silent:,.1f} h of that: "
                    "how long it stayed, and whether it left and came back, is unknown")
        return f"called at {port} for {dur:.1f} h" if dur is not None else f"called at {port}"
    if kind == "unplanned_port_call":
        declared = d.get("declared_ports") or d.get("voyage")
        return f"unplanned call at {port}" + (f" on a voyage declared {declared}" if declared else "")
    if kind == "destination_change":
        if d.get("shared_mmsi"):
            return (f"destination broadcast as {d.get('from')!r}, then {d.get('to')!r} on an MMSI that several "
                    "ships seem to use: not shown to be one ship's change")
        if d.get("order_uncertain"):
            return (f"destination broadcast as {d.get('from')!r} and as {d.get('to')!r}, closer in time than the "
                    "times are known (perhaps ground-arrival times): which came first is not known")
        changed = f"destination changed from {d.get('from')!r} to {d.get('to')!r}"
        n = d.get("characters_changed")
        if n is not None and n <= 2 and max(len(d.get("from") or ""), len(d.get("to") or "")) >= 5:
            differ = "1 character differs" if n == 1 else f"{n} characters differ"
            return f"{changed} ({differ}: a typing correction, or another place of a similar name)"
        return changed
    if kind == "identity_change":
        field_ = d.get("field", "identity")
        if d.get("order_uncertain"):
            return (f"{field_} broadcast as {d.get('old')!r} and as {d.get('new')!r}, closer in time than the times "
                    "are known (perhaps ground-arrival times): which came first is not known"
                    + ("; perhaps several identities on one MMSI" if d.get("shared_identity") else ""))
        if d.get("shared_identity"):
            why = ("the old one came back later" if d.get("old_seen_again") else
                   f"its positions show {d.get('mmsi_transmitters')} transmitters"
                   if (d.get("mmsi_transmitters") or 1) > 1 else "the MMSI is not a ship's")
            return (f"{field_} broadcast as {d.get('old')!r}, then {d.get('new')!r} ({why}): several identities "
                    "on one MMSI, not shown to be one ship renamed")
        return f"{field_} changed from {d.get('old')!r} to {d.get('new')!r}"
    if kind == "route_deviation":
        nm, pct = d.get("max_detour_nm"), d.get("max_detour_pct")
        if nm is None:
            return "out of the way of the declared voyage"
        leg = d.get("leg")
        what = "voyage" if not leg or leg == d.get("declared_ports") else f"{leg} leg"
        avoids = d.get("route_avoids") or []
        against = f" than the route avoiding {', '.join(avoids)}" if avoids else ""
        longer = f" ({pct:.1f}% longer {what}{against})" if pct is not None else ""
        return f"went {nm:.0f} nm out of the way{longer}" + (f" for {dur:.1f} h" if dur else "")
    if kind == "sts_encounter":
        return f"met vessel {e.get('other_mmsi')} at sea for {dur:.1f} h" if dur else "ship-to-ship meeting"
    if kind == "spoofing_jump":
        sp = d.get("implied_speed_kn") or d.get("max_implied_speed_kn")
        what = f"impossible jump (implied {sp:.0f} kn)" if sp else "impossible jump"
        if d.get("identity_clash"):  # the position went back and forth: not one ship moving
            what += f", back and forth {d.get('jumps')} times: two transmitters on one MMSI, or spoofing"
        return what
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


_CONDITIONS = {
    "reception_live_near_port": "reception near the port was not shown to be live",
    "reception_live_at_both_ends": "reception at both ends of the gap was not shown to be live",
    "went_silent_heading_for_port": "it was not shown heading for the port when it went silent",
    "reappeared_heading_away": "it was not shown leaving the port when it reappeared",
    "moved": "it reappeared where it went silent",
    "not_in_port": "it was in port",
    "round_trip_fits": "the round trip does not fit the gap",
}


def _coverage_phrase(d: dict[str, Any]) -> str:
    """What the store heard around the gap: the reason a silence is, or is not, the ship's."""
    cov = d.get("coverage") or {}
    radius = cov.get("radius_nm") or 50
    status = cov.get("status")
    n = cov.get("other_vessels") or 0
    if status == "live":
        return f"{n} other vessel{'s' if n != 1 else ''} heard within {radius:.0f} nm meanwhile"
    if status == "low":
        return f"reception low: other vessels heard within {radius:.0f} nm in fewer hours than usual"
    if status == "none":
        return (f"nobody else heard within {radius:.0f} nm either, where others usually are: "
                "the receivers, not the ship, may have been silent")
    return f"reception unknown: no other vessel heard within {radius:.0f} nm to compare with"


def _unclaimed_call(d: dict[str, Any]) -> str:
    """Why a call that fits the gap is not claimed: the conditions that do not hold."""
    cond = d.get("call_conditions") or {}
    missing = [text for key, text in _CONDITIONS.items() if cond.get(key) is not True]
    port = d.get("possible_call_port")
    return f"a call at {port} fits the time but is not claimed: " + ", ".join(missing or ["see details"])
