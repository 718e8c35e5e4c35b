"""Finding a vessel by MMSI, IMO, call sign, or current or former name."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shiptrack.errors import AmbiguousVessel, VesselNotFound
from shiptrack.vessels import find_vessel
from tests.conftest import ingest_lines, ping, voyage


@pytest.fixture
def store(db: Path) -> duckdb.DuckDBPyConnection:
    lines = [ping("2018-02-01T00:00:00Z", 44.7, 37.8, mmsi=352001234)]
    lines += voyage("2018-02-01T00:05:00Z", 352001234, name="URAL", callsign="3EXX7", imo=9000003)
    lines += voyage("2018-02-05T00:05:00Z", 352001234, name="URAL STAR", callsign="3EXX7", imo=9000003, seq_id=2)
    lines += [ping("2018-02-01T00:00:00Z", 35.0, 18.0, mmsi=636012345)]
    lines += voyage("2018-02-01T01:00:00Z", 636012345, name="SEA STAR", callsign="D5AA1", imo=9111113, seq_id=3)
    lines += [ping("2018-02-01T00:00:00Z", 36.0, 19.0, mmsi=538001111)]
    lines += voyage("2018-02-01T02:00:00Z", 538001111, name="SEA STAR", callsign="V7BB2", imo=9222221, seq_id=4)
    ingest_lines(db, lines)
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("text", ["352001234", "9000003", "IMO 9000003", "imo9000003", "3EXX7", "3exx 7",
                                  "URAL STAR", "ural star", "U R A L", "ural", " Ural "])
def test_every_way_of_naming_the_ural_finds_it(store: duckdb.DuckDBPyConnection, text: str) -> None:
    v = find_vessel(store, text)
    assert v.mmsi == 352001234 and v.name == "URAL STAR" and v.imo == 9000003 and v.flag == "Panama"


def test_ambiguous_name_lists_candidates(store: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(AmbiguousVessel) as err:
        find_vessel(store, "sea star")
    mmsis = {c["mmsi"] for c in err.value.candidates}
    assert mmsis == {636012345, 538001111}
    flags = {c["flag"] for c in err.value.candidates}
    assert flags == {"Liberia", "Marshall Islands"}
    assert err.value.exit_code == 2


def test_no_match_suggests_close_names(store: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(VesselNotFound) as err:
        find_vessel(store, "URALL")
    assert "URAL" in err.value.suggestions
    with pytest.raises(VesselNotFound):
        find_vessel(store, "999999999")


def test_investigating_loads_neither_decoders_nor_frames(store: duckdb.DuckDBPyConnection, db: Path) -> None:
    """`shiptrack vessel` starts without numba and its kernels, pyais, polars, numpy or
    Arrow (about 0.6 s of imports together), and without rich unless it draws a table:
    the dossier on a large store stays under a second with Python's start-up. Run as the
    real command, in a fresh interpreter."""
    import subprocess
    import sys

    store.close()  # the command opens the store itself
    code = ("import sys, contextlib, io; from shiptrack.cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    try:\n"
            "        main(sys.argv[1:])\n"
            "    except SystemExit as e:\n"
            "        assert not e.code, e.code\n"
            "assert 'URAL STAR' in out.getvalue(), out.getvalue()\n"
            "print(sorted(m for m in ('numba', 'pyais', 'shiptrack.store.load', 'polars', 'numpy', 'pyarrow',\n"
            "                         'rapidfuzz', 'rich') if m in sys.modules))")
    # rich only where it draws: JSON and Markdown are written without it
    for fmt, loaded in (("json", "[]"), ("md", "[]"), ("table", "['rich']")):
        out = subprocess.run([sys.executable, "-c", code, "--db", str(db), "vessel", "URAL", "--format", fmt],
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == loaded, (fmt, out.stdout, out.stderr)
