"""One bad input never stops the others: a corrupt zip member or compressed stream, an
encrypted member, a file or folder that cannot be read, a FIFO or a broken link is one
'failed' line for it; every other member and file is ingested, and the exit status is 1."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, position, query, tagged

T0 = 1518400000


def lines(mmsi: int, n: int = 50) -> bytes:
    return ("\n".join(tagged(position(mmsi=mmsi, lat=34.0 + i / 1000, lon=18.0), T0 + 60 * i, "rA")
                      for i in range(n)) + "\n").encode()


def run(db: Path, *paths: Path, privileged: bool = True) -> subprocess.CompletedProcess[str]:
    """The real command in a child process. ``privileged`` False: as root, without the
    capabilities that let root read files whatever their permissions (so chmod 000 bites)."""
    cmd = [sys.executable, "-m", "shiptrack", "--db", str(db), "ingest", *map(str, paths)]
    if not privileged and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


def failed_lines(out: str) -> dict[str, str]:
    return {ln.split(": failed: ")[0]: ln.split(": failed: ")[1] for ln in out.splitlines() if ": failed: " in ln}


def _patch_member(path: Path, name: str, patch) -> None:  # noqa: ANN001
    """Apply ``patch(data, local header offset, central header offset)`` to a zip's bytes."""
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    entries, at = struct.unpack_from("<H", data, eocd + 10)[0], struct.unpack_from("<I", data, eocd + 16)[0]
    for _ in range(entries):  # the central directory, entry by entry
        n, m, k = struct.unpack_from("<HHH", data, at + 28)
        local = struct.unpack_from("<I", data, at + 42)[0]
        if data[at + 46 : at + 46 + n] == name.encode():
            patch(data, local, at)
            path.write_bytes(bytes(data))
            return
        at += 46 + n + m + k
    raise AssertionError(name)


def _data_offset(data: bytearray, local: int) -> int:
    n, m = struct.unpack_from("<HH", data, local + 26)
    return local + 30 + n + m


