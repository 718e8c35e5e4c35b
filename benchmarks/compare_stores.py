"""Do two versions of shiptrack make the same stores? Dump what one makes, then compare dumps.

    PYTHONPATH=<old checkout> python benchmarks/compare_stores.py dump /tmp/stores-old
    PYTHONPATH=<new checkout> python benchmarks/compare_stores.py dump /tmp/stores-new
    python benchmarks/compare_stores.py compare /tmp/stores-old /tmp/stores-new

``dump`` ingests every file of ``fixtures/`` and of the shared data folder (``--data``, one
store per file; a file that is not AIS fails, and that is recorded too), the Ural demo (its
routes imported), every NMEA fixture together in one store, and a few NMEA files read by small
chunks (``shiptrack.ingest.CHUNK_BYTES``, so that the decoder's state crosses chunk
boundaries); runs ``detect`` on each store; and writes, per store, the command line's output
of ``ingest``, ``detect`` and ``decode``, and the rows of positions, static_reports,
base_stations, rejects, sources and events in a canonical order (without ``ingested_at`` and
``detected_at``, which are clock times). ``compare`` says which of those differ. A refactor
of the decoder or the store must leave them identical.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SHIPTRACK_SHARED_DATA", ROOT.parent / "shared" / "data"))

# Options some files need (as the README's commands give them): GFW's JSON lines name their
# columns otherwise, and gpsd's sample.aivdm starts with lines that look like no format.
GFW_COLUMNS = "mmsi=ssvid,ts=timestamp,lat=lat,lon=lon,sog=speed,cog=course"
TABLES = {
    "positions": "*",
    "static_reports": "*",
    "base_stations": "*",
    "rejects": "*",
    "sources": "* EXCLUDE (ingested_at)",
    "events": "* EXCLUDE (detected_at)",
}
# NMEA files that are also ingested by chunks of this many bytes
SMALL_CHUNKS = 1 << 14
CHUNKED = ["amsa-risky/ais.txt", "amsa-risky/exact-earth-augmented.txt", "dma-aislib/stream_example.txt",
           "gpsd/sample.aivdm", "gpsd/ais-nmea.log"]
# NMEA files with several clocks, also ingested with each --time-from choice but auto
CLOCKED = ["amsa-risky/ais.txt", "amsa-risky/exact-earth-augmented.txt", "amsa-risky/exact-earth-augmented-3.txt",
           "amsa-risky/nmea-timestamped.txt", "dma-aislib/stream_example.txt", "gpsd/sample.aivdm",
           "gpsd/ais-nmea.log", "pyais/timestamped.ais", "pyais/gatehouse.nmea"]
TIME_FROM = ["tagblock", "pghp", "prefix", "trailer", "rmc", "basestation"]


def options_for(path: Path) -> list[str]:
    """Command-line options the file needs."""
    if path.name == "sample.aivdm":
        return ["--input-format", "nmea"]
    if path.suffix == ".json":
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as f:
            if '"ssvid"' in f.read(2000):
                return ["--columns", GFW_COLUMNS]
    return []


def cases(data: Path) -> list[tuple[str, list[list[str]]]]:
    """(name, the commands that build the store: each an ingest or a route import)."""
    out: list[tuple[str, list[list[str]]]] = []
    files = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    if data.is_dir():
        files += sorted(p for p in data.rglob("*") if p.is_file())
    for p in files:
        name = str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else "data/" + str(p.relative_to(data)))
        out.append((name, [["ingest", str(p), *options_for(p)]]))
    out.append(("demo:ural", [["ingest", str(ROOT / "fixtures/ural/ural.nmea")],
                              ["route", "import", str(ROOT / "fixtures/ural/routes.csv")]]))
    nmea = sorted(str(p) for p in (ROOT / "fixtures/nmea").iterdir() if p.suffix != ".md")
    out.append(("together:fixtures/nmea", [["ingest", *nmea]]))
    return out


def canonical(con, table: str, cols: str, out: Path) -> None:  # noqa: ANN001 - a DuckDB connection
    """The table's rows, sorted, as CSV (DuckDB writes lists, structs and times as text)."""
    con.execute(f"COPY (SELECT {cols} FROM {table} ORDER BY ALL) TO '{out}' (HEADER, DELIMITER ',')")  # noqa: S608


