"""The compiled loops (shiptrack.decode.accel.kernels): the ahead-of-time module and the JIT give the
same results on real files; an argument the AOT build was not made for takes the JIT
path instead of being misread; a module built from other sources is not used; the AOT
loops release the GIL; and an ingest with them never imports numba."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from shiptrack.decode.accel import dedup, kernels
from shiptrack.decode.accel.kernels import KERNELS, dispatcher

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
BUILT = importlib.util.find_spec(kernels.AOT_MODULE) is not None
needs_aot = pytest.mark.skipif(not BUILT or bool(os.environ.get("SHIPTRACK_JIT")),
                               reason="shiptrack.decode.accel._kernels not built (make kernels), or SHIPTRACK_JIT set")


def _run(args: list[str], jit: bool, **kw: object) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SHIPTRACK_JIT"}
    if jit:
        env["SHIPTRACK_JIT"] = "1"
    return subprocess.run([sys.executable, "-m", "shiptrack", *args], capture_output=True, text=True,
                          check=True, env=env, cwd=ROOT, **kw)  # type: ignore[call-overload]


@needs_aot
def test_the_built_module_is_used_when_it_matches_the_sources() -> None:
    assert kernels.mode() == "aot"
    assert all(isinstance(getattr(importlib.import_module(m), f), kernels._Checked) for m, f, _ in KERNELS.values())


FILES = [FIXTURES / "ural" / "ural.nmea", *sorted(p for p in (FIXTURES / "nmea").glob("*") if p.suffix != ".md")]


@needs_aot
@pytest.mark.parametrize("path", [FIXTURES / "ural" / "ural.nmea", FIXTURES / "nmea"], ids=lambda p: p.name)
def test_aot_and_jit_decode_alike(path: Path) -> None:
    """Every record `shiptrack decode` prints (positions, static and base-station reports,
    rejects with their reasons), from the Ural fixture and the folder of real samples."""
    aot = _run(["decode", str(path), "--format", "jsonl"], jit=False).stdout
    jit = _run(["decode", str(path), "--format", "jsonl"], jit=True).stdout
    assert aot == jit
    kinds = {json.loads(line)["record"] for line in aot.splitlines()}
    assert {"position", "static"} <= kinds


@needs_aot
def test_aot_and_jit_stores_are_identical(tmp_path: Path) -> None:
    """Keys, de-duplication and provenance too: every stored row, ingesting several files."""
    files = [str(p) for p in FILES if p.is_file()]
    tables = {}
    for jit in (False, True):
        db = tmp_path / f"{jit}.duckdb"
        _run(["--db", str(db), "ingest", *files], jit=jit)
        con = duckdb.connect(str(db), read_only=True)
        tables[jit] = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
                       for t in ("positions", "static_reports", "base_stations", "rejects")}
        con.close()
    assert tables[False] == tables[True]
    assert len(tables[False]["positions"]) > 1000


@needs_aot
def test_an_argument_of_another_type_takes_the_jit_path() -> None:
    """The AOT loop would misread these (pycc checks no types); the check sends them to
    the JIT build, which gives the right answer."""
    fill = dedup._fill_slots
    assert isinstance(fill, kernels._Checked)
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**63, 2000, dtype=np.uint64)
    want = np.zeros(4096, dtype=np.int64)
    fill(keys, want)  # the AOT build
    assert fill.fallbacks == 0 and (want > 0).sum() == keys.size
    cases = [
        (np.repeat(keys, 2)[::2], np.zeros(4096, dtype=np.int64)),  # not contiguous
        (keys.astype(np.int64), np.zeros(4096, dtype=np.int64)),  # another dtype (signed)
        (keys, np.zeros(4096, dtype=np.int32)),  # another dtype (the slots)
    ]
    for args in cases:
        before = fill.fallbacks
        fill(*args)
        assert fill.fallbacks == before + 1
    assert np.array_equal(cases[0][1], want)
    assert np.array_equal(cases[1][1], want)
    assert np.array_equal(cases[2][1], want.astype(np.int32))
    readonly_out = np.zeros(4096, dtype=np.int64)
    readonly_out.setflags(write=False)
    with pytest.raises(Exception):  # noqa: B017, PT011 - numba refuses to write a read-only array
        fill(keys, readonly_out)
    assert not readonly_out.any()


@needs_aot
def test_a_module_built_from_other_sources_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    kernels._aot_module.cache_clear()
    monkeypatch.setattr(kernels, "fingerprint", lambda: 1)
    try:
        with pytest.warns(RuntimeWarning, match="make kernels"):
            assert kernels.mode() == "jit"
        assert kernels.compiled("fill_slots", "lazy") == "lazy"  # type: ignore[arg-type]
    finally:
        monkeypatch.undo()
        kernels._aot_module.cache_clear()
    assert kernels.mode() == "aot"


@needs_aot
def test_aot_loops_release_the_gil() -> None:
    """While one thread runs a long AOT loop, another keeps running Python: the longest
    pause it sees is well under the loop's duration (it would be all of it with the GIL)."""
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**63, 3_000_000, dtype=np.uint64)
    for _ in range(3):  # a busy machine can starve the watcher once
        slots = np.zeros(1 << 23, dtype=np.int64)
        stamps: list[float] = []
        done = threading.Event()

        def watch(stamps: list[float] = stamps, done: threading.Event = done) -> None:
            while not done.is_set():
                stamps.append(time.perf_counter())

        w = threading.Thread(target=watch)
        w.start()
        time.sleep(0.02)
        t0 = time.perf_counter()
        dedup._fill_slots(keys, slots)
        t1 = time.perf_counter()
        done.set()
        w.join()
        inside = [t for t in stamps if t0 <= t <= t1]
        gaps = np.diff([t0, *inside, t1])
        if t1 - t0 > 0.05 and gaps.max() < (t1 - t0) / 2:
            return
    pytest.fail(f"the longest pause was {gaps.max():.3f} s of a {t1 - t0:.3f} s loop")


@needs_aot
def test_ingest_with_the_built_module_never_imports_numba(tmp_path: Path) -> None:
    """Nor pyarrow.compute (40 ms at the start of every ingest, for one cast it avoids)."""
    code = ("import sys; from shiptrack.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('numba', 'llvmlite', 'pyarrow.compute') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, "--db", str(tmp_path / "s.duckdb"), "ingest",
                          str(FIXTURES / "ural" / "ural.nmea")], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
    assert "positions stored" in out.stdout


def test_the_jit_build_is_the_same_code() -> None:
    """Every kernel named in KERNELS is a marked function of its module, and its JIT
    dispatcher compiles for the argument types the AOT module is built with."""
    from shiptrack.decode.accel.build import _numba_type

    for module, function, args in KERNELS.values():
        lazy = getattr(importlib.import_module(module), function)
        jitted = dispatcher(lazy.py_func)
        argtypes = tuple(_numba_type(a) for a in args)
        jitted.compile(argtypes)
        assert argtypes in jitted.overloads
