"""The compiled decoder's loop is generated from the field tables (shiptrack.decode.accel.generate).

``fast.py`` must hold the loop the tables make now; and adding a field really is its line in
a table and the command: on a copy of the package with one line added, the generated loop,
the pyais reference path and the records all carry the new column, with pyais's values on a
real file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from shiptrack.decode.accel import generate
from tests.conftest import FIXTURES, ROOT


def test_fast_py_holds_the_loop_the_tables_make() -> None:
    assert generate.current(generate.FAST.read_text()) == generate.loop()
    done = subprocess.run([sys.executable, "-m", "shiptrack.decode.accel.generate", "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "the loop is the field tables' already" in done.stderr


# Run in the copy: decode a real file on both paths; the positions of types 1-3 as JSON.
_SCRIPT = r"""
import json, sys
import polars as pl
from shiptrack.decode.stream import decode_nmea
lines = [(i, t.rstrip("\r\n")) for i, t in enumerate(open(sys.argv[1], errors="replace"), 1)]
out = {}
for fast in (True, False):
    pos = pl.concat([b.positions for b in decode_nmea(lines, fast=fast)]).filter(pl.col("msg_type") <= 3)
    out[str(fast)] = pos.sort("line_no").select("line_no", "dedup", "raim", "lat", "sog").rows()
print(json.dumps(out))
"""

RAIM = '    F("raim", 148, 1, "flag", column="raim", dtype="bool"),\n'


def _bit(payload: str, k: int) -> int:
    """Bit ``k`` of an armoured payload, read here without shiptrack or pyais."""
    v = ord(payload[k // 6]) - 48
    v = v - 8 if v > 40 else v
    return (v >> (5 - k % 6)) & 1


def test_a_new_field_is_one_line_and_the_command(tmp_path: Path) -> None:
    copy = tmp_path / "shiptrack"
    shutil.copytree(ROOT / "shiptrack", copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    table = copy / "decode" / "fields.py"
    text = table.read_text()
    anchor = '    F("second", 137, 6, na=60),\n)\n\n# Types 18'  # the end of CLASS_A
    assert anchor in text
    table.write_text(text.replace(anchor, anchor.replace("na=60),\n", "na=60),\n" + RAIM, 1)))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "SHIPTRACK_JIT": "1",
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, env=env)

    stale = run("-m", "shiptrack.decode.accel.generate", "--check")
    assert stale.returncode == 1 and "run python -m shiptrack.decode.accel.generate" in stale.stderr
    assert run("-m", "shiptrack.decode.accel.generate").returncode == 0
    assert run("-m", "shiptrack.decode.accel.generate", "--check").returncode == 0
    fast_py = (copy / "decode" / "accel" / "fast.py").read_text()
    assert "p_raim[r] = _get(six, *_1_RAIM) != 0" in fast_py

    done = run("-c", _SCRIPT, str(FIXTURES / "nmea" / "ais-nmea.log"))
    assert done.returncode == 0, done.stderr
    paths = json.loads(done.stdout)
    assert paths["True"] == paths["False"]  # the compiled loop gives what pyais gives
    rows = paths["True"]
    assert len(rows) == 137
    assert [r[2] for r in rows] == [bool(_bit(r[1], 148)) for r in rows]
    assert sum(r[2] for r in rows) == 48  # the file's RAIM flags: set on 48 of its reports

