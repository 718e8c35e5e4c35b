"""A store and a lake side by side: the same files ingested into each, the same commands run
on each, in fresh processes (wall time, peak RSS), and their sizes on disk.

    .venv/bin/python benchmarks/lake.py [--sentences 2000000] [--files 4] [--quick]

The corpus is benchmarks/corpus.py's, cut into --files files. Every figure is from this
run on this machine (shared and noisy): read the ratios. The outputs of the read commands
are compared too: a lake must print what the store prints.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPTRACK = [sys.executable, "-m", "shiptrack"]


def run(args: list[str], cwd: Path) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (MB) and standard output of one shiptrack command."""
    t0 = time.monotonic()
    proc = subprocess.Popen([*SHIPTRACK, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"shiptrack {' '.join(args)} failed")
    return time.monotonic() - t0, usage.ru_maxrss // 1024, out


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=2_000_000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the script works")
    opts = ap.parse_args()
    n = 20_000 if opts.quick else opts.sentences
    with tempfile.TemporaryDirectory(prefix="shiptrack-lake-bench-") as tmp_text:
        tmp = Path(tmp_text)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "corpus.py"), str(tmp / "corpus.nmea"), str(n)],
                       check=True, capture_output=True)
        lines = (tmp / "corpus.nmea").read_bytes().splitlines(keepends=True)
        parts = []
        for k in range(opts.files):
            part = tmp / f"part{k}.nmea"
            part.write_bytes(b"".join(lines[k * len(lines) // opts.files:(k + 1) * len(lines) // opts.files]))
            parts.append(str(part))
        store, lake = "store.duckdb", "lake/"
        rows: list[tuple[str, str, float, int]] = []

        def both(label: str, args: list[str], compare: bool = True) -> None:
            got = []
            for where in (store, lake):
                wall, rss, out = run(["--db", where, *args], tmp)
                rows.append((label, "store" if where == store else "lake", wall, rss))
                got.append(hashlib.sha256(out).hexdigest())
            if compare and got[0] != got[1]:
                raise SystemExit(f"{label}: the lake printed other bytes than the store")

        both(f"ingest {opts.files} files", ["ingest", *parts], compare=False)
        both("detect", ["detect"], compare=False)
        mmsi = run(["--db", store, "query", "SELECT mmsi FROM vessels ORDER BY positions DESC, mmsi LIMIT 1",
                    "--format", "csv"], tmp)[2].decode().split()[-1]
        both("vessel --format json", ["vessel", mmsi, "--format", "json"])
        both("track (csv)", ["track", mmsi])
        both("events --format csv", ["events", "--format", "csv"])
        both("query count(*) positions", ["query", "SELECT count(*), count(DISTINCT mmsi) FROM positions"])
        both("export positions csv", ["export", "positions", "--format", "csv", "-o", "/dev/stdout"])
        wall, rss, _ = run(["lake", "export", store, "exported/"], tmp)
        positions = run(["--db", store, "query", "SELECT count(*) FROM positions", "--format", "csv"],
                        tmp)[2].decode().split()[-1]
        print(f"{n:,} sentences in {opts.files} files: {int(positions):,} positions; sizes: store "
              f"{size_mb(tmp / store):.0f} MB, lake {size_mb(tmp / 'lake'):.0f} MB "
              f"({sum(1 for _ in (tmp / 'lake').rglob('*.parquet'))} Parquet files); "
              f"`lake export` of the store {wall:.1f} s, {rss} MB")
        print("| step | store s | lake s | store MB | lake MB |")
        print("|---|---:|---:|---:|---:|")
        labels = list(dict.fromkeys(r[0] for r in rows))
        for label in labels:
            s = next(r for r in rows if r[0] == label and r[1] == "store")
            k = next(r for r in rows if r[0] == label and r[1] == "lake")
            print(f"| {label} | {s[2]:.2f} | {k[2]:.2f} | {s[3]} | {k[3]} |")


if __name__ == "__main__":
    main()
