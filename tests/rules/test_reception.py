"""A silence is the ship's only if someone was listening: the gaps rule's reception checks.

Hand-built tracks near Benghazi (the geometry of tests/rules/test_gaps.py): a ship that
goes silent at NEAR heading for the port and reappears at NEAR2 heading away, with or
without other vessels heard there, across an archive hole, sitting in port, or with ends
no ship could join. Each case asserts the kind, the coverage figures and the dossier's
sentence, through the real CLI and store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from shiptrack.times import iso_utc, parse_utc
from tests.conftest import ingest_lines, ping, query, run_cli, voyage

T0 = parse_utc("2018-02-20T00:00:00Z")
NEAR, NEAR2 = (32.6, 19.4), (32.5, 19.6)  # 43.9 and 32.4 nm from Banghazi
BANGHAZI_BERTH = (32.12, 20.06)
FAR = (36.0, 14.5)  # off Malta, 370 nm away: heard by the archive, not near Benghazi
SHIP, OTHER = 352001234, 352009000


def at(minutes: float) -> str:
    return iso_utc(T0 + timedelta(minutes=minutes)) or ""


def pings(start_min: float, count: int, step_min: float, where: tuple[float, float], **kw) -> list[str]:
    return [ping(at(start_min + i * step_min), where[0], where[1], **kw) for i in range(count)]


def span(start_min: float, end_min: float, where: tuple[float, float], mmsi: int, step_min: float = 30,
         **kw) -> list[str]:
    """A vessel heard every step_min minutes from start_min to end_min."""
    kw = {"sog": 0.0, "status": 5, **kw}
    return pings(start_min, int((end_min - start_min) // step_min) + 1, step_min, where, mmsi=mmsi, **kw)


def dark_approach(gap_min: float = 20 * 60, mmsi: int = SHIP, after_cog: float = 311.0) -> list[str]:
    """Silent at 00:50 heading for Banghazi; back gap_min later at NEAR2, by default heading away."""
    return (pings(0, 6, 10, NEAR, cog=131.0, mmsi=mmsi)
            + pings(50 + gap_min, 6, 10, NEAR2, cog=after_cog, mmsi=mmsi))


def gaps(db: Path, rules: str = "gaps") -> list[dict]:
    result = run_cli(["detect", "--rules", rules], db)
    assert result.exit_code == 0, result.output
    rows = query(db, "SELECT kind, mmsi, start_utc, end_utc, port, details, evidence, segment FROM events "
                     "WHERE kind IN ('dark_period', 'ais_gap', 'implausible_gap') AND mmsi = ? "
                     "ORDER BY start_utc", [SHIP])
    return [{"kind": k, "mmsi": m, "start": s, "end": e, "port": p, "details": json.loads(d), "evidence": ev,
             "segment": seg} for k, m, s, e, p, d, ev, seg in rows]


def sentence(db: Path) -> str:
    result = run_cli(["vessel", str(SHIP), "--format", "json"], db)
    assert result.exit_code == 0, result.output
    timeline = json.loads(result.output)["timeline"]
    return " | ".join(t["summary"] for t in timeline if t["kind"] in ("dark_period", "ais_gap", "implausible_gap"))


def test_reception_live_at_both_ends_and_the_port_makes_a_dark_period_with_a_call(db: Path) -> None:
    ingest_lines(db, dark_approach() + span(-24 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    (e,) = gaps(db)
    assert e["kind"] == "dark_period" and e["port"] == "Banghazi" and e["segment"] == 0
    d = e["details"]
    assert d["coverage"]["status"] == "live" and d["probable_unreported_call"] is True
    assert "probable unreported call at Banghazi" in sentence(db)


def test_a_single_vessel_extract_gives_a_neutral_gap_with_coverage_unknown(db: Path) -> None:
    ingest_lines(db, dark_approach())  # nobody else in the store: nobody to compare with
    (e,) = gaps(db)
    d = e["details"]
    assert e["kind"] == "ais_gap" and d["coverage"]["status"] == "unknown"
    assert d["coverage"]["start"]["status"] == d["coverage"]["end"]["status"] == "unknown"
    assert d["probable_unreported_call"] is False and d["possible_call_port"] == "Banghazi"
    assert d["call_conditions"]["reception_live_near_port"] is False
    text = sentence(db)
    assert "reception unknown" in text and "switched off" not in text and "probable" not in text


def test_a_deaf_receiver_is_not_the_ships_silence(db: Path) -> None:
    """Another ship is always heard at Benghazi, except while the ship is silent (the local
    receiver was down); one off Malta keeps the archive itself live."""
    berth = span(-24 * 60, 0, BANGHAZI_BERTH, OTHER) + span(22 * 60, 48 * 60, BANGHAZI_BERTH, OTHER)
    ingest_lines(db, dark_approach() + berth + span(-24 * 60, 48 * 60, FAR, OTHER + 1))
    (e,) = gaps(db)
    d = e["details"]
    assert e["kind"] == "ais_gap" and d["coverage"]["status"] == "none"
    assert d["coverage"]["start"]["hours_heard"] == 0 and d["coverage"]["start"]["usual_share"] > 0.9
    assert d["probable_unreported_call"] is False
    assert "nobody else heard within 50 nm either" in sentence(db)


def test_a_gap_across_an_archive_hole_is_split_and_never_dark(db: Path) -> None:
    """Silent for 30 h; the store holds nothing at all from 08:30 to 16:00 (a hole in the archive)."""
    others = (span(-24 * 60, 8 * 60, BANGHAZI_BERTH, OTHER) + span(16 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    ingest_lines(db, dark_approach(30 * 60) + others)
    events = gaps(db)
    assert [e["kind"] for e in events] == ["ais_gap", "ais_gap"]
    before, after = events
    assert before["details"]["piece"] == "before_hole" and after["details"]["piece"] == "after_hole"
    assert before["start"] == T0 + timedelta(minutes=50) and before["end"] == T0 + timedelta(hours=9)
    assert after["start"] == T0 + timedelta(hours=16) and after["end"] == T0 + timedelta(hours=30, minutes=50)
    assert before["details"]["after"] is None and after["details"]["before"] is None
    assert len(before["evidence"]) == len(after["evidence"]) == 1
    assert before["details"]["probable_unreported_call"] is False
    # no event holds the hours in which nobody was heard
    for e in events:
        assert not (e["start"] < T0 + timedelta(hours=10) and e["end"] > T0 + timedelta(hours=15))
    assert "hole in the archive" in sentence(db)
    md = run_cli(["vessel", str(SHIP), "--format", "md"], db).output
    assert ("The archive holds nothing from anyone from 2018-02-20T09:00:00Z to 2018-02-20T16:00:00Z (7 h): "
            "nothing can be said of this ship then.") in md


def test_a_ship_sitting_in_port_that_reappears_where_it_was_has_an_in_port_gap(db: Path) -> None:
    """Moored at Benghazi (a port call), silent 20 h, back at the same berth: not a dark
    approach, not a call (the Boston case: 'probable call' while it moved 0.03 nm)."""
    berth = (32.1, 20.04)
    ship = (span(-10 * 60, 0, berth, SHIP, step_min=10) + span(20 * 60, 30 * 60, berth, SHIP, step_min=10))
    ingest_lines(db, ship + span(-24 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    (e,) = gaps(db, "port_call,gaps")
    d = e["details"]
    assert e["kind"] == "ais_gap" and d["in_port"] is True and d["in_port_call"] == "Banghazi"
    assert d["displacement_nm"] < 0.1 and d["probable_unreported_call"] is False
    assert "in-port gap" in sentence(db)


def test_ends_no_ship_could_join_are_a_clock_or_identity_problem(db: Path) -> None:
    # 600 nm in 17 h (35 kn): a cargo ship cannot; a high-speed craft (type 40) can
    lines = pings(0, 6, 10, NEAR, cog=131.0) + pings(50 + 17 * 60, 6, 10, (32.6, 7.5))
    fast = pings(0, 6, 10, NEAR, cog=131.0, mmsi=SHIP + 1) + pings(50 + 17 * 60, 6, 10, (32.6, 7.5), mmsi=SHIP + 1)
    lines += voyage(at(-30), ship_type=70) + fast + voyage(at(-30), mmsi=SHIP + 1, ship_type=40, seq_id=2)
    ingest_lines(db, lines + span(-24 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    (e,) = gaps(db)
    d = e["details"]
    assert e["kind"] == "implausible_gap" and d["implied_speed_kn"] > 30 and d["max_plausible_speed_kn"] == 30
    assert d["probable_unreported_call"] is False
    assert "a wrong clock or another transmitter" in sentence(db)
    fast_kind = query(db, "SELECT kind, details->>'max_plausible_speed_kn' FROM events WHERE mmsi = ?", [SHIP + 1])
    assert fast_kind == [("ais_gap", "60.0")]


@pytest.mark.parametrize(("after_cog", "missing"), [
    (131.0, "it was not shown leaving the port when it reappeared"),  # back heading for the port again
])
def test_the_dossier_names_the_call_conditions_that_do_not_hold(db: Path, after_cog: float, missing: str) -> None:
    ingest_lines(db, dark_approach(after_cog=after_cog) + span(-24 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    (e,) = gaps(db)
    d = e["details"]
    assert e["kind"] == "dark_period" and d["probable_unreported_call"] is False
    assert d["call_conditions"]["reappeared_heading_away"] is False
    text = sentence(db)
    assert "a call at Banghazi fits the time but is not claimed: " + missing in text


def test_a_ship_that_reappears_where_it_fell_silent_claims_no_call(db: Path) -> None:
    # under way at NEAR, silent 20 h, back at NEAR under way: where did it go? Nothing shows it.
    lines = pings(0, 6, 10, NEAR, cog=131.0) + pings(50 + 20 * 60, 6, 10, NEAR, cog=311.0)
    ingest_lines(db, lines + span(-24 * 60, 48 * 60, BANGHAZI_BERTH, OTHER))
    (e,) = gaps(db)
    d = e["details"]
    assert d["call_conditions"]["moved"] is False and d["probable_unreported_call"] is False
    assert "it reappeared where it went silent" in sentence(db)


def test_gaps_spanning_years_stay_bounded_in_memory(tmp_path: Path) -> None:
    """A store of 50 ships heard in January 2015 and again in January 2018 (every gap spans
    three years; the old rule expanded each gap into its hours and took 1.9 GB): detect runs
    in a child process whose address space is capped at 1.5 GB."""
    db = tmp_path / "years.duckdb"
    lines = []
    for k in range(50):
        where = (32.0 + 0.05 * k, 19.0)
        for year in ("2015", "2018"):
            start = parse_utc(f"{year}-01-10T00:00:00Z")
            lines += [ping(iso_utc(start + timedelta(minutes=30 * i)) or "", *where, mmsi=OTHER + k)
                      for i in range(250)]
    ingest_lines(db, lines)
    limit = 1536 * 1024 * 1024
    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "from shiptrack.cli import main\n"
            f"sys.exit(main(['--db', {str(db)!r}, 'detect', '--rules', 'gaps'], standalone_mode=False))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = query(db, "SELECT count(*), max(duration_h) FROM events WHERE kind IN ('dark_period', 'ais_gap')")
    # every three-year silence spans an archive hole (nobody heard for years): none is reported whole
    assert rows[0][1] is None or rows[0][1] < 24 * 30