def run_cli(args: list[str]) -> str:
    """The command's output (stdout and stderr) and exit code, run in this process."""
    from click.testing import CliRunner

    from shiptrack.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=True)
    text = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += f"\nEXCEPTION {type(result.exception).__name__}: {result.exception}\n"
    return f"{text}\n[exit {result.exit_code}]\n"


def dump_case(name: str, commands: list[list[str]], out: Path, tmp: Path, chunk_bytes: int | None = None) -> None:
    import duckdb

    import shiptrack.ingest

    out.mkdir(parents=True, exist_ok=True)
    db = tmp / "store.duckdb"
    for leftover in (db, Path(str(db) + ".wal")):
        leftover.unlink(missing_ok=True)
    default_chunk = shiptrack.ingest.CHUNK_BYTES
    if chunk_bytes:
        shiptrack.ingest.CHUNK_BYTES = chunk_bytes
    try:
        log = []
        for cmd in commands:
            log.append("$ " + " ".join(cmd) + "\n" + run_cli(["--db", str(db), *cmd]))
        (out / "build.txt").write_text("".join(log))
        (out / "detect.txt").write_text(run_cli(["--db", str(db), "detect"]))
        first = commands[0]
        if first[0] == "ingest" and len([a for a in first[1:] if not a.startswith("-")]) == 1:
            decoded = run_cli(["decode", *first[1:]])
            (out / "decode.txt").write_text(decoded)
        if db.exists():
            con = duckdb.connect(str(db), read_only=True)
            try:
                for table, cols in TABLES.items():
                    canonical(con, table, cols, out / f"{table}.csv")
            finally:
                con.close()
    finally:
        shiptrack.ingest.CHUNK_BYTES = default_chunk


def slug(name: str) -> str:
    return name.replace("/", "__").replace(":", "_")


def dump(dest: Path, data: Path, only: str | None) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    todo = cases(data)
    chunked = [(f"chunks{SMALL_CHUNKS}:data/{c}", [["ingest", str(data / c)] + options_for(data / c)])
               for c in CHUNKED if (data / c).exists()]
    todo += [(f"time-from-{how}:data/{c}", [["ingest", str(data / c), "--time-from", how, *options_for(data / c)]])
             for c in CLOCKED if (data / c).exists() for how in TIME_FROM]
    t0 = time.perf_counter()
    done = 0
    with tempfile.TemporaryDirectory(prefix="shiptrack-compare-") as tmp:
        for name, commands in todo:
            if only and only not in name:
                continue
            dump_case(name, commands, dest / slug(name), Path(tmp))
            done += 1
        for name, commands in chunked:
            if only and only not in name:
                continue
            dump_case(name, commands, dest / slug(name), Path(tmp), SMALL_CHUNKS)
            done += 1
    sys.stderr.write(f"{done} stores dumped to {dest} in {time.perf_counter() - t0:.0f} s\n")
    return 0


def compare(a: Path, b: Path) -> int:
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    differ = 0
    for only, where in ((names_a - names_b, a), (names_b - names_a, b)):
        for name in sorted(only):
            print(f"only in {where}: {name}")
            differ += 1
    for name in sorted(names_a & names_b):
        x, y = (a / name).read_bytes(), (b / name).read_bytes()
        if x != y:
            differ += 1
            print(f"DIFFERS: {name}")
            lines = difflib.unified_diff(x.decode(errors="replace").splitlines(),
                                         y.decode(errors="replace").splitlines(), lineterm="", n=0)
            for k, line in enumerate(lines):
                if k >= 12:
                    print("    ...")
                    break
                print("    " + line[:300])
    stores = len({n.parts[0] for n in names_a | names_b})
    print(f"{stores} stores, {len(names_a | names_b)} files compared: "
          + ("identical" if not differ else f"{differ} differ"))
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="ingest and detect every file; write the stores' rows")
    d.add_argument("dest", type=Path)
    d.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})")
    d.add_argument("--only", help="only the cases whose name holds this text")
    c = sub.add_parser("compare", help="compare two dumps")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        return dump(args.dest, args.data, args.only)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
