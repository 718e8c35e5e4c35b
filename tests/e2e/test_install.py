"""A plain install has everything. The wheel, built as `pip install .` builds it, is
installed in a new virtual environment and run from a folder far from the repository:
the shipped reports list and run, the rules find the Ural's dark period, the decoding
loops are the compiled ones (numba never imported), and the land-mask cache is shared
with every other environment that has the same global-land-mask.

The new environment gets the wheel and its own copy of global-land-mask; the other
dependencies are those of the environment running the tests, reached through a .pth
file (installing them took 46 s more and tests nothing of shiptrack's: that every module
shiptrack imports is a declared dependency is checked below, on the source, for every
module rather than for those this run happens to import)."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

URAL = FIXTURES / "ural"


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without what would point a command back at the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SHIPTRACK_JIT", "SHIPTRACK_DB", "VIRTUAL_ENV", "NUMBA_CACHE_DIR")}
    return env | extra


def _copy_sources(dest: Path) -> None:
    """The files of the repository a clone has (tracked, or new and not ignored): no built
    module, virtual environment or store of the working copy."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                                capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell the sources from build products")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not name.startswith(("fixtures/", "tests/", "benchmarks/", "docs/")):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


class Installed:
    def __init__(self, root: Path, wheel: Path, work: Path, cache: Path) -> None:
        self.root, self.wheel, self.work, self.cache = root, wheel, work, cache
        self.bin = root / ("Scripts" if os.name == "nt" else "bin")

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(self.bin / "shiptrack"), *map(str, args)], cwd=self.work, capture_output=True,
                              text=True, env=_clean_env(SHIPTRACK_CACHE_DIR=str(self.cache)))
        if check:
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr, done.stderr
        return done

    def python(self, code: str, *args: str) -> str:
        return subprocess.run([str(self.bin / "python"), "-c", code, *args], cwd=self.work, capture_output=True,
                              text=True, check=True, env=_clean_env(SHIPTRACK_CACHE_DIR=str(self.cache))).stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist, venv, work = tmp / "src", tmp / "dist", tmp / "venv", tmp / "work"
    for d in (src, dist, work):
        d.mkdir()
    _copy_sources(src)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = subprocess.run([*pip, "wheel", str(src), "--no-deps", "-w", str(dist), "-v"],
                           capture_output=True, text=True, env=_clean_env())
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    [wheel] = dist.glob("shiptrack-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--quiet", str(wheel),
                    "global-land-mask"], check=True, env=_clean_env())
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    outer = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_test_dependencies.pth").write_text("\n".join(outer) + "\n", encoding="utf-8")
    return Installed(venv, wheel, work, tmp / "cache")


pytestmark = pytest.mark.slow


