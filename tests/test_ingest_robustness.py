"""Bad input never crashes a run nor loses the good lines around it; re-ingesting
adds nothing; a message heard twice is stored once; a killed ingest leaves the
store consistent and the file can simply be ingested again."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, encode, position, query, run_cli, tagged

T0 = 1518400000  # 2018-02-12T01:46:40Z


def write(path: Path, lines: list[str], bom: bool = False, junk: bytes | None = None) -> Path:
    data = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    raw = data.encode()
    if junk is not None:
        raw += junk + b"\n"
    path.write_bytes(raw)
    return path


def good_lines(n: int, mmsi: int = 352001234, t0: int = T0) -> list[str]:
    return [tagged(position(mmsi=mmsi, lat=34.0 + i / 100, lon=18.0), t0 + 60 * i, "rA") for i in range(n)]


def test_every_reject_reason_is_counted_and_kept(tmp_path: Path, db: Path) -> None:
    ok = good_lines(6)
    t5 = encode({"type": 5, "mmsi": 352001234, "shipname": "URAL", "destination": "DOUALA"}, seq_id=3)
    flipped = ok[0].replace("!AIVDM,1,1,,A,1", "!AIVDM,1,1,,B,1")  # checksum no longer matches
    bad_tag = ok[2].replace("s:rA", "s:rQ")  # tag-block checksum no longer matches
    lines = [
        ok[0],
        "",                                            # empty_line
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",  # not_ais
        flipped,                                       # bad_checksum
        bad_tag,                                       # bad_tagblock
        tagged("!AIVDM,1,1,,A,15?dLlPP1T1BIL0", T0, "rA"),  # truncated
        tagged("!AIVDM,1,1,,A,15?dLl~~1T1BIL0CM7P3Q2l1P000,0*00", T0, "rA"),  # bad checksum/payload
        tagged(t5[1], T0 + 5, "rA"),                   # orphan_fragment (part 2 without part 1)
        position(),                                    # no_timestamp (bare sentence)
        tagged(position(lat=95.0), T0 + 7, "rA"),      # bad_lat
        tagged(position(lon=-190.0), T0 + 8, "rA"),    # bad_lon
        tagged(position(course=361.0), T0 + 9, "rA"),  # bad_cog
        tagged(position(heading=400), T0 + 10, "rA"),  # bad_heading
        tagged(position(mmsi=0), T0 + 11, "rA"),       # bad_mmsi
        tagged(position(), 91518400060, "rA"),         # bad_timestamp (year 4870)
        tagged(position(lat=91.0, lon=181.0), T0 + 12, "rA"),  # not available: stored, NULL
        *ok[2:],
    ]
    path = write(tmp_path / "bad.nmea", lines, bom=True, junk=b"\x00\xff\xfe binary \x01 junk")
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    reasons = dict(query(db, "SELECT reason, count(*) FROM rejects GROUP BY 1"))
    assert reasons == {
        "empty_line": 1, "not_ais": 1, "bad_checksum": 2, "bad_tagblock": 1, "truncated": 1,
        "orphan_fragment": 1, "no_timestamp": 1, "bad_lat": 1, "bad_lon": 1, "bad_cog": 1,
        "bad_heading": 1, "bad_mmsi": 1, "garbage": 1, "bad_timestamp": 1,
    }
    # good lines around the bad ones are all stored (the BOM line included), plus the n/a one,
    # plus the two whose course or heading is out of range: kept, with that field NULL
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 5 + 1 + 2
    assert query(db, "SELECT count(*) FROM positions WHERE cog IS NULL")[0][0] == 1  # the 361
    assert query(db, "SELECT count(*) FROM positions WHERE heading IS NULL")[0][0] == 1  # the 400
    assert query(db, "SELECT detail FROM rejects WHERE reason = 'bad_heading'")[0][0] == (
        "heading=400; position kept with heading NULL")
    assert query(db, "SELECT count(*) FROM positions WHERE lat IS NULL AND lon IS NULL")[0][0] == 1
    assert query(db, "SELECT min(line_no) FROM positions")[0][0] == 1
    # every reject keeps its line number and raw text
    rows = query(db, "SELECT line_no, raw FROM rejects ORDER BY line_no")
    assert [r[0] for r in rows] == sorted({r[0] for r in rows})
    assert all(r[1] is not None for r in rows if r[0] != 2)
    assert query(db, "SELECT raw FROM rejects WHERE reason = 'garbage'")[0][0].startswith("\\x00")
    assert query(db, "SELECT detail FROM rejects WHERE reason = 'bad_lat'")[0][0] == "lat=95.0"


def test_reingesting_the_same_file_adds_nothing(tmp_path: Path, db: Path) -> None:
    path = write(tmp_path / "a.nmea", good_lines(20))
    first = run_cli(["ingest", path], db)
    before = query(db, "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM sources), "
                       "(SELECT count(*) FROM rejects)")
    second = run_cli(["ingest", path], db)
    assert first.exit_code == second.exit_code == 0
    assert "already ingested as source #1" in second.output and "nothing added" in second.output
    assert query(db, "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM sources), "
                     "(SELECT count(*) FROM rejects)") == before == [(20, 1, 0)]


def test_same_message_from_two_receivers_is_stored_once(tmp_path: Path, db: Path) -> None:
    lines = []
    for i, line in enumerate(good_lines(10)):
        lines.append(line)
        sentence = line.split("\\")[-1]
        lines.append(tagged(sentence, T0 + 60 * i + 1, "rB"))  # heard again 1 s later
    # the same payload 3 minutes later is a new transmission (a moored Class B repeats)
    lines.append(tagged(good_lines(1)[0].split("\\")[-1], T0 + 180 + 3 * 3600, "rA"))
    path = write(tmp_path / "two.nmea", lines)
    out = run_cli(["ingest", path], db).output
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 11
    assert query(db, "SELECT duplicates FROM sources")[0][0] == 10
    assert query(db, "SELECT count(DISTINCT station) FROM positions")[0][0] == 1
    assert "duplicates skipped" in out
    # an overlapping file (another export of the same feed) adds nothing new either
    other = write(tmp_path / "overlap.nmea", [tagged(ln.split("\\")[-1], T0 + 60 * i + 2, "rC")
                                              for i, ln in enumerate(good_lines(10))])
    run_cli(["ingest", other], db)
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 11


def test_multipart_duplicates_from_two_receivers_interleaved(tmp_path: Path, db: Path) -> None:
    parts = encode({"type": 5, "mmsi": 352001234, "shipname": "URAL", "callsign": "3EXX7",
                    "destination": "DOUALA", "imo": 9000001}, seq_id=4)
    bare = [parts[0], parts[0], parts[1], parts[1]]  # no station: merged feed, interleaved
    lines = [f"{T0 + i}.0 {s}" for i, s in enumerate(bare)]
    path = write(tmp_path / "dup5.nmea", lines)
    run_cli(["ingest", path], db)
    assert query(db, "SELECT name, destination, imo FROM static_reports") == [("URAL", "DOUALA", 9000001)]
    assert query(db, "SELECT count(*) FROM rejects")[0][0] == 0
    assert query(db, "SELECT duplicates FROM sources")[0][0] == 2


@pytest.mark.parametrize("kind", ["gz", "bz2", "zip", "stdin", "folder"])
def test_compressed_stdin_and_folders(tmp_path: Path, db: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    src = FIXTURES / "nmea" / "norwegian.raw"
    data = src.read_bytes()
    if kind == "gz":
        path = tmp_path / "n.raw.gz"
        path.write_bytes(gzip.compress(data))
        result = run_cli(["ingest", path], db)
    elif kind == "bz2":
        path = tmp_path / "n.raw.bz2"
        path.write_bytes(bz2.compress(data))
        result = run_cli(["ingest", path], db)
    elif kind == "zip":
        path = tmp_path / "n.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("day1/norwegian.raw", data)
        result = run_cli(["ingest", path], db)
    elif kind == "stdin":
        (tmp_path / "spool").mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spool"))
        result = run_cli(["ingest", "-", "--source", "kystverket-feed"], db, input=data)
        assert not any((tmp_path / "spool").iterdir())  # the copy of stdin is removed
    else:
        (tmp_path / "f" / "sub").mkdir(parents=True)
        (tmp_path / "f" / "sub" / "n.raw").write_bytes(data)
        (tmp_path / "f" / ".hidden").write_text("ignored")
        result = run_cli(["ingest", tmp_path / "f"], db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 136
    name = query(db, "SELECT name FROM sources")[0][0]
    expected = {"zip": "n.zip!day1/norwegian.raw", "stdin": "kystverket-feed", "folder": "n.raw"}
    assert name.endswith(expected.get(kind, path.name if kind in ("gz", "bz2") else ""))
    # the identity is the SHA-256 of the bytes read from disk (a zip member: its name and bytes)
    read = {"gz": lambda: path.read_bytes(), "bz2": lambda: path.read_bytes(),
            "zip": lambda: b"day1/norwegian.raw" + data}.get(kind, lambda: data)()
    assert query(db, "SELECT sha256 FROM sources")[0][0] == hashlib.sha256(read).hexdigest()
    if kind != "stdin":
        again = run_cli(["ingest", path if kind != "folder" else tmp_path / "f"], db)
        assert "already ingested as source #1" in again.output
        assert query(db, "SELECT count(*) FROM sources")[0][0] == 1


def test_identity_of_a_file_read_once(tmp_path: Path, db: Path) -> None:
    """A file of a size the store has not seen is hashed while it is decoded (one read);
    one of a size it has seen is hashed first, so that the same file again adds nothing."""
    def lines(mmsi: int) -> list[str]:
        return [tagged(position(mmsi=mmsi, lat=34.0 + (i % 5000) / 1000, lon=18.0), T0 + 60 * i, "rA")
                for i in range(20_000)]

    a = write(tmp_path / "a.nmea", lines(352001234))
    b = write(tmp_path / "b.nmea", lines(352001235))  # the same size, other bytes
    assert Path(a).stat().st_size == Path(b).stat().st_size > (1 << 20)  # several read blocks
    for path in (a, b, b, a):
        result = run_cli(["ingest", path], db)
        assert result.exit_code == 0, result.output
    rows = query(db, "SELECT name, sha256, lines_read, size_bytes FROM sources ORDER BY source_id")
    assert [(r[0], r[1]) for r in rows] == [
        (str(p), hashlib.sha256(Path(p).read_bytes()).hexdigest()) for p in (a, b)]
    assert [r[2] for r in rows] == [20_000, 20_000]
    assert query(db, "SELECT count(*), count(DISTINCT source_id) FROM positions")[0] == (40_000, 2)


def test_missing_file_is_one_line_error(db: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(db), "ingest", "nope.nmea"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "shiptrack: nope.nmea: no such file or directory"
    assert "Traceback" not in result.stderr


def test_unrecognised_format_is_a_clear_error(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\nnothing to see\n")
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 1
    assert "cannot recognise the format" in result.output and "--input-format" in result.output


def big_file(path: Path, n: int) -> Path:
    """n tag-blocked position reports, one second apart: 1,000 distinct payloads cycling
    (a payload comes back every 1,000 s, so none is a duplicate), checksums computed in bulk."""
    import numpy as np
    import polars as pl

    from shiptrack.decode.accel.vframe import _xor_of

    pool = [position(mmsi=211000000 + k % 500, lat=30 + k / 100, lon=10 + (k % 70) / 10) for k in range(1000)]
    tags = pl.Series([f"s:r{i % 3},c:{T0 + i}" for i in range(n)])
    cs = _xor_of(tags)
    with path.open("w") as f:
        for i, (tag, c) in enumerate(zip(tags.to_list(), cs.tolist(), strict=True)):
            f.write(f"\\{tag}*{c:02X}\\{pool[i % 1000]}\n")
    assert np.all(cs >= 0)
    return path


@pytest.mark.slow
def test_killed_ingest_leaves_store_consistent_and_reingest_is_clean(tmp_path: Path) -> None:
    db = tmp_path / "kill.duckdb"
    small = write(tmp_path / "small.nmea", good_lines(5, mmsi=211000001))
    n = 1_000_000
    big = big_file(tmp_path / "big.nmea", n)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    assert subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(db), "ingest", str(small)],
                          env=env, capture_output=True).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "shiptrack", "--db", str(db), "ingest", str(big)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill once the ingest has started writing to the database (file or WAL grows), mid-transaction
    def size() -> int:
        return sum(p.stat().st_size for p in (db, Path(str(db) + ".wal")) if p.exists())

    start = size()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and size() < start + 1_000_000:
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed: make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the store opens, holds exactly the first file, and nothing of the killed one
    assert query(db, "SELECT count(*) FROM sources") == [(1,)]
    assert query(db, "SELECT count(*), count(DISTINCT source_id) FROM positions") == [(5, 1)]
    assert query(db, "SELECT count(*) FROM rejects") == [(0,)]
    done = subprocess.run([sys.executable, "-m", "shiptrack", "--db", str(db), "ingest", str(big)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT count(*) FROM sources") == [(2,)]
    assert query(db, "SELECT count(*) FROM positions") == [(n + 5,)]


def test_ingest_settings_are_given_back(tmp_path: Path) -> None:
    """An ingest narrows DuckDB's memory and threads while it writes, then restores them
    (a library user's connection keeps its own settings), and has DuckDB keep 128 MB of
    blocks rather than fault fresh pages in."""
    from shiptrack.ingest import INGEST_BLOCK_MEMORY, _bytes, ingest
    from shiptrack.store.db import connect

    con = connect(tmp_path / "s.duckdb")
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '1GB'")
    settings = "SELECT current_setting('threads'), current_setting('memory_limit')"
    before = con.sql(settings).fetchall()
    summary = ingest(con, [str(write(tmp_path / "a.nmea", good_lines(50)))])
    assert summary.ok and summary.total().positions == 50
    after = con.sql(settings).fetchall()
    assert after[0][0] == before[0][0]
    # DuckDB shows the limit rounded to 0.1 MiB, and that is what can be set back
    assert abs(_bytes(after[0][1]) - _bytes(before[0][1])) <= 0.11 * 2**20
    # all but the block allocator's memory, which DuckDB cannot lower again
    kept = con.sql("SELECT current_setting('block_allocator_memory')").fetchall()[0][0]
    assert _bytes(kept) >= 0.99 * _bytes(INGEST_BLOCK_MEMORY)
    con.close()


def test_command_exits_quickly_with_its_output_and_code(tmp_path: Path, db: Path) -> None:
    """``python -m shiptrack`` (like the ``shiptrack`` script) leaves with os._exit after the
    command: its output is all there, its exit code kept, the store closed and complete."""
    src = FIXTURES / "nmea" / "norwegian.raw"
    cmd = [sys.executable, "-m", "shiptrack", "--db", str(db)]
    ok = subprocess.run([*cmd, "ingest", str(src)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().splitlines()[-1].startswith("Store now holds")
    assert not db.with_name(db.name + ".wal").exists()  # checkpointed and closed
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 136
    notes = tmp_path / "notes.txt"
    notes.write_text("dear diary\n")
    failed = subprocess.run([*cmd, "ingest", str(notes)], capture_output=True, text=True)
    assert failed.returncode == 1 and "nothing stored from it" in failed.stdout
    # a reader that stops early (| head) ends the output without a traceback
    with subprocess.Popen([*cmd, "decode", str(src)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stdout.readline().startswith(b"{")
        proc.stdout.close()
        assert proc.wait(timeout=60) in (0, 1)
        assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
