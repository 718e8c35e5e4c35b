"""identity_change: a new name, call sign or IMO under one MMSI; an IMO under a new MMSI."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.conftest import ingest_lines, ping, query, run_cli, voyage

PANAMA = 352001234
CAMEROON = 613004321


def detect(db: Path, *params: str) -> list[dict]:
    args = ["detect", "--rules", "identity_change"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, db)
    assert result.exit_code == 0, result.output
    rows = query(db, "SELECT mmsi, other_mmsi, strftime(start_utc, '%Y-%m-%dT%H:%M:%SZ'), details, evidence "
                     "FROM events WHERE kind = 'identity_change' ORDER BY start_utc, mmsi")
    return [{"mmsi": r[0], "other_mmsi": r[1], "start_utc": r[2], **json.loads(r[3]),
             "evidence": [(e["source_id"], e["line_no"]) for e in r[4]]} for r in rows]


def reports(mmsi: int, days: list[int], seq: list[int], **kw) -> list[str]:
    """Type 5 reports on 2018-02-<day> 00:05Z, one per day."""
    lines: list[str] = []
    for day, s in zip(days, seq, strict=True):
        lines += voyage(f"2018-02-{day:02d}T00:05:00Z", mmsi, seq_id=s % 10, **kw)
    return lines


def test_name_change_gives_one_event_with_both_names(db: Path) -> None:
    lines = [ping("2018-02-01T00:00:00Z", 44.7, 37.8, 0.0)]
    lines += reports(PANAMA, [1, 2], [1, 2], name="URAL")
    lines += reports(PANAMA, [3, 4], [3, 4], name="  ural  express ")  # normalised: URAL EXPRESS
    ingest_lines(db, lines)
    events = detect(db)
    assert len(events) == 1
    e = events[0]
    assert (e["mmsi"], e["other_mmsi"], e["field"], e["old"], e["new"]) == (PANAMA, None, "name", "URAL",
                                                                         "URAL EXPRESS")
    assert e["start_utc"] == "2018-02-03T00:05:00Z"
    assert e["old_last_report_utc"] == "2018-02-02T00:05:00Z" and e["new_first_report_utc"] == "2018-02-03T00:05:00Z"
    assert (e["old_reports"], e["new_reports"]) == (2, 2)
    assert e["old_flag"] == e["new_flag"] == "Panama" and e["flag_changed"] is False
    # evidence: the last report of the old name (line 4: ping + 2 sentences) and the first of the new (line 6)
    assert e["evidence"] == [(1, 4), (1, 6)]


def test_call_sign_change(db: Path) -> None:
    lines = reports(PANAMA, [1, 2], [1, 2], callsign="3EAB1")
    lines += reports(PANAMA, [5, 6], [3, 4], callsign="3eab2")
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e["field"], e["old"], e["new"], e["start_utc"]) for e in events] == [
        ("callsign", "3EAB1", "3EAB2", "2018-02-05T00:05:00Z")]


def test_imo_change_under_one_mmsi(db: Path) -> None:
    lines = reports(PANAMA, [1, 2], [1, 2], imo=9000003)
    lines += reports(PANAMA, [3, 4], [3, 4], imo=9000015)
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e["field"], e["old"], e["new"], e["mmsi"]) for e in events] == [("imo", "9000003", "9000015", PANAMA)]


def test_imo_under_a_new_mmsi_gives_both_flags(db: Path) -> None:
    lines = [ping("2018-02-01T00:00:00Z", 44.7, 37.8, 0.0, mmsi=PANAMA),
             ping("2018-02-10T00:00:00Z", 4.0, 9.6, 0.0, mmsi=CAMEROON)]
    lines += reports(PANAMA, [1, 2], [1, 2], name="URAL", imo=9000003)
    lines += reports(CAMEROON, [10, 11], [3, 4], name="URAL", imo=9000003)
    ingest_lines(db, lines)
    events = detect(db)
    assert len(events) == 1
    e = events[0]
    assert (e["mmsi"], e["other_mmsi"], e["field"]) == (CAMEROON, PANAMA, "mmsi")
    assert (e["old"], e["new"], e["imo"]) == (str(PANAMA), str(CAMEROON), 9000003)
    assert (e["old_flag"], e["old_flag_iso2"], e["new_flag"], e["new_flag_iso2"]) == ("Panama", "PA", "Cameroon", "CM")
    assert e["flag_changed"] is True and e["old_seen_again"] is False
    assert (e["old_name"], e["new_name"]) == ("URAL", "URAL")
    assert e["old_last_report_utc"] == "2018-02-02T00:05:00Z"
    assert e["start_utc"] == e["new_first_report_utc"] == "2018-02-10T00:05:00Z"
    assert e["evidence"] == [(1, 5), (1, 7)]  # after the two pings: old's 2nd report, new's 1st
    # the report of another engineer reads field/old/new and other_mmsi from these events
    assert query(db, "SELECT other_mmsi, json_extract_string(details, '$.new') FROM events") == [
        (PANAMA, str(CAMEROON))]


def test_no_change_gives_nothing(db: Path) -> None:
    lines = reports(PANAMA, [1, 2, 3], [1, 2, 3], name="URAL", callsign="3EAB1")
    lines += reports(PANAMA, [4], [4], name="ural ", callsign=" 3eab1")  # same after normalising
    ingest_lines(db, lines)
    assert detect(db) == []


def test_one_garbled_report_is_noise_unless_min_reports_is_1(db: Path) -> None:
    """Decision: A A X A A is no change by default (X seen once); with min_identity_reports=1 it is two."""
    lines = reports(PANAMA, [1, 2], [1, 2], name="URAL")
    lines += reports(PANAMA, [3], [3], name="URAK")
    lines += reports(PANAMA, [4, 5], [4, 5], name="URAL")
    ingest_lines(db, lines)
    assert detect(db) == []
    events = detect(db, "min_identity_reports=1")
    assert [(e["old"], e["new"], e["start_utc"]) for e in events] == [
        ("URAL", "URAK", "2018-02-03T00:05:00Z"), ("URAK", "URAL", "2018-02-04T00:05:00Z")]


def test_new_value_seen_once_at_the_end_is_not_yet_a_change(db: Path) -> None:
    lines = reports(PANAMA, [1, 2], [1, 2], name="URAL") + reports(PANAMA, [3], [3], name="NEW")
    ingest_lines(db, lines)
    assert detect(db) == []
    assert [e["new"] for e in detect(db, "min_identity_reports=1")] == ["NEW"]


def test_imo_with_a_bad_check_digit_or_used_as_placeholder_links_no_mmsis(db: Path) -> None:
    lines = reports(PANAMA, [1, 2], [1, 2], imo=9000004)  # check digit of 900000x is 3
    lines += reports(CAMEROON, [3, 4], [3, 4], imo=9000004)
    for i in range(6):  # 1234567 passes its check digit but six MMSIs broadcast it
        lines += reports(273000100 + i, [5 + i, 12 + i], [i, i + 1], imo=1234567)
    ingest_lines(db, lines)
    assert [e for e in detect(db) if e["field"] == "mmsi"] == []


def test_two_mmsis_using_one_imo_at_once(db: Path) -> None:
    lines = reports(PANAMA, [1, 2, 5, 6], [1, 2, 5, 6], imo=9000003)
    lines += reports(CAMEROON, [3, 4], [3, 4], imo=9000003)
    ingest_lines(db, lines)
    events = detect(db)
    # each ordered pair once: Panama -> Cameroon on the 3rd, Cameroon -> Panama on the 5th
    assert [(e["mmsi"], e["other_mmsi"], e["start_utc"], e["old_seen_again"]) for e in events] == [
        (CAMEROON, PANAMA, "2018-02-03T00:05:00Z", True), (PANAMA, CAMEROON, "2018-02-05T00:05:00Z", False)]


def test_shuffled_input_gives_identical_events(db: Path, tmp_path: Path) -> None:
    lines = reports(PANAMA, [1, 2], [1, 2], name="URAL", imo=9000003)
    lines += reports(PANAMA, [3, 4], [3, 4], name="URAL 2", callsign="X1", imo=9000003)
    lines += reports(CAMEROON, [5, 6], [5, 6], name="URAL 2", imo=9000003)
    ingest_lines(db, lines)
    detect(db)
    expected = query(db, "SELECT event_id, mmsi, other_mmsi, start_utc, details FROM events ORDER BY event_id")
    assert len(expected) == 3
    # same messages, sentence pairs kept together, in another order and split over two files
    messages = [lines[i:i + 2] for i in range(0, len(lines), 2)]
    random.Random(7).shuffle(messages)
    other = tmp_path / "other" / "s.duckdb"
    other.parent.mkdir()
    half = len(messages) // 2
    ingest_lines(other, [s for m in messages[half:] for s in m], name="b.nmea")
    ingest_lines(other, [s for m in messages[:half] for s in m], name="a.nmea")
    detect(other)
    got = query(other, "SELECT event_id, mmsi, other_mmsi, start_utc, details FROM events ORDER BY event_id")
    assert got == expected


def test_a_name_that_comes_back_is_several_identities_not_a_rename(db: Path) -> None:
    """A, B, A on one MMSI (a copied or default MMSI, two ships): the event says so, and the
    dossier does not say the ship was renamed. A one-way change stays a change."""
    lines = reports(PANAMA, [1, 2], [1, 2], name="URAL")
    lines += reports(PANAMA, [3, 4], [3, 4], name="AKADEMIK")
    lines += reports(PANAMA, [5, 6], [5, 6], name="URAL")
    lines += reports(CAMEROON, [1, 2], [7, 8], name="DOUALA STAR")
    lines += reports(CAMEROON, [3, 4], [9, 0], name="DOUALA SUN")
    ingest_lines(db, lines)
    events = detect(db)
    by = {(e["mmsi"], e["old"], e["new"]): e for e in events}
    assert by[(PANAMA, "URAL", "AKADEMIK")]["shared_identity"] is True
    assert by[(PANAMA, "URAL", "AKADEMIK")]["old_seen_again"] is True
    assert by[(CAMEROON, "DOUALA STAR", "DOUALA SUN")]["shared_identity"] is False
    out = run_cli(["vessel", str(PANAMA), "--format", "json"], db).output
    summaries = [t["summary"] for t in json.loads(out)["timeline"]]
    assert "name broadcast as 'URAL', then 'AKADEMIK' (the old one came back later): several identities on one " \
           "MMSI, not shown to be one ship renamed" in summaries
    assert not any("changed from 'URAL' to 'AKADEMIK'" in s for s in summaries)


def test_an_mmsi_in_no_ships_format_is_several_identities(db: Path) -> None:
    default = 1193046  # 0x123456, a transponder's default setting, shared by many ships
    lines = reports(default, [1, 2], [1, 2], name="NAUTICAST") + reports(default, [3, 4], [3, 4], name="THALIA")
    ingest_lines(db, lines)
    (e,) = detect(db)
    assert e["mmsi_is_ship_format"] is False and e["shared_identity"] is True


def test_a_destination_change_on_a_shared_mmsi_says_so(db: Path) -> None:
    default = 1193046
    lines = voyage("2018-02-01T00:05:00Z", default, destination="CASABLANCA", seq_id=1)
    lines += voyage("2018-02-01T06:05:00Z", default, destination="ANCHORAGE", seq_id=2)
    lines += voyage("2018-02-01T00:05:00Z", PANAMA, destination="SFAX", seq_id=3)
    lines += voyage("2018-02-01T06:05:00Z", PANAMA, destination="DOUALA", seq_id=4)
    ingest_lines(db, lines)
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    rows = dict(query(db, "SELECT mmsi, details->>'shared_mmsi' FROM events WHERE kind = 'destination_change'"))
    assert rows == {default: "true", PANAMA: "false"}
    out = run_cli(["vessel", str(PANAMA), "--format", "json"], db).output
    assert "destination changed from 'SFAX' to 'DOUALA'" in [t["summary"] for t in json.loads(out)["timeline"]]



def test_a_destination_retyped_is_not_told_as_a_new_one(db: Path) -> None:
    """At most 2 characters of 5 or more differ: the finding says it may be a correction."""
    lines = voyage("2018-02-01T00:05:00Z", PANAMA, destination="TORES STRAIT", seq_id=1)
    lines += voyage("2018-02-01T06:05:00Z", PANAMA, destination="TORRES STRAIT", seq_id=2)
    lines += voyage("2018-02-02T00:05:00Z", PANAMA, destination="DOUALA", seq_id=3)
    ingest_lines(db, lines)
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    out = run_cli(["events", "--kind", "destination_change", "--format", "json"], db).output
    assert [e["finding"] for e in json.loads(out)] == [
        "destination changed from 'TORES STRAIT' to 'TORRES STRAIT' (1 character differs: a typing correction, "
        "or another place of a similar name)",
        "destination changed from 'TORRES STRAIT' to 'DOUALA'"]


def test_destinations_and_names_of_ground_arrival_times_are_given_no_order(tmp_path: Path) -> None:
    """exactEarth's real file with --time-from trailer: its static reports are kept at their
    ground-arrival times, 2 h uncertain, and every change there falls within 2 h: which value
    came first is not known, so no finding says "changed from A to B"."""
    db = tmp_path / "ee.duckdb"
    path = Path(__file__).resolve().parents[2] / "fixtures" / "nmea" / "exact-earth-augmented-3.txt"
    assert run_cli(["ingest", "--time-from", "trailer", path], db).exit_code == 0
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    events = json.loads(run_cli(["events", "--kind", "destination_change", "--format", "json"], db).output)
    assert len(events) == 15 and all(e["details"]["order_uncertain"] for e in events)
    findings = {e["mmsi"]: e["finding"] for e in events}
    assert findings[477143900] == ("destination broadcast as 'TAURANGA NZ' and as 'INCHEON S.KOREA', closer in time "
                                   "than the times are known (perhaps ground-arrival times): which came first is "
                                   "not known")
    assert not any("changed from" in f for f in findings.values())
    assert run_cli(["detect", "--rules", "identity_change"], db).exit_code == 0
    names = [e for e in json.loads(run_cli(["events", "--kind", "identity_change", "--format", "json"], db).output)
             if e["details"]["field"] == "name"]
    assert {(e["details"]["old"], e["details"]["new"]) for e in names} == {("THALIA", "NAUTICAST"),
                                                                           ("NAUTICAST", "GAOXING8")}
    for e in names:  # 1193046's names, minutes apart in arrival time
        assert e["details"]["order_uncertain"] is True
        assert "which came first is not known; perhaps several identities on one MMSI" in e["finding"]


def test_an_mmsi_of_fewer_digits_finds_its_vessel(db: Path) -> None:
    ingest_lines(db, reports(1193046, [1, 2], [1, 2], name="NAUTICAST", imo=9000003))
    result = run_cli(["vessel", "1193046", "--format", "json"], db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["vessel"]["mmsi"] == 1193046
