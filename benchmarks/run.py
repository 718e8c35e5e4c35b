"""shiptrack benchmarks: ingest, detect and dossier, beside the baselines, in one run.

    .venv/bin/python benchmarks/run.py            # the full run (`make bench`): minutes
    .venv/bin/python benchmarks/run.py --quick    # tiny sizes, to check the script works
    .venv/bin/python benchmarks/run.py --json F   # also every figure of the run, as JSON, in F

Every figure is measured in this run, on this machine, so read the ratios: the
machines are shared and noisy. Ingest is timed end to end, from the file to committed
DuckDB rows, in a fresh process whose peak RSS is read back. Baselines on the same
sentences: a plain pyais decode loop, and gpsd's C decoder ``gpsdecode`` on the same
sentences with their tag blocks stripped (it does not read them). Detection runs on
stores of generated positions; the dossier on the largest one. The table is printed
and written, with the machine's description, to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from corpus import generate_corpus  # noqa: E402

# Run a command in a child and report its wall time and the child's peak RSS.
_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb") if sys.argv[1] != "-" else None,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "rc": p.returncode, "stderr": p.stderr.decode(errors="replace")[-2000:]}))
"""

_PYAIS_LOOP = r"""
import sys
from pyais.stream import FileReaderStream
n = 0
for msg in FileReaderStream(sys.argv[1]):
    try:
        msg.decode()
        n += 1
    except Exception:
        pass
print(n, file=sys.stderr)
"""


def measure(cmd: list[str], stdin: Path | None = None, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(stdin) if stdin else "-", *cmd],
                         capture_output=True, text=True, check=True, env=env)
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {res['stderr']}")
    return res


def shiptrack(*args: str) -> list[str]:
    return [sys.executable, "-m", "shiptrack", *args]


def strip_tagblocks(src: Path, dst: Path) -> None:
    tag = re.compile(rb"^\\[^\\]*\\")
    with src.open("rb") as f, dst.open("wb") as out:
        for line in f:
            out.write(tag.sub(b"", line))


def bench_ingest(work: Path, n: int, repeat: int = 1) -> dict:
    """shiptrack, the pyais loop and gpsdecode on the same corpus, each ``repeat`` times in
    turn (so that a busy moment of the machine falls on all three); the median run counts."""
    corpus = work / f"corpus_{n}.nmea"
    if not corpus.exists():
        generate_corpus(corpus, n, seed=1)
    db = work / f"ingest_{n}.duckdb"
    gpsdecode = shutil.which("gpsdecode")
    bare = work / f"corpus_{n}.bare.nmea"
    if gpsdecode and not bare.exists():
        strip_tagblocks(corpus, bare)
    runs: dict[str, list[dict]] = {"ingest": [], "pyais": [], "gpsdecode": []}
    messages = positions = 0
    for _ in range(max(repeat, 1)):
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
        runs["ingest"].append(measure(shiptrack("--db", str(db), "ingest", str(corpus))))
        messages, positions = _ingested(db)
        runs["pyais"].append(measure([sys.executable, "-c", _PYAIS_LOOP, str(corpus)]))
        if gpsdecode:
            runs["gpsdecode"].append(measure([gpsdecode, "-s"], stdin=bare))
    wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items() if v}
    row = {
        "sentences": n, "messages": int(messages), "positions": int(positions), "runs": len(runs["ingest"]),
        "ingest_s": wall["ingest"], "ingest_rss_mb": statistics.median(r["rss_mb"] for r in runs["ingest"]),
        "ingest_rss_max_mb": max(r["rss_mb"] for r in runs["ingest"]),
        "ingest_sentences_per_s": n / wall["ingest"], "ingest_messages_per_s": messages / wall["ingest"],
        "pyais_s": wall["pyais"], "pyais_messages_per_s": messages / wall["pyais"],
        "ingest_all_s": [r["wall_s"] for r in runs["ingest"]],
    }
    if gpsdecode:
        row |= {"gpsdecode_s": wall["gpsdecode"], "gpsdecode_messages_per_s": messages / wall["gpsdecode"]}
    db.unlink(missing_ok=True)
    return row


