"""What a line is, and how long it may be.

* Line numbers are the lines ``sed -n 'Np'`` prints, whatever the line endings: a line ends at
  ``\\n`` only; the ``\\r`` just before it are dropped from its text; a lone ``\\r`` inside a line
  stays in it (the line is then garbage, kept as a reject); a BOM on line 1 is dropped; the last
  line needs no ``\\n``.
* A line longer than 1 MiB is a ``line_too_long`` reject holding its first 1 KiB, read through in
  bounded memory (also inside .gz, .bz2 and .zip): a 100 MB line or a gzip bomb (1 MB holding one
  1 GiB line) costs no more memory than a normal ingest, and the rest of the file is stored.
"""

from __future__ import annotations

import bz2
import gzip
import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from shiptrack.read.chunks import LONG_LINE_HEAD, MAX_LINE_BYTES, read_chunks
from shiptrack.read.sources import expand_inputs
from tests.conftest import ROOT, position, query, run_cli, tagged

T0 = 1518400000


def good(i: int, mmsi: int = 352001234) -> str:
    return tagged(position(mmsi=mmsi, lat=34.0 + i / 1000, lon=18.0), T0 + 60 * i, "rA")


def sed(path: Path, n: int) -> bytes:
    """Line ``n`` as ``sed -n 'Np'`` prints it, without its \\n."""
    out = subprocess.run(["sed", "-n", f"{n}p", str(path)], capture_output=True, check=True).stdout
    return out[:-1] if out.endswith(b"\n") else out


def test_line_numbers_are_seds_whatever_the_line_endings(tmp_path: Path, db: Path) -> None:
    body = [
        b"\xef\xbb\xbf" + good(0).encode() + b"\r\n",   # 1: BOM, CRLF
        good(1).encode() + b"\r\r\n",                     # 2: CR CR LF
        good(2).encode()[:30] + b"\r" + good(2).encode()[30:] + b"\n",  # 3: a lone CR inside: one line
        good(3).encode() + b"\n",                         # 4
        b"\r\n",                                          # 5: empty
        good(4).encode() + b"\r" + good(5).encode() + b"\r\n",  # 6: two sentences and a CR: one line
        good(6).encode() + b"\r\r\r\n",                   # 7
        b"\r\r\n",                                        # 8: empty
        good(7).encode(),                                 # 9: no final newline
    ]
    path = tmp_path / "endings.nmea"
    path.write_bytes(b"".join(body))
    assert int(subprocess.run(["sed", "-n", "$=", str(path)], capture_output=True, check=True).stdout) == 9
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    stored = dict(query(db, "SELECT line_no, raw FROM positions"))
    rejects = {r[0]: r[1:] for r in query(db, "SELECT line_no, reason, raw FROM rejects")}
    assert sorted(stored) == [1, 2, 4, 7, 9] and sorted(rejects) == [3, 5, 6, 8]
    for n, raw in stored.items():  # the raw text is the line sed prints, less its CRs and BOM
        assert raw.encode() == sed(path, n).rstrip(b"\r").removeprefix(b"\xef\xbb\xbf"), n
    assert rejects[3][0] == rejects[6][0] == "garbage"  # a control character inside the line
    assert rejects[3][1] == sed(path, 3).decode().encode("unicode_escape").decode()
    assert rejects[5][0] == rejects[8][0] == "empty_line"
    assert query(db, "SELECT lines_read FROM sources")[0][0] == 9
    # the reader and Source.lines() agree with sed on every line, whatever the block size
    expected = [(n, sed(path, n).rstrip(b"\r").decode().removeprefix("\ufeff")) for n in range(1, 10)]
    assert list(expand_inputs([str(path)])[0].lines()) == expected
    for block in (1, 3, 7, 64, 1 << 20):
        with path.open("rb") as f:
            got = [(int(c.line_nos[i]), c.text(i)) for c in read_chunks(f, block) for i in range(len(c))]
        assert got == expected, block


