"""One clock per track (issue "Trust", item 3): each sentence keeps its own time and station,
or is a reject that says why. Real files through the real CLI; a few lines built with the
helpers of conftest where a rule needs a layout no real file has."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from shiptrack.decode.nmea import CLOCK_WINDOW_LINES, PGHP_WINDOW_LINES, nmea_checksum
from tests.audit import jumps_between_clocks
from tests.conftest import FIXTURES, ingest_lines, position, query, run_cli, tagged
from tests.decode.test_decode_paths import _decoded_lines

NMEA = FIXTURES / "nmea"
EXACT_EARTH = NMEA / "exact-earth-augmented-3.txt"
RECEIVER_LOG = NMEA / "ais.head12000.txt"
DMA = FIXTURES / "peer" / "dma-aislib" / "stream_example.txt"


def ingest(db: Path, *paths: Path, args: tuple[str, ...] = ()) -> str:
    result = run_cli(["ingest", *map(str, paths), *args], db)
    assert result.exit_code == 0, result.output
    return result.output


def rejects(db: Path) -> list[tuple]:
    return query(db, "SELECT line_no, reason, detail FROM rejects ORDER BY line_no, reason")


def stored(db: Path) -> list[tuple]:
    return query(db, "SELECT line_no, ts, station FROM positions UNION ALL "
                     "SELECT line_no, ts, station FROM static_reports ORDER BY line_no")


def detail_of(db: Path) -> str:
    return query(db, "SELECT format_detail FROM sources")[0][0]


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def pghp_line(t: datetime, names: int | None) -> str:
    """A Gatehouse $PGHP line for time ``t`` naming the message checksum ``names``."""
    body = (f"PGHP,1,{t.year},{t.month},{t.day},{t.hour},{t.minute},{t.second},{t.microsecond // 1000},"
            f"219,,2190047,1,{'' if names is None else f'{names:02X}'}")
    return f"${body}*{nmea_checksum(body):02X}"


def checksum_of(sentence: str) -> int:
    return int(sentence.split("*")[1][:2], 16)


# ------------------------------------------------------------------ tag blocks

# From the issue: a tag block whose sentence is corrupt ('%' for '!'), then a line whose tag
# block cannot be read ('|' for its closing '\'). Both used to give the second sentence
# the first line's time and station.
CORRUPT = r"\s:rOLD,c:1500000000*0D\%AIVDM,1,1,,A,139>Jh@P1T0eid0NqRP3Q2l1P000,0*4C"
UNREADABLE = r"\s:rNEW,c:1600000000*15|!AIVDM,1,1,,A,139>JhPP1T0jFb0ON:@3Q2l1P000,0*3C"
BARE = "!AIVDM,1,1,,A,139>JhPP1T0jFb0ON:@3Q2l1P000,0*3C"


def test_a_corrupt_sentence_lends_its_tag_block_to_no_other_line(db: Path) -> None:
    ingest_lines(db, [CORRUPT, UNREADABLE])
    assert stored(db) == []
    (l1, r1, d1), (l2, r2, d2) = rejects(db)
    assert (l1, r1, l2, r2) == (1, "bad_tagblock", 2, "bad_tagblock")
    assert "no readable sentence" in d1 and "cannot be read" in d2


def test_a_tag_block_alone_on_its_line_times_nothing(db: Path) -> None:
    timed = tagged(position(mmsi=211000001), 1600000000, "rA")
    ingest_lines(db, [timed, r"\s:rOLD,c:1500000000*0D\ ", BARE])
    assert stored(db) == [(1, utc(2020, 9, 13, 12, 26, 40), "rA")]
    assert [(n, r) for n, r, _ in rejects(db)] == [(2, "bad_tagblock"), (3, "no_timestamp")]
    assert "alone" in rejects(db)[0][2]


# ------------------------------------------------------------------ $PGHP and trailers

@pytest.fixture(scope="module")
def exact_earth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ee") / "ee.duckdb"
    ingest(db, EXACT_EARTH)
    result = run_cli(["detect"], db)
    assert result.exit_code == 0, result.output
    return db


def _pghps(path: Path) -> dict[int, list[tuple[int, datetime]]]:
    """The $PGHP lines of a file: the checksum each names -> (line, time)."""
    out: dict[int, list[tuple[int, datetime]]] = {}
    for n, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        f = line.split("*")[0].split(",")
        if f[0] == "$PGHP":
            y, mo, d, h, mi, s, ms = map(int, f[2:9])
            out.setdefault(int(f[-1], 16), []).append((n, datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC)))
    return out


def test_every_position_is_timed_by_the_pghp_that_names_it(exact_earth: Path) -> None:
    pghps = _pghps(EXACT_EARTH)
    rows = query(exact_earth, "SELECT line_no, ts, raw FROM positions")
    assert len(rows) > 2500
    for line_no, ts, raw in rows:
        named = [t for n, t in pghps.get(checksum_of(raw), []) if abs(n - line_no) <= PGHP_WINDOW_LINES]
        assert ts in named, (line_no, ts, raw)
        arrival = datetime.fromtimestamp(int(raw.rsplit(",", 1)[1]) / 1000, UTC)
        assert arrival - ts > timedelta(minutes=15)  # never the trailing arrival time


def test_a_message_with_only_the_arrival_time_is_a_reject_saying_why(exact_earth: Path) -> None:
    detail = detail_of(exact_earth)
    assert re.search(r"time from pghp \([\d,]+\); trailing times are another clock \(ground arrival\)", detail)
    assert "trailer (" not in detail and "WARNING" not in detail
    untimed = query(exact_earth, "SELECT detail, count(*) FROM rejects WHERE reason = 'no_timestamp' GROUP BY 1")
    [(why, n)] = untimed
    assert "ground-arrival clock" in why and "--time-from trailer" in why
    assert f"{n:,} rejected (no_timestamp) for a clock not trusted" in detail


def test_no_spoofing_jump_joins_two_clocks(exact_earth: Path) -> None:
    con = duckdb.connect(str(exact_earth), read_only=True)
    try:
        assert jumps_between_clocks(con) == []
    finally:
        con.close()
    # Before: 21 spoofing_jumps, the $PGHP and arrival times of one track interleaved. The one
    # left is MMSI 1193046 (0x123456, a default left in two transmitters 976 nm apart).
    jumps = query(exact_earth, "SELECT DISTINCT mmsi FROM events WHERE kind = 'spoofing_jump'")
    assert set(jumps) <= {(1193046,)}


def test_the_arrival_times_are_stored_when_asked_for(db: Path) -> None:
    ingest(db, EXACT_EARTH, args=("--time-from", "trailer"))
    n, lo = query(db, "SELECT count(*), min(ts) FROM positions")[0]
    assert n > 2800 and lo > utc(2012, 2, 2, 11)
    assert "rejected (no_timestamp) for a clock not trusted" not in detail_of(db)


def test_pghp_before_or_after_its_message_times_it_and_no_other(db: Path) -> None:
    a, b, c = (position(mmsi=211000000 + k) for k in (1, 2, 3))
    t = datetime(2012, 2, 2, 10, 0, 0, tzinfo=UTC)
    wrong = next(k for k in range(1, 256) if k not in {checksum_of(s) for s in (a, b, c)})
    lines = [pghp_line(t, checksum_of(b)), "$GPGSV,1,1,00*79", b,  # two lines before its message
             a, pghp_line(t + timedelta(seconds=5), checksum_of(a)),  # the line after it
             pghp_line(t + timedelta(seconds=9), wrong), c]  # names another message: c has no time
    ingest_lines(db, lines)
    assert [(n, ts) for n, ts, _ in stored(db)] == [(3, t), (4, t + timedelta(seconds=5))]
    assert [(n, r) for n, r, _ in rejects(db) if r != "not_ais"] == [(7, "no_timestamp")]
    assert "1 $PGHP lines named no message near them" in detail_of(db)


def test_dma_stream_keeps_its_pghp_before_each_message(db: Path) -> None:
    ingest(db, DMA)
    assert "time from pghp (4,051)" in detail_of(db)
    assert "no_timestamp" not in {r for _, r, _ in rejects(db)}


# ------------------------------------------------------------------ the receiver clock

RMC_1 = "$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D"  # gpsd ais-nmea.log
RMC_2 = "$GPRMC,213951.00,A,5250.53675,N,00542.34923,E,0.014,,070420,,,A*75"
GSV = "$GPGSV,3,3,10,28,26,288,31,32,38,065,41*7A"


def test_a_receiver_clock_times_only_unstamped_sentences_just_after_it(db: Path) -> None:
    s = [position(mmsi=211000000 + k) for k in range(5)]
    lines = [RMC_1, s[0]] + [GSV] * 2000 + [s[1],  # line 2003: 2002 lines after the clock
             RMC_2, tagged(s[2], None, "r1"),  # a tag block without c: never takes the clock
             tagged(s[3], 1586295600, "r1"),  # from here on the stream is timed by tag blocks
             RMC_1, s[4]]
    path = db.parent / "clock.nmea"
    path.write_text("\n".join(lines) + "\n")
    ingest(db, path, args=("--format", "nmea"))
    assert [(n, ts) for n, ts, _ in stored(db)] == [(2, utc(2020, 4, 7, 21, 39, 50)), (2006, utc(2020, 4, 7, 21, 40))]
    untimed = [(n, d) for n, r, d in rejects(db) if r == "no_timestamp"]
    assert [n for n, _ in untimed] == [2003, 2005, 2008]
    assert f"2002 lines before it, more than {CLOCK_WINDOW_LINES}" in untimed[0][1]
    assert untimed[1][1] is None  # its tag block says nothing of time
    assert "stream timed by tag blocks" in untimed[2][1]


def test_a_receiver_clock_that_disagrees_with_the_trailers_after_it_times_nothing(db: Path) -> None:
    s = [position(mmsi=211000000 + k) for k in range(4)]
    two_hours_off = int(utc(2020, 4, 7, 23, 39, 50).timestamp())
    lines = [RMC_1, s[0], f"{s[1]},{two_hours_off}", s[2], RMC_2, s[3]]
    out = ingest_lines(db, lines).output
    assert [(n, ts) for n, ts, _ in stored(db)] == [
        (3, utc(2020, 4, 7, 23, 39, 50)), (6, utc(2020, 4, 7, 21, 39, 51))]
    untimed = [(n, d) for n, r, d in rejects(db) if r == "no_timestamp"]
    assert [n for n, _ in untimed] == [2, 4]
    assert all("disagrees by 120 min with the trailing time of line 3" in d for _, d in untimed)
    detail = detail_of(db)
    assert "2 rejected (no_timestamp) for a clock not trusted" in detail
    assert "receiver clock checked against 1 trailing times: 1 differ by more than 5 min" in detail
    assert "warning:" in out and "2 different clocks" in out


def test_a_receiver_log_stays_timed_by_its_receiver_clock(db: Path) -> None:
    # amsa-risky/ais.txt (first 12,000 lines): the receiver's $GPRMC/$GPZDA, a trailing unix time on
    # some lines (the same clock, within seconds), and a satellite feed's $PGHP lines ~1 h 49 min
    # earlier. Each $PGHP now times only the message whose checksum it names (all of types not
    # stored here); before, it timed the next sentence whatever it was, which put three
    # terrestrial positions at 09:58.
    out = ingest(db, RECEIVER_LOG)
    detail = detail_of(db)
    counts = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+) \(([\d,]+)\)", detail.split(";")[1])}
    assert counts == {"rmc": 8883, "trailer": 197, "pghp": 9}  # before: 8,887, 197 and 5
    assert "receiver clock checked against 197 trailing times: all within 5 min" in detail
    assert "warning:" in out and "3 different clocks" in out
    assert query(db, "SELECT min(ts) FROM positions")[0][0] >= utc(2012, 1, 27, 11, 47)
    assert query(db, "SELECT line_no, ts FROM positions WHERE line_no IN (10091, 10101) ORDER BY 1") == [
        (10091, utc(2012, 1, 27, 11, 48, 29)), (10101, utc(2012, 1, 27, 11, 48, 29))]  # before: 09:58:51, 09:59:36


# ------------------------------------------------------------------ one result, however it is read

def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


@pytest.mark.parametrize("path", [EXACT_EARTH, RECEIVER_LOG], ids=lambda p: p.name)
def test_clock_decisions_do_not_depend_on_chunk_boundaries(path: Path) -> None:
    # (the reference path gives the same as one chunk: tests/decode/test_decode_paths.py runs every fixture)
    lines = _lines(path)
    ref = _decoded_lines(lines, True, 50_000)
    for batch in (37, 701):
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (batch, name)


def test_a_gzipped_file_gives_the_same_rows(tmp_path: Path) -> None:
    gz = tmp_path / "ee.txt.gz"
    gz.write_bytes(gzip.compress(EXACT_EARTH.read_bytes()))
    tables = []
    for src, db in ((EXACT_EARTH, tmp_path / "plain.duckdb"), (gz, tmp_path / "gz.duckdb")):
        ingest(db, src)
        tables.append([query(db, f"SELECT * EXCLUDE (source_id) FROM {t} ORDER BY ALL")
                       for t in ("positions", "static_reports", "rejects")])
    assert tables[0] == tables[1]


# ------------------------------------------------------------------ the bulk framer among clocks

def _clock_mix(seed: int, n: int) -> list[str]:
    """Everything the clocks look at, around the bulk framer's lines: first a stretch of
    untimed traffic (bare sentences, trailers, $PGHP lines naming a message a few lines
    before or after them, or none, receiver clocks, tag blocks alone), then blocks of
    tag-blocked traffic (which the bulk framer takes) with bare, prefixed and trailing lines
    among them, every other block with $PGHP and receiver-clock lines."""
    import random

    rng = random.Random(seed)
    t0 = 1518400000
    pool = [position(mmsi=211000000 + k, lat=30 + k / 7, lon=10 + k / 9) for k in range(40)]
    late = rng.choice([0, 3600])  # whether the trailers are the receive clock or an hour late
    out: list[str] = []
    recent: list[str] = []
    for i in range(n):
        t = t0 + i
        s = rng.choice(pool)
        block = -1 if i < 300 else ((i - 300) // 60) % 2  # -1 untagged, 0 tagged, 1 tagged among clocks
        r = rng.random()
        if block >= 0 and r < 0.6:
            out.append(tagged(s, t, rng.choice(["r0", "r1"])))
        elif block >= 0 and r < 0.63:
            out.append(f"{tagged(s, t, 'r2')},{(t + late) * 1000}")  # says which clock the trailer is
        elif r < 0.72:
            out.append(s)
            recent.append(s)
        elif r < 0.78:
            out.append(f"{s},{(t + late) * 1000}")
            recent.append(s)
        elif r < 0.80:
            out.append(f"{t}.5 {s}")
        elif r < 0.82:
            out.append(tagged(s, t, "r3").split("!")[0])  # a tag block alone
        elif r < 0.84:
            out.append(tagged(s, None, "r4"))  # a tag block without a time
        elif block != 0 and r < 0.94 and recent:
            when = datetime.fromtimestamp(t + rng.choice([-2, 0]), UTC)
            named = checksum_of(rng.choice(recent[-5:])) if rng.random() < 0.8 else None
            out.insert(max(0, len(out) - rng.randrange(4)), pghp_line(when, named))
        elif block != 0:
            when = datetime.fromtimestamp(t, UTC)
            body = f"GPRMC,{when:%H%M%S}.00,A,5250.5,N,00542.3,E,0.0,,{when:%d%m%y},,,A"
            out.append(f"${body}*{nmea_checksum(body):02X}")
        else:
            out.append(tagged(s, t))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_bulk_framer_matches_reference_among_clocks(seed: int) -> None:
    lines = _clock_mix(seed, 1500)
    ref = _decoded_lines(lines, False, 50_000)
    assert ref["positions"].height > 700
    for batch in (13, 37, 701):  # small chunks: some free of $ lines, where the bulk framer works
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (seed, batch, name, fast[name], ref[name])


def test_the_bulk_framer_tells_the_clocks_of_its_tag_block_times() -> None:
    # chunks of two lines: [clock, other] then [tag-blocked (bulk-framed), bare]: the bare
    # sentence comes after a tag-block time, so the receiver clock may not time it
    bare = position(mmsi=211000009)
    lines = [RMC_1, GSV, tagged(position(mmsi=211000008), 1586295590, "r1"), bare]
    ref = _decoded_lines(lines, False, 50_000)
    fast = _decoded_lines(lines, True, 2)
    for name in ref:
        assert fast[name].equals(ref[name], null_equal=True), name
    assert ref["positions"].select("line_no", "ts").rows() == [(3, utc(2020, 4, 7, 21, 39, 50)), (4, None)]


def test_a_damaged_tag_block_lends_its_sentence_to_no_other_line(tmp_path: Path) -> None:
    """':' turned into '\\' inside a tag block makes two tag blocks in a row: the sentence after
    them must not be framed without its time and station, nor joined to the next line's part
    (which carries both)."""
    lines = ["\\s:rRUS01,c\\1517458645*17\\!AIVDM,2,1,5,A,5815GM02=vPiKM1KT010tq@T>1HuT4LE8000001@I0dFF40HtD3SmSlSlljF,0*65",
             "\\s:rRUS01,c:1517458645*17\\!AIVDM,2,2,5,A,Djh00000000,2*57"]
    db = tmp_path / "d.duckdb"
    path = tmp_path / "d.nmea"
    path.write_text("\n".join(lines) + "\n")
    assert run_cli(["ingest", path], db).exit_code == 0
    assert query(db, "SELECT count(*) FROM static_reports") == [(0,)]
    assert query(db, "SELECT line_no, reason FROM rejects ORDER BY line_no") == [(1, "bad_tagblock"),
                                                                                 (2, "orphan_fragment")]