def _sea_routes(n_routes: int, rng) -> list:  # noqa: ANN001
    """Sea routes (searoute, offline) between random pairs of real ports, as lat/lon arrays."""
    import numpy as np
    import polars as pl
    import searoute

    from shiptrack.reference.ports import ports_frame

    ports = ports_frame().filter(pl.col("lat").abs() < 60)
    lat, lon = ports["lat"].to_numpy(), ports["lon"].to_numpy()
    routes = []
    while len(routes) < n_routes:
        a, b = rng.integers(0, lat.size, 2)
        try:
            coords = searoute.searoute([lon[a], lat[a]], [lon[b], lat[b]])["geometry"]["coordinates"]
        except Exception:  # noqa: BLE001 - an unroutable pair: pick another
            continue
        xy = np.asarray(coords, dtype=float)
        if len(xy) >= 2:
            routes.append((xy[:, 1], xy[:, 0]))
    return routes


def make_position_store(db: Path, n_positions: int, seed: int = 7) -> int:
    """A store of ``n_positions`` generated positions: vessels sailing real sea routes
    (searoute) between real ports at 8-14 kn, lying in port at both ends, one in ten going
    silent for 8-48 h. Returns an MMSI for the dossier."""
    import numpy as np
    import polars as pl

    from shiptrack.store import coverage
    from shiptrack.store.db import connect

    rng = np.random.default_rng(seed)
    routes = _sea_routes(200, rng)
    per_vessel = 2_000
    n_vessels = max(1, n_positions // per_vessel)
    con = connect(db)
    t0 = np.datetime64("2018-02-01T00:00:00", "us")
    for v in range(n_vessels):
        rlat, rlon = routes[v % len(routes)]
        seg = np.hypot(np.diff(rlat), np.diff(rlon) * np.cos(np.radians(rlat[:-1])))
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        step_s = rng.integers(120, 600, per_vessel)
        silent = rng.random() < 0.1
        if silent:
            step_s[rng.integers(1, per_vessel)] += int(rng.integers(8, 48)) * 3600
        t_s = np.cumsum(step_s)
        speed_deg_s = rng.uniform(8, 14) / 60 / 3600
        dist = np.clip((t_s - t_s[per_vessel // 10]) * speed_deg_s, 0, cum[-1])  # in port first, then sail
        lat = np.interp(dist, cum, rlat) + rng.normal(0, 0.0002, per_vessel)
        lon = np.interp(dist, cum, rlon) + rng.normal(0, 0.0002, per_vessel)
        moving = (dist > 0) & (dist < cum[-1])
        n = per_vessel
        frame = pl.DataFrame({
            "mmsi": np.full(n, 211_000_000 + v, dtype=np.int32),
            "ts": pl.Series(t0 + t_s.astype("timedelta64[s]").astype("timedelta64[us]")).dt.replace_time_zone("UTC"),
            "lat": lat, "lon": ((lon + 180) % 360) - 180,
            "sog": np.where(moving, rng.uniform(8, 14, n), rng.uniform(0, 0.3, n)).round(1),
            "cog": rng.uniform(0, 360, n).round(1), "heading": rng.integers(0, 360, n).astype(np.int16),
            "nav_status": np.where(moving, 0, 5).astype(np.int8), "msg_type": np.ones(n, dtype=np.int8),
            "line_no": np.arange(n, dtype=np.int64) + v * n,
            "dup_key": rng.integers(0, 2**63, n, dtype=np.uint64),
        })
        con.register("_gen", frame.to_arrow())
        con.execute("INSERT INTO positions (mmsi, ts, lat, lon, sog, cog, heading, nav_status, msg_type, "
                    "source_id, line_no, dup_key) SELECT mmsi, ts, lat, lon, sog, cog, heading, nav_status, "
                    "msg_type, 1, line_no, dup_key FROM _gen")
        con.unregister("_gen")
    con.execute("INSERT INTO sources (source_id, name, sha256, format, ingested_at) "
                "VALUES (1, 'generated', 'generated', 'generated', now())")
    coverage.rebuild(con)  # what ingest would have kept up to date
    con.execute("CHECKPOINT")
    con.close()
    return 211_000_000


def bench_startup(work: Path) -> dict:
    """Ingest of a 1,000-line file: with the kernels built ahead of time (``make``; the
    mode of every other figure when ``kernels_mode`` is 'aot'), and with numba's JIT
    instead: not yet in its cache (the first ingest on a machine), then cached."""
    from shiptrack.decode.accel.kernels import mode

    corpus = work / "corpus_startup.nmea"
    if not corpus.exists():
        generate_corpus(corpus, 1_000, seed=3)
    out: dict = {"kernels_mode": mode()}
    db = work / "startup.duckdb"
    with tempfile.TemporaryDirectory(prefix="shiptrack-numba-") as cache:
        env = os.environ | {"NUMBA_CACHE_DIR": cache}
        for label, extra in (("built", {}), ("cold", {"SHIPTRACK_JIT": "1"}), ("warm", {"SHIPTRACK_JIT": "1"})):
            for p in (db, Path(str(db) + ".wal")):
                p.unlink(missing_ok=True)
            out[f"{label}_s"] = measure(shiptrack("--db", str(db), "ingest", str(corpus)), env=env | extra)["wall_s"]
    db.unlink(missing_ok=True)
    # the package's own cache, used by the timed runs below
    measure(shiptrack("--db", str(db), "ingest", str(corpus)))
    db.unlink(missing_ok=True)
    return out


def bench_stages(work: Path, n: int) -> dict:
    """CPU seconds per ingest stage, run one after the other (benchmarks/stages.py)."""
    out = subprocess.run([sys.executable, str(HERE / "stages.py"), str(work / f"corpus_{n}.nmea"), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"sentences": n}


def ingest_once(work: Path, n: int) -> dict:
    """One shiptrack ingest of the corpus of ``n`` sentences (made by :func:`bench_ingest`)."""
    db = work / f"paired_{n}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    run = measure(shiptrack("--db", str(db), "ingest", str(work / f"corpus_{n}.nmea")))
    positions = _ingested(db)[1]
    db.unlink(missing_ok=True)
    return {"sentences": n, "positions": positions, "ingest_s": run["wall_s"]}


def _ingested(db: Path) -> tuple[int, int]:
    """(messages, positions) that the ingests into ``db`` recorded."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    messages, positions = con.execute("SELECT sum(messages), sum(positions) FROM sources").fetchall()[0]
    con.close()
    return int(messages), int(positions)


def warm_land_cache() -> float:
    """Seconds to make the land mask's cache ready (built once per machine, about 1.5 s),
    so that no detect run below includes building it."""
    from shiptrack.reference.land import is_land

    t = time.perf_counter()
    is_land(0.0, 0.0)
    return time.perf_counter() - t


def bench_detect(work: Path, n: int, repeat: int = 1, paired_ingest: int | None = None) -> dict:
    """``shiptrack detect`` on a generated store of ``n`` positions, ``repeat`` times (each
    on the store as generated; the median counts), then the dossier. With
    ``paired_ingest``, an ingest of that corpus runs just before each detect run, so that
    detect is compared with an ingest timed in the same state of the machine."""
    db = work / f"detect_{n}.duckdb"
    pristine = work / f"detect_{n}.generated.duckdb"
    for p in (db, Path(str(db) + ".wal"), pristine):
        p.unlink(missing_ok=True)
    t = time.perf_counter()
    mmsi = make_position_store(db, n)
    build_s = time.perf_counter() - t
    if repeat > 1:
        shutil.copyfile(db, pristine)
    runs, paired = [], []
    for i in range(max(repeat, 1)):
        if i:
            shutil.copyfile(pristine, db)
        if paired_ingest:
            paired.append(ingest_once(work, paired_ingest))
        runs.append(measure(shiptrack("--db", str(db), "detect")))
    pristine.unlink(missing_ok=True)
    dossier_cli = measure(shiptrack("--db", str(db), "vessel", str(mmsi), "--format", "json"))
    # the dossier itself, without starting Python
    from shiptrack.dossier import build_dossier
    from shiptrack.store.db import connect

    con = connect(db, read_only=True)
    build_dossier(con, str(mmsi))
    t = time.perf_counter()
    build_dossier(con, str(mmsi))
    dossier_s = time.perf_counter() - t
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    db.unlink(missing_ok=True)
    return {"positions": n, "store_build_s": build_s, "detect_s": statistics.median(r["wall_s"] for r in runs),
            "detect_all_s": [r["wall_s"] for r in runs], "detect_rss_mb": max(r["rss_mb"] for r in runs),
            "paired_ingest": paired, "events": int(events), "dossier_cli_s": dossier_cli["wall_s"],
            "dossier_s": dossier_s}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import duckdb
    import polars
    import pyais

    return (f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, duckdb {duckdb.__version__}, "
            f"polars {polars.__version__}, pyais {pyais.__version__}")


def _ingest_rate(ingest: list[dict], d: dict) -> dict:
    """The ingest rate that detect on ``d`` is compared with: ``rate`` (positions/s), from
    the ingests paired with its runs if any (median; ``paired``: how many), else from the
    largest ingest measured; ``sentences``: the size of that ingest's corpus."""
    paired = d.get("paired_ingest") or []
    if paired:
        return {"sentences": paired[0]["sentences"], "paired": len(paired),
                "rate": statistics.median(r["positions"] / r["ingest_s"] for r in paired)}
    return {"sentences": ingest[-1]["sentences"], "paired": 0, "rate": ingest[-1]["positions"] / ingest[-1]["ingest_s"]}


def targets(ingest: list[dict], detect: list[dict]) -> list[tuple[str, str, bool | None]]:
    """The targets of the speed issue: (what, the figure of this run, met? None: not measured)."""
    out: list[tuple[str, str, bool | None]] = []
    for r in ingest:
        speed = r["ingest_messages_per_s"]
        x = speed / r["pyais_messages_per_s"]
        out.append((f"ingest {r['sentences']:,} sentences ≥ 5× the pyais loop", f"{x:.1f}×", x >= 5))
        g = r.get("gpsdecode_messages_per_s")
        out.append((f"ingest {r['sentences']:,} sentences ≥ 1.5× gpsdecode", f"{speed / g:.2f}×" if g else "n/a",
                    speed / g >= 1.5 if g else None))
    if len(ingest) >= 2:
        x = ingest[-1]["ingest_rss_mb"] / ingest[0]["ingest_rss_mb"]
        out.append((f"peak RSS at {ingest[-1]['sentences']:,} ≤ 1.2× that at {ingest[0]['sentences']:,}",
                    f"{x:.2f}×", x <= 1.2))
    if len(detect) >= 2:
        a, b = detect[0], detect[-1]
        grow, scale = b["detect_s"] / a["detect_s"], b["positions"] / a["positions"]
        out.append((f"detect grows ≤ {1.2 * scale:.0f}× for {scale:.0f}× the positions", f"{grow:.1f}×",
                    grow <= 1.2 * scale))
    if detect and ingest:
        b = detect[-1]
        x = b["detect_s"] / (b["positions"] / _ingest_rate(ingest, b)["rate"])
        out.append((f"detect on {b['positions']:,} positions ≤ the time to ingest them", f"{x:.2f}×", x <= 1))
    if detect:
        b = detect[-1]
        out.append((f"dossier on the {b['positions']:,}-position store < 1 s",
                    f"{b['dossier_s']:.2f} s ({b['dossier_cli_s']:.2f} s with start-up)", b["dossier_cli_s"] < 1))
    return out


def render(ingest: list[dict], detect: list[dict], when: str, desc: str, startup: dict | None = None,
           stages: dict | None = None, land_s: float | None = None) -> str:
    lines = [f"# shiptrack benchmarks — {when}", "", f"Machine: {desc}.", "",
             "Ratios are measured in the same run; seconds depend on how busy the machine was.", "",
             "## Targets", "", "| target | this run | met |", "|---|---:|---|"]
    lines += [f"| {what} | {fig} | {'n/a' if ok is None else ('yes' if ok else '**no**')} |"
              for what, fig, ok in targets(ingest, detect)]
    lines += ["", "## Ingest (file to committed DuckDB rows)", "",
             f"Each figure is the median of {ingest[0].get('runs', 1) if ingest else 1} runs; shiptrack, the pyais "
             "loop and gpsdecode take turns, so that a busy moment of the machine falls on all three.", "",
             "| sentences | messages | shiptrack msg/s | peak RSS | pyais loop msg/s | × pyais | gpsdecode msg/s | × gpsdecode |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in ingest:
        g = r.get("gpsdecode_messages_per_s")
        speed = r["ingest_messages_per_s"]
        g_cell = f"{g:,.0f}" if g else "n/a"
        g_ratio = f"{speed / g:.2f}" if g else "n/a"
        lines.append(
            f"| {r['sentences']:,} | {r['messages']:,} | {speed:,.0f} | {r['ingest_rss_mb']:,.0f} MB "
            f"| {r['pyais_messages_per_s']:,.0f} | {speed / r['pyais_messages_per_s']:.1f} | {g_cell} | {g_ratio} |")
    lines += ["", "shiptrack's runs: " + "; ".join(
        f"{r['sentences']:,} sentences " + ", ".join(f"{x:.2f}" for x in r.get("ingest_all_s", [r["ingest_s"]])) + " s"
        for r in ingest) + "."]
    if len(ingest) >= 2:
        lines += ["", f"Peak RSS at {ingest[-1]['sentences']:,} sentences is "
                      f"{ingest[-1]['ingest_rss_mb'] / ingest[0]['ingest_rss_mb']:.2f}× that at "
                      f"{ingest[0]['sentences']:,}."]
    if startup:
        built = (f"{startup['built_s']:.2f} s with the kernels compiled ahead of time (`make`)"
                 if startup.get("kernels_mode") == "aot" else "(kernels not built ahead of time: every figure "
                 "here is with numba's JIT)")
        lines += ["", f"Ingest of a 1,000-line file: {built}; with numba's JIT instead, "
                      f"{startup['cold_s']:.2f} s the first time on a machine (the kernels are compiled, "
                      f"then cached), {startup['warm_s']:.2f} s after."]
    if stages:
        from stages import STAGES

        total = sum(stages[s] for s in STAGES)
        lines += ["", f"Where the CPU time goes, {stages['sentences']:,} sentences, each stage alone "
                      "(benchmarks/stages.py; `ingest` overlaps decoding with the DuckDB writes):", "",
                  "| " + " | ".join(STAGES) + " | total |", "|" + "---:|" * (len(STAGES) + 1),
                  "| " + " | ".join(f"{stages[s]:.2f} s" for s in STAGES) + f" | {total:.2f} s |"]
        if "store_no_raw" in stages:
            db_s = stages["store"] + stages["commit"]
            lines += ["", f"The store and commit stages again, with the `raw` column (each sentence as "
                          f"received) left empty: {stages['store_no_raw']:.2f} s instead of {db_s:.2f} s. "
                          f"Writing and compressing that text is {1 - stages['store_no_raw'] / db_s:.0%} of "
                          "the DuckDB work, the longest stage of an ingest."]
    lines += ["", "## Detection and dossier", "",
              "| positions | detect | detect peak RSS | events | dossier (in process) | `shiptrack vessel` (with start-up) |",
              "|---:|---:|---:|---:|---:|---:|"]
    for r in detect:
        lines.append(f"| {r['positions']:,} | {r['detect_s']:.1f} s | {r['detect_rss_mb']:,.0f} MB | {r['events']:,} "
                     f"| {r['dossier_s']:.2f} s | {r['dossier_cli_s']:.2f} s |")
    if len(detect) >= 2:
        a, b = detect[0], detect[-1]
        lines += ["", f"Detect grows {b['detect_s'] / a['detect_s']:.1f}× for {b['positions'] / a['positions']:.0f}× "
                      "the positions."]
    if detect and ingest:
        b = detect[-1]
        r = _ingest_rate(ingest, b)
        est = b["positions"] / r["rate"]
        rate = f"{r['rate']:,.0f} positions/s"
        when = (f"of the ingests of {r['sentences']:,} sentences run just before each detect run ({rate}, the "
                f"median of {r['paired']})" if r["paired"] else f"measured for {r['sentences']:,} sentences ({rate})")
        runs = b.get("detect_all_s") or [b["detect_s"]]
        took = f"{b['detect_s']:.1f} s" + (f" (median of {', '.join(f'{x:.1f}' for x in runs)} s)" if len(runs) > 1 else "")
        lines += ["", f"Ingesting {b['positions']:,} positions at the rate {when} would take about {est:.1f} s; "
                      f"detect on them took {took}, {b['detect_s'] / est:.2f}× the ingest."]
    if land_s is not None:
        ready = "was already built" if land_s < 0.1 else f"was built first, in {land_s:.1f} s"
        lines += ["", f"The land mask's cache (built once per machine, then memory-mapped) {ready}: no detect run "
                      "above includes building it."]
    return "\n".join(lines) + "\n"


# The section of RESULTS.md that a run keeps as it was: the measurements behind choices in
# the code (the code's comments say why; the figures that showed it are kept here).
HISTORY = "## Measurements behind the code"


def kept_history(output: Path) -> str:
    """The :data:`HISTORY` section of the file a run replaces (empty if it has none)."""
    if not output.exists():
        return ""
    old = output.read_text(encoding="utf-8")
    at = old.find("\n" + HISTORY)
    return "" if at < 0 else old[at:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script runs")
    ap.add_argument("--sizes", default="1000000,3000000", help="ingest corpus sizes, in sentences")
    ap.add_argument("--detect-sizes", default="1000000,10000000", help="positions in the detection stores")
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="where to write the results")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: benchmarks/work)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each ingest measurement (the median counts)")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure of the run there, as JSON")
    args = ap.parse_args()
    sizes = [2_000, 6_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    dsizes = [20_000, 40_000] if args.quick else [int(s) for s in args.detect_sizes.split(",")]
    work = args.work or (Path(tempfile.mkdtemp(prefix="shiptrack-bench-")) if args.quick else HERE / "work")
    work.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    desc = machine()
    print(f"shiptrack benchmarks, {when}\n{desc}\n", flush=True)
    print("ingest start-up (kernels built ahead of time; JIT with a cold and a warm cache) ...", flush=True)
    startup = bench_startup(work)
    ingest = []
    for n in sizes:
        print(f"ingest: {n:,} sentences ...", flush=True)
        ingest.append(bench_ingest(work, n, 1 if args.quick else args.repeat))
    print("ingest stages ...", flush=True)
    stages = bench_stages(work, sizes[0])
    if not shutil.which("gpsdecode"):
        print("gpsdecode not found (Debian package gpsd-clients): its column is n/a", flush=True)
    land_s = warm_land_cache()
    detect = []
    for n in dsizes:
        print(f"detect: {n:,} positions ...", flush=True)
        last = n == dsizes[-1]
        # the largest store: detect twice, each run just after an ingest of the largest corpus
        detect.append(bench_detect(work, n, repeat=2 if last and not args.quick else 1,
                                   paired_ingest=sizes[-1] if last else None))
    text = render(ingest, detect, when, desc, startup, stages, land_s)
    print()
    print(text)
    args.output.write_text(text + kept_history(args.output), encoding="utf-8")
    print(f"written to {args.output}")
    if args.json:
        figures = {"when": when, "machine": desc, "startup": startup, "ingest": ingest, "stages": stages,
                   "land_s": land_s, "detect": detect,
                   "targets": [{"target": what, "figure": fig, "met": ok} for what, fig, ok in targets(ingest, detect)]}
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if args.quick:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