def test_decode_cites_seds_lines_in_a_real_file_with_crlf(tmp_path: Path) -> None:
    """A real file rewritten with \\r\\r\\n endings: every cited line is the line sed prints."""
    lines = (ROOT / "fixtures" / "nmea" / "norwegian.raw").read_bytes().split(b"\n")
    path = tmp_path / "crcrlf.raw"
    path.write_bytes(b"\r\r\n".join(ln.rstrip(b"\r") for ln in lines if ln))
    out = subprocess.run([sys.executable, "-m", "shiptrack", "decode", str(path)], capture_output=True,
                         text=True, check=True, cwd=tmp_path).stdout
    records = [json.loads(x) for x in out.splitlines()]
    assert len({r["line_no"] for r in records}) > 150
    for r in records:
        first = r["raw"].split("\n")[0]
        assert first.encode() in sed(path, r["line_no"]), r


def _child_ingest(db: Path, path: Path, cap: int | None = None) -> tuple[int, str, dict[str, int]]:
    """Ingest in a child process, its address space capped at ``cap`` bytes; returns its exit
    code, output, and its peak virtual size and resident set (VmPeak, VmHWM, in kB)."""
    code = (
        "import resource, sys\n"
        + (f"resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n" if cap else "")
        + "from shiptrack.cli import main\n"
        "try:\n"
        f"    code = main(['--db', {str(db)!r}, 'ingest', {str(path)!r}], standalone_mode=False)\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
        "print('PEAK', status['VmPeak'].split()[0], status['VmHWM'].split()[0])\n"
        "sys.exit(code or 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    peak = [ln.split() for ln in done.stdout.splitlines() if ln.startswith("PEAK")]
    mem = {"vm_kb": int(peak[0][1]), "rss_kb": int(peak[0][2])} if peak else {}
    return done.returncode, done.stdout + done.stderr, mem


def _normal_and_long(tmp_path: Path, name: str, long_line: bytes | None, writer) -> Path:  # noqa: ANN001
    path = tmp_path / name
    with writer(path) as f:
        f.write(("\n".join(good(i) for i in range(1000)) + "\n").encode())
        if long_line is not None:
            f.write(long_line)
        f.write(("\n".join(good(i) for i in range(1000, 2000)) + "\n").encode())
    return path


def _check_long_line_stored_around(db: Path, length: int) -> None:
    assert query(db, "SELECT count(*), min(line_no), max(line_no) FROM positions")[0] == (2000, 1, 2001)
    ((line, reason, raw, detail),) = query(db, "SELECT line_no, reason, raw, detail FROM rejects")
    assert (line, reason, len(raw)) == (1001, "line_too_long", LONG_LINE_HEAD)
    assert detail == (f"a line of {length:,} bytes, longer than the {MAX_LINE_BYTES:,}-byte limit; "
                      f"its first {LONG_LINE_HEAD:,} bytes are kept")
    assert json.loads(query(db, "SELECT line_counts FROM sources")[0][0])["rejected"] == 1


@pytest.mark.slow
def test_a_100_mb_line_takes_no_more_memory_than_a_normal_ingest(tmp_path: Path) -> None:
    """The same file with and without a 100 MB line in the middle, each ingested in a child
    process: the long line is a reject, the 2,000 lines around it are stored, and the child
    that read it peaked at no more memory than the one that did not (+64 MB), its address
    space capped at what the normal ingest reached plus 256 MB (before: 1.2 GB, and the file
    failed: DuckDB could not allocate a 100 MB string)."""
    head = b"\\s:rA,c:1518400000*00\\!AIVDM,1,1,,A,"
    line = head + b"1" * (100 << 20) + b",0*00\n"
    normal = _normal_and_long(tmp_path, "normal.nmea", None, lambda p: p.open("wb"))
    code, out, base = _child_ingest(tmp_path / "n.duckdb", normal)
    assert code == 0, out
    longer = _normal_and_long(tmp_path, "long.nmea", line, lambda p: p.open("wb"))
    code, out, mem = _child_ingest(tmp_path / "l.duckdb", longer, cap=(base["vm_kb"] << 10) + (256 << 20))
    assert code == 0, out
    assert mem["rss_kb"] < base["rss_kb"] + 64 * 1024, (mem, base)
    _check_long_line_stored_around(tmp_path / "l.duckdb", len(line) - 1)


@pytest.mark.slow
def test_a_gzip_bomb_line_takes_no_more_memory_than_a_normal_ingest(tmp_path: Path) -> None:
    """A 1 MB .gz holding one line of 1 GiB between 2,000 good lines (before: 10.7 GB of memory,
    2.5 minutes, and nothing stored)."""
    def bomb(path: Path):  # noqa: ANN202
        class Writer:
            def __init__(self) -> None:
                self.f = path.open("wb")
                self.co = zlib.compressobj(9, zlib.DEFLATED, 31)

            def __enter__(self):  # noqa: ANN204
                return self

            def write(self, data: bytes) -> None:
                self.f.write(self.co.compress(data))

            def __exit__(self, *exc: object) -> None:
                self.f.write(self.co.flush())
                self.f.close()
        return Writer()

    normal = _normal_and_long(tmp_path, "normal.nmea.gz", None, bomb)
    code, out, base = _child_ingest(tmp_path / "n.duckdb", normal)
    assert code == 0, out
    path = tmp_path / "bomb.nmea.gz"
    w = bomb(path)
    with w:
        w.write(("\n".join(good(i) for i in range(1000)) + "\n").encode())
        block = b"A" * (1 << 24)
        for _ in range(64):
            w.write(block)
        w.write(b"\n" + ("\n".join(good(i) for i in range(1000, 2000)) + "\n").encode())
    assert path.stat().st_size < 2 << 20
    code, out, mem = _child_ingest(tmp_path / "b.duckdb", path, cap=(base["vm_kb"] << 10) + (256 << 20))
    assert code == 0, out
    assert mem["rss_kb"] < base["rss_kb"] + 64 * 1024, (mem, base)
    _check_long_line_stored_around(tmp_path / "b.duckdb", 1 << 30)


@pytest.mark.parametrize("kind", ["plain", "gz", "bz2", "zip"])
def test_a_long_line_is_a_reject_in_every_container(tmp_path: Path, db: Path, kind: str) -> None:
    """A 3 MB line (longer than a read block holds after the line before it) and a 1.5 MB one,
    in a plain file, a .gz, a .bz2 and a zip member: each a reject with its head, the lines
    around them stored."""
    lines = [good(i).encode() for i in range(10)]
    long1 = b"\\s:rA,c:1518400000*00\\!AIVDM,1,1,,A," + b"x" * (3 << 20)
    long2 = b"\xef" + b"y" * (3 << 19)
    data = b"\n".join([*lines[:4], long1, *lines[4:8], long2, *lines[8:]]) + b"\n"
    path = tmp_path / f"long.{kind}"
    if kind == "gz":
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path.write_bytes(bz2.compress(data))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("day/long.nmea", data)
    else:
        path.write_bytes(data)
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    assert [r[0] for r in query(db, "SELECT line_no FROM positions ORDER BY 1")] == [1, 2, 3, 4, 6, 7, 8, 9, 11, 12]
    rows = query(db, "SELECT line_no, reason, raw, detail FROM rejects ORDER BY 1")
    assert [(r[0], r[1]) for r in rows] == [(5, "line_too_long"), (10, "line_too_long")]
    assert rows[0][2] == long1[:LONG_LINE_HEAD].decode() and f"{len(long1):,} bytes" in rows[0][3]
    # an undecodable byte is shown escaped, as in a garbage reject
    assert rows[1][2] == "\\ufffd" + "y" * (LONG_LINE_HEAD - 1) and f"{len(long2):,} bytes" in rows[1][3]
    assert "line_too_long" in result.output


def test_a_long_line_in_an_archive_is_a_reject(tmp_path: Path, db: Path) -> None:
    rows = (ROOT / "fixtures" / "archives" / "noaa_sample.csv").read_bytes().splitlines()
    data = b"\n".join([*rows[:3], b"3" * (2 << 20), *rows[3:]]) + b"\n"
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    assert run_cli(["ingest", path], db).exit_code == 0
    assert query(db, "SELECT reason, length(raw) FROM rejects WHERE line_no = 4") == [
        ("line_too_long", LONG_LINE_HEAD)]
    assert query(db, "SELECT count(*) FROM positions WHERE line_no IN (2, 3, 5)")[0][0] == 3