def test_the_wheel_holds_the_reports_the_reference_data_and_the_compiled_loops(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = {f"shiptrack/queries/{p.name}" for p in (ROOT / "queries").glob("*.sql")}
    assert len(shipped) >= 8 and shipped <= names
    data = {f"shiptrack/reference/data/{p.name}" for p in (ROOT / "shiptrack/reference/data").iterdir()
            if p.is_file()}
    assert "shiptrack/reference/data/README.md" in data and data <= names  # with its provenance and licences
    rules = {f"shiptrack/rules/{p.name}" for p in (ROOT / "shiptrack/rules").glob("*.sql")}
    assert rules <= names and "shiptrack/store/schema.sql" in names
    assert any(n.startswith("shiptrack/decode/accel/_kernels.") for n in names)
    tag = installed.wheel.name.removesuffix(".whl").split("-")[-1]
    assert tag != "any"  # a compiled module: a wheel for this platform


def test_it_runs_from_the_environment_not_the_repository(installed: Installed) -> None:
    out = installed.python("import shiptrack, shiptrack.decode.accel.kernels as k, shiptrack.reports as r\n"
                           "print(shiptrack.__file__); print(k.mode()); print(r.SHIPPED)").splitlines()
    assert all(Path(p).is_relative_to(installed.root) for p in (out[0], out[2])), out
    assert out[1] == "aot"  # the loops compiled at build time, not numba's JIT
    version = installed.run("--version").stdout
    assert metadata.version("shiptrack") in version


def test_report_list_shows_every_shipped_report(installed: Installed) -> None:
    out = installed.run("report", "list").stdout
    for sql in (ROOT / "queries").glob("*.sql"):
        assert f"{sql.stem}:" in out
    assert "--param" in out
    shown = installed.run("report", "show", "dark_near_ports").stdout
    assert shown == (ROOT / "queries" / "dark_near_ports.sql").read_text(encoding="utf-8")


def test_ingest_detect_and_report_on_the_ural(installed: Installed) -> None:
    db = installed.work / "ural.duckdb"
    code = ("import sys; from shiptrack.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('numba' in sys.modules, file=sys.stderr)")
    ingest = subprocess.run([str(installed.bin / "python"), "-c", code, "--db", str(db), "ingest",
                             str(URAL / "ural.nmea")], cwd=installed.work, capture_output=True, text=True,
                            env=_clean_env(), check=True)
    assert ingest.stderr.strip().splitlines()[-1] == "False"  # the compiled loops: no numba
    assert "positions stored" in ingest.stdout
    installed.run("--db", db, "route", "import", URAL / "routes.csv")
    detect = installed.run("--db", db, "detect").stdout
    assert "dark_period" in detect and "unplanned_port_call" in detect
    report = installed.run("--db", db, "report", "run", "dark_near_ports", "--param", "since=2018-02-01",
                           "--param", "until=2018-03-05", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(report)))
    assert [r["mmsi"] for r in rows] == ["352180218"] and rows[0]["vessel_name"] == "URAL", rows
    events = json.loads(installed.run("--db", db, "events", "--vessel", "URAL", "--kind", "dark_period",
                                      "--format", "json").stdout)
    assert [e["port"] for e in events] == ["Banghazi"]
    assert events[0]["details"]["probable_unreported_call"] is True


def test_a_new_environment_adds_no_copy_of_the_land_mask(installed: Installed) -> None:
    """The new environment's own global-land-mask (installed now, so another file, another
    time) and this one's share one cached grid."""
    code = "import shiptrack.reference.land as l; print(bool(l.is_land(50.0, 10.0)), l.mask_source())"
    theirs = installed.python(code).split()
    assert theirs[0] == "True" and Path(theirs[1]).is_relative_to(installed.root)
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=_clean_env(SHIPTRACK_CACHE_DIR=str(installed.cache),
                                         PYTHONPATH=str(ROOT))).stdout.split()
    assert ours[0] == "True" and not Path(ours[1]).is_relative_to(installed.root)
    assert len(list(installed.cache.glob("land-mask-*.npy"))) == 1


def _third_party_imports(extra: bool = False) -> set[str]:
    """What shiptrack's modules import from outside; ``extra``: those of the optional Spark
    engine (shiptrack/spark, the ``spark`` extra) only, else all the others."""
    found: set[str] = set()
    for path in (ROOT / "shiptrack").rglob("*.py"):
        if path.is_relative_to(ROOT / "shiptrack" / "spark") != extra:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("shiptrack", "__future__")}


def test_every_module_shiptrack_imports_is_a_declared_dependency() -> None:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(deps: list[str]) -> set[str]:
        return {re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}

    providers = metadata.packages_distributions()
    for extra, declared in ((False, names(project["dependencies"])),
                            (True, names(project["dependencies"] + project["optional-dependencies"]["spark"]))):
        missing = {m: providers.get(m) for m in _third_party_imports(extra)
                   if not {d.lower().replace("_", "-") for d in providers.get(m, [])} & declared}
        assert not missing, f"imported but not in [project] dependencies{' or the spark extra' * extra}: {missing}"
