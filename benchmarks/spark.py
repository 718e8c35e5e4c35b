"""The Spark engine against the DuckDB engine, in one run: ingest and detect on one corpus.

    .venv/bin/python benchmarks/spark.py                     # `make bench-spark`: 1M positions
    .venv/bin/python benchmarks/spark.py --positions 10000000  # the issue's 10M (about 10x longer)
    .venv/bin/python benchmarks/spark.py --positions 50000 --quick   # the script works

The corpus (benchmarks/corpus.py) is cut into ``--files`` files (Spark ingests one file
per task). DuckDB: ``shiptrack ingest`` and ``shiptrack detect`` on a store. Spark, for
``local[1]``, ``local[2]`` and a standalone cluster of two workers of one core each on this
machine: a new lake, ``ingest --engine spark`` and ``detect --engine spark`` (the library
calls behind them, in this process). Every Spark run's events are checked against
DuckDB's (same ids). Reported:

* the fixed start-up cost: a new SparkSession and its first (empty) job (each master runs
  in a process of its own: its own JVM);
* ingest and detect times, and the detect speed-up of local[2] over local[1];
* peak memory per executor: the executor JVM (in local mode, the driver's) with its
  Python workers, sampled from /proc every 0.2 s.

The table is printed and appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from corpus import generate_corpus  # noqa: E402

SENTENCES_PER_POSITION = 1.4  # the corpus's mix: 80 % of messages are positions, type 5 takes two lines


class PeakMemory:
    """Peak RSS of each Spark executor process tree (the JVM and the Python workers below it)."""

    def __init__(self) -> None:
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, mb in _executor_trees().items():
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), mb)
            time.sleep(0.2)


def _executor_trees() -> dict[str, float]:
    procs: dict[int, tuple[int, str, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path(f"/proc/{d}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = float(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        procs[int(d)] = (int(fields["PPid"]), cmd, rss)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)

    def tree(pid: int) -> float:
        return procs[pid][2] + sum(tree(c) for c in children.get(pid, []))

    out = {}
    for pid, (_, cmd, _) in procs.items():
        if "java" in cmd and ("CoarseGrainedExecutorBackend" in cmd or "pyspark-shell" in cmd):
            kind = "executor" if "CoarseGrainedExecutorBackend" in cmd else "driver+executor"
            out[f"{kind} {pid}"] = tree(pid)
    return out


def split_corpus(corpus: Path, files: int, out: Path) -> list[str]:
    """The corpus cut into ``files`` files of consecutive lines."""
    lines = corpus.read_bytes().splitlines(keepends=True)
    step = -(-len(lines) // files)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(files):
        p = out / f"part{k:02d}.nmea"
        p.write_bytes(b"".join(lines[k * step:(k + 1) * step]))
        paths.append(str(p))
    return paths


def run_duckdb(work: Path, files: list[str]) -> dict[str, float]:
    db = work / "bench.duckdb"
    exe = str(Path(sys.executable).parent / "shiptrack")
    t = time.perf_counter()
    subprocess.run([exe, "--db", str(db), "ingest", *files], check=True, stdout=subprocess.DEVNULL)
    ingest = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([exe, "--db", str(db), "detect"], check=True, stdout=subprocess.DEVNULL)
    return {"ingest_s": ingest, "detect_s": time.perf_counter() - t}


def event_ids_of_store(db: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
    finally:
        con.close()


def run_spark(master: str, work: Path, files: list[str]) -> dict[str, object]:
    from shiptrack.spark.detect import detect_events
    from shiptrack.spark.ingest import ingest_lake
    from shiptrack.spark.session import EXECUTOR_MEMORY, spark_session

    lake = work / ("lake-" + "".join(c for c in master if c.isalnum()))  # (no [ ] in a path DuckDB globs)
    shutil.rmtree(lake, ignore_errors=True)
    with PeakMemory() as mem:
        t = time.perf_counter()
        spark = spark_session(master, executor_memory=EXECUTOR_MEMORY)
        spark.range(1).count()
        startup = time.perf_counter() - t
        try:
            t = time.perf_counter()
            summary = ingest_lake(spark, str(lake), files)
            ingest = time.perf_counter() - t
            assert summary.ok, [r.error for r in summary.results if r.error]
            t = time.perf_counter()
            events = detect_events(spark, str(lake))
            detect = time.perf_counter() - t
        finally:
            spark.stop()
    found = sorted(events.column("event_id").to_pylist()) if events.num_columns else []
    return {"startup_s": startup, "ingest_s": ingest, "detect_s": detect, "event_ids": found,
            "peak_mb": max(mem.peak_mb.values(), default=0.0), "processes": len(mem.peak_mb)}


def run_in_child(master: str, work: Path, files: list[str]) -> dict[str, object]:
    """:func:`run_spark` in a new process, so that each master pays its own JVM start."""
    out = subprocess.run([sys.executable, __file__, "--one", master, "--work", str(work), *files],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="local[2] only, no cluster, no RESULTS.md")
    ap.add_argument("--one", metavar="MASTER", help=argparse.SUPPRESS)  # run_in_child's process
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_spark(args.one, Path(args.work), args.paths)))
        return
    from shiptrack.spark.standalone import standalone_cluster

    work = Path(tempfile.mkdtemp(prefix="shiptrack-bench-spark-"))
    try:
        corpus = work / "corpus.nmea"
        generate_corpus(corpus, int(args.positions * SENTENCES_PER_POSITION), seed=1)
        files = split_corpus(corpus, args.files, work / "files")
        corpus.unlink()
        duck = run_duckdb(work, files)
        expected = event_ids_of_store(work / "bench.duckdb")
        import duckdb

        con = duckdb.connect(str(work / "bench.duckdb"), read_only=True)
        n_pos = con.execute("SELECT count(*) FROM positions").fetchall()[0][0]
        con.close()
        rows: dict[str, dict[str, object]] = {}
        for master in (["local[2]"] if args.quick else ["local[1]", "local[2]"]):
            rows[master] = run_in_child(master, work, files)
        if not args.quick:
            with standalone_cluster(workers=2, cores=1, memory="2g") as url:
                rows["standalone 2x1"] = run_in_child(url, work, files)
        for r in rows.values():
            r["same_events"] = set(r.pop("event_ids")) == expected
        table = render(n_pos, len(files), duck, rows, len(expected))
        print(table)
        if not args.quick:
            note = (f"\n## Spark engine ({datetime.now(UTC):%Y-%m-%d}, `make bench-spark`)\n\n"
                    f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                    f"shared with other jobs (read the ratios).\n\n{table}\n")
            with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
                f.write(note)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(n_pos: int, n_files: int, duck: dict[str, float], rows: dict[str, dict[str, object]],
           n_events: int) -> str:
    lines = [f"{n_pos:,} positions in {n_files} files; {n_events:,} events.", "",
             "| engine | start-up s | ingest s | detect s | peak MB per executor | same events |",
             "|---|---:|---:|---:|---:|---|",
             f"| DuckDB (one process) | - | {duck['ingest_s']:.1f} | {duck['detect_s']:.1f} | - | - |"]
    for name, r in rows.items():
        lines.append(f"| Spark {name} | {r['startup_s']:.1f} | {r['ingest_s']:.1f} | {r['detect_s']:.1f} | "
                     f"{r['peak_mb']:.0f} | {'yes' if r['same_events'] else 'NO'} |")
    if "local[1]" in rows and "local[2]" in rows:
        speedup = float(rows["local[1]"]["detect_s"]) / float(rows["local[2]"]["detect_s"])
        ingest_up = float(rows["local[1]"]["ingest_s"]) / float(rows["local[2]"]["ingest_s"])
        lines += ["", f"Detect speed-up local[2] / local[1]: {speedup:.2f}x (target 1.6x); "
                      f"ingest: {ingest_up:.2f}x."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
