"""A store and a lake side by side: the same files ingested into each, the same commands run
on each, in fresh processes (wall time, peak RSS), and their sizes on disk.

    .venv/bin/python benchmarks/lake.py [--sentences 2000000] [--files 4] [--quick] [--output FILE]

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


def split(corpus: Path, files: int) -> list[str]:
    """Cut the corpus into ``files`` files of consecutive lines, streaming (this process
    stays small: the peak RSS of the commands it starts counts its pages until they exec)."""
    with corpus.open("rb") as f:
        total = sum(1 for _ in f)
    parts = [corpus.with_name(f"part{k}.nmea") for k in range(files)]
    with corpus.open("rb") as f:
        for k, part in enumerate(parts):
            with part.open("wb") as out:
                for _ in range((k + 1) * total // files - k * total // files):
                    out.write(f.readline())
    return [str(p) for p in parts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=2_000_000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the script works")
    ap.add_argument("--output", help="also write the table (Markdown) to this file")
    opts = ap.parse_args()
    n = 20_000 if opts.quick else opts.sentences
    with tempfile.TemporaryDirectory(prefix="shiptrack-lake-bench-") as tmp_text:
        tmp = Path(tmp_text)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "corpus.py"), str(tmp / "corpus.nmea"), str(n)],
                       check=True, capture_output=True)
        parts = split(tmp / "corpus.nmea", opts.files)
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
        load = os.getloadavg()[0]
        out = [f"# A store and a lake, side by side ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
               f"`benchmarks/lake.py --sentences {n} --files {opts.files}`; {os.cpu_count()} cores, load average "
               f"{load:.1f} at the end (shared machine: read the ratios). Wall seconds and peak RSS (MB) of each "
               "command in a fresh process; every read command printed the same bytes on both.", "",
               f"{n:,} sentences in {opts.files} files: {int(positions):,} positions. On disk: store "
               f"{size_mb(tmp / store):.0f} MB, lake {size_mb(tmp / 'lake'):.0f} MB "
               f"({sum(1 for _ in (tmp / 'lake').rglob('*.parquet'))} Parquet files). "
               f"`lake export` of the store: {wall:.1f} s, {rss} MB.", "",
               "| step | store s | lake s | lake / store | store MB | lake MB |", "|---|---:|---:|---:|---:|---:|"]
        for label in dict.fromkeys(r[0] for r in rows):
            s = next(r for r in rows if r[0] == label and r[1] == "store")
            k = next(r for r in rows if r[0] == label and r[1] == "lake")
            out.append(f"| {label} | {s[2]:.2f} | {k[2]:.2f} | {k[2] / s[2]:.2f}× | {s[3]} | {k[3]} |")
        text = "\n".join(out) + "\n"
        print(text, end="")
        if opts.output:
            Path(opts.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
