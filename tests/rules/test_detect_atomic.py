"""`shiptrack detect` is one transaction and gives the same bytes on the same store.

Killed with SIGKILL at several points, the store shows exactly the events it had before
or exactly the complete new ones, never a mix; two identical stores give byte-identical
events (means are summed exactly, so a parallel sum's order cannot move the last digit).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import query

pytestmark = pytest.mark.slow

EVENTS = ("SELECT event_id, kind, mmsi, segment, start_utc, end_utc, lat, lon, port, CAST(details AS VARCHAR), "
          "CAST(evidence AS VARCHAR) FROM events ORDER BY event_id")


@pytest.fixture(scope="module")
def ural(ural_store: Path) -> Path:
    return ural_store  # read only: each test detects on copies of it


def detect_cmd(db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "shiptrack", "--db", str(db), "detect", *extra]


def test_detect_killed_at_any_point_leaves_the_old_events_or_all_the_new(ural: Path, tmp_path: Path) -> None:
    old = query(ural, EVENTS)
    changed = ["--param", "min_gap_h=3", "--param", "port_call.min_duration_h=2"]  # a run whose events differ
    complete = tmp_path / "complete.duckdb"
    shutil.copy(ural, complete)
    t0 = time.monotonic()
    subprocess.run(detect_cmd(complete, *changed), check=True, capture_output=True)
    took = time.monotonic() - t0
    new = query(complete, EVENTS)
    assert new != old
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    seen = set()
    for share in (0.15, 0.35, 0.55, 0.75, 0.9):
        db = tmp_path / f"killed_{share}.duckdb"
        shutil.copy(ural, db)
        proc = subprocess.Popen(detect_cmd(db, *changed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        time.sleep(took * share)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = query(db, EVENTS)
        assert after in (old, new), f"killed at {share:.0%} of a run: a mix of old and new events"
        seen.add("old" if after == old else "new")
    assert "old" in seen  # the kills did land inside the run


def test_identical_stores_give_byte_identical_events(ural: Path, tmp_path: Path) -> None:
    runs = []
    for k in range(3):
        db = tmp_path / f"copy{k}.duckdb"
        shutil.copy(ural, db)
        subprocess.run(detect_cmd(db), check=True, capture_output=True)
        runs.append(query(db, EVENTS))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0] == query(ural, EVENTS)