def test_a_corrupt_member_or_stream_fails_alone(tmp_path: Path) -> None:
    zpath = tmp_path / "day.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("a.nmea", lines(352000001), zipfile.ZIP_DEFLATED)
        zf.writestr("b_crc.nmea", lines(352000002), zipfile.ZIP_STORED)
        zf.writestr("c_deflate.nmea", lines(352000003, 2000), zipfile.ZIP_DEFLATED)
        zf.writestr("d_encrypted.nmea", lines(352000004), zipfile.ZIP_DEFLATED)
        zf.writestr("e_method.nmea", lines(352000005), zipfile.ZIP_DEFLATED)
        zf.writestr("f.nmea", lines(352000006), zipfile.ZIP_DEFLATED)

    def flip(data: bytearray, local: int, central: int) -> None:  # damage the member's bytes
        at = _data_offset(data, local) + 200
        data[at : at + 40] = bytes(b ^ 0x5A for b in data[at : at + 40])

    def encrypted(data: bytearray, local: int, central: int) -> None:
        for off in (local + 6, central + 8):
            struct.pack_into("<H", data, off, struct.unpack_from("<H", data, off)[0] | 1)

    def method(data: bytearray, local: int, central: int) -> None:
        struct.pack_into("<H", data, local + 8, 99)
        struct.pack_into("<H", data, central + 10, 99)

    _patch_member(zpath, "b_crc.nmea", flip)
    _patch_member(zpath, "c_deflate.nmea", flip)
    _patch_member(zpath, "d_encrypted.nmea", encrypted)
    _patch_member(zpath, "e_method.nmea", method)
    gz = gzip.compress(lines(352000007, 3000))
    bad_gz = tmp_path / "corrupt.nmea.gz"
    bad_gz.write_bytes(gz[:2000] + bytes(b ^ 0x5A for b in gz[2000:2100]) + gz[2100:])
    cut_gz = tmp_path / "truncated.nmea.gz"
    cut_gz.write_bytes(gz[: len(gz) // 2])
    not_zip = tmp_path / "broken.zip"
    not_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    good = tmp_path / "good.nmea"
    good.write_bytes(lines(352000009))

    db = tmp_path / "s.duckdb"
    done = run(db, zpath, bad_gz, cut_gz, not_zip, good)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    failed = failed_lines(done.stdout)
    z = str(zpath)
    assert set(failed) == {f"{z}!b_crc.nmea", f"{z}!c_deflate.nmea", f"{z}!d_encrypted.nmea",
                           f"{z}!e_method.nmea", str(bad_gz), str(cut_gz), str(not_zip)}, done.stdout
    assert failed[f"{z}!b_crc.nmea"].startswith("cannot read: BadZipFile: Bad CRC-32")
    assert failed[f"{z}!d_encrypted.nmea"].startswith("the member is encrypted")
    assert failed[f"{z}!e_method.nmea"].startswith("the member's compression method (99) cannot be read")
    assert failed[str(cut_gz)].startswith("cannot read: EOFError")
    assert failed[str(not_zip)].startswith("not a readable zip archive")
    assert all(v.endswith("(nothing stored from it)") for v in failed.values())
    # the others are stored, each whole
    assert query(db, "SELECT mmsi, count(*) FROM positions GROUP BY 1 ORDER BY 1") == [
        (352000001, 50), (352000006, 50), (352000009, 50)]
    assert query(db, "SELECT count(*) FROM sources")[0][0] == 3


def test_unreadable_files_and_folders_are_reported(tmp_path: Path) -> None:
    """In a folder: a file and a subfolder without permission (chmod 000: as root, the ingest
    runs without the capabilities that bypass permissions), a FIFO (never opened: it could
    block for ever), a broken symbolic link. Each is a failed line; the readable files are
    ingested; the exit status is 1."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permissions cannot be made to apply")
    top = tmp_path / "feeds"
    (top / "sub").mkdir(parents=True)
    (top / "locked").mkdir()
    (top / "a.nmea").write_bytes(lines(352000001))
    (top / "sub" / "b.nmea").write_bytes(lines(352000002))
    (top / "locked" / "c.nmea").write_bytes(lines(352000003))
    (top / "secret.nmea").write_bytes(lines(352000004))
    os.mkfifo(top / "pipe.nmea")
    (top / "gone.nmea").symlink_to(top / "nowhere.nmea")
    (top / ".hidden").write_text("skipped")
    os.chmod(top / "secret.nmea", 0)
    os.chmod(top / "locked", 0)
    db = tmp_path / "s.duckdb"
    try:
        done = run(db, top, privileged=False)
    finally:
        os.chmod(top / "locked", stat.S_IRWXU)
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in out, out
    failed = failed_lines(done.stdout)
    assert failed == {
        str(top / "gone.nmea"): "a broken symbolic link (nothing stored from it)",
        str(top / "locked"): "cannot read folder: Permission denied (nothing stored from it)",
        str(top / "pipe.nmea"): "not a regular file (a FIFO): not read (nothing stored from it)",
        str(top / "secret.nmea"): "cannot read: Permission denied (nothing stored from it)",
    }, out
    assert query(db, "SELECT mmsi FROM positions GROUP BY 1 ORDER BY 1") == [(352000001,), (352000002,)]


def test_an_unreadable_file_on_the_command_line_fails_alone(tmp_path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permissions cannot be made to apply")
    secret, good = tmp_path / "secret.nmea", tmp_path / "good.nmea"
    secret.write_bytes(lines(352000004))
    good.write_bytes(lines(352000001))
    os.chmod(secret, 0)
    db = tmp_path / "s.duckdb"
    done = run(db, secret, good, privileged=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert failed_lines(done.stdout) == {str(secret): "cannot read: Permission denied (nothing stored from it)"}
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 50


def test_a_pipe_on_the_command_line_is_read_like_stdin(tmp_path: Path) -> None:
    """`shiptrack ingest <(zcat day.gz)`: a pipe given as a path is read once, as '-' is."""
    good = tmp_path / "good.nmea"
    good.write_bytes(lines(352000001))
    db = tmp_path / "s.duckdb"
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m shiptrack --db {db} ingest <(cat {good})"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 50


def test_a_device_on_the_command_line_is_not_read(tmp_path: Path) -> None:
    good = tmp_path / "good.nmea"
    good.write_bytes(lines(352000001))
    db = tmp_path / "s.duckdb"
    done = run(db, Path("/dev/zero"), good)
    assert done.returncode == 1, done.stdout + done.stderr
    assert failed_lines(done.stdout) == {
        "/dev/zero": "not a regular file (a character device): not read (nothing stored from it)"}
    assert query(db, "SELECT count(*) FROM positions")[0][0] == 50
