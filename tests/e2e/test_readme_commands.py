"""Every command the README shows runs, as written, on the demo store (`make demo`'s
steps, which run here too), and so does every example in the commands' --help: the
vessels they name exist there, the files they write are written, nothing ends in a
traceback. The README's transcripts and its demo dossier are what the commands print."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from shiptrack.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
pytestmark = pytest.mark.slow

# The files the examples read that the repository does not hold, as a reader would make them.
LIBYA_COAST = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
    [19.5, 30.2], [20.4, 31.0], [20.2, 32.3], [19.6, 31.6], [19.5, 30.2]]]}}
VOYAGES_CSV = "mmsi,ports,departed\n352180218,Novorossiysk > Sfax? > Douala,2018-02-03T06:00:00Z\n"
TRACK_JSONL = '{"ssvid": 352180218, "timestamp": "2018-03-05T00:00:00Z", "lat": 36.0, "lon": 15.0}\n'


def _readme_commands() -> list[str]:
    """The `$ shiptrack ...` lines of the README's code blocks, in order, and the crontab line."""
    lines = []
    for block in re.findall(r"^```\w*\n(.*?)^```", README, re.S | re.M):
        for line in block.splitlines():
            if line.startswith("$ shiptrack "):
                lines.append(line[2:])
            elif ".venv/bin/shiptrack " in line:  # the crontab example: the command after `cd ... &&`
                lines.append("shiptrack " + line.split(".venv/bin/shiptrack ", 1)[1])
    return lines


def _demo_commands() -> list[str]:
    """`make demo`'s shiptrack commands (the Makefile's `demo:` recipe)."""
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert recipe, "the Makefile has no demo recipe"
    return ["shiptrack " + ln.strip().removeprefix("$(ST)").strip() for ln in recipe.group(1).splitlines()
            if ln.strip().startswith("$(ST)")]


def _help_examples() -> list[tuple[str, str]]:
    """Every `shiptrack ...` example line in the commands' --help texts."""
    out = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            for line in (cmd.help or "").splitlines():
                if line.strip().startswith("shiptrack "):
                    out.append((f"{prefix}{name}", line.strip()))
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")

    for line in (main.help or "").splitlines():
        if line.strip().startswith("shiptrack "):
            out.append(("main", line.strip()))
    walk(main, "")
    return out


def _invoke(line: str) -> tuple[Result, str]:
    """Run a documented command line in this process, in the current folder; returns the
    result and what a pipe after it (`| head -1`) would show."""
    words = shlex.split(line, comments=True)
    pipe = words[words.index("|") + 1:] if "|" in words else []
    words = words[:words.index("|")] if pipe else words
    assert words[0] == "shiptrack", line
    result = CliRunner().invoke(main, words[1:], catch_exceptions=True)
    text = result.output
    if pipe[:1] == ["head"]:
        n = int(pipe[1].lstrip("-")) if len(pipe) > 1 else 10
        text = "".join(text.splitlines(keepends=True)[:n])
    return result, text


def _written(line: str) -> list[str]:
    """The files a command line says it writes (-o, --map, --png)."""
    words = shlex.split(line, comments=True)
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output", "--map", "--png")]


def _check(line: str) -> Result:
    result, _ = _invoke(line)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"`{line}` raised {result.exception!r}")
    assert result.exit_code == 0, f"`{line}` exited {result.exit_code}: {result.output[-2000:]}"
    assert "Traceback" not in result.output, line
    for name in _written(line):
        assert Path(name).is_file() and Path(name).stat().st_size > 0, f"`{line}` did not write {name}"
    return result


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, made by `make demo`'s commands in a folder of its own."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / "fixtures").symlink_to(ROOT / "fixtures", target_is_directory=True)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for line in _demo_commands():
            _check(line.replace("shiptrack --db shiptrack.duckdb ", "shiptrack "))
    finally:
        os.chdir(cwd)
    return folder / "shiptrack.duckdb"


@pytest.fixture
def in_demo(demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder like a clone's after `make demo`: its store (a copy), `fixtures/`, and the
    files the examples name."""
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures", target_is_directory=True)
    shutil.copyfile(demo_store, tmp_path / "shiptrack.duckdb")
    (tmp_path / "libya_coast.geojson").write_text(json.dumps(LIBYA_COAST), encoding="utf-8")
    (tmp_path / "ras_lanuf.geojson").write_text(json.dumps(LIBYA_COAST), encoding="utf-8")
    (tmp_path / "sfax.geojson").write_text(json.dumps(LIBYA_COAST), encoding="utf-8")
    (tmp_path / "voyages.csv").write_text(VOYAGES_CSV, encoding="utf-8")
    (tmp_path / "track.jsonl").write_text(TRACK_JSONL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPTRACK_DB", raising=False)
    return tmp_path


def test_the_readme_names_its_commands() -> None:
    lines = _readme_commands()
    assert len(lines) >= 20
    assert any(ln.startswith("shiptrack --db /srv/ais/store.duckdb") for ln in lines)  # the crontab line


def test_every_readme_command_runs_on_the_demo_store(in_demo: Path) -> None:
    for line in _readme_commands():
        line = line.replace("/srv/ais/store.duckdb", str(in_demo / "shiptrack.duckdb"))
        line = line.replace("/srv/ais/reports", str(in_demo / "cron_reports"))
        _check(line)  # a vessel the demo store does not hold would exit 2
    assert list((in_demo / "reports").glob("port_calls_*.csv"))
    assert list((in_demo / "cron_reports").glob("dark_near_ports_*.csv"))
    events = (in_demo / "events.csv").read_text(encoding="utf-8").splitlines()
    assert events[0].endswith(",other_mmsi,finding,details,evidence")


def test_the_readme_decode_line_is_what_decode_prints(in_demo: Path) -> None:
    m = re.search(r"^\$ (shiptrack decode .*\| head -1)\n(.*)$", README, re.M)
    assert m, "README lost its decode example"
    _, text = _invoke(m.group(1))
    assert text.rstrip("\n") == m.group(2)


def test_the_readme_dossier_is_what_vessel_ural_prints(in_demo: Path) -> None:
    """The Markdown dossier of "What the demo finds" (its headings two levels down)."""
    m = re.search(r"^(### URAL — .*?)\n!\[", README, re.S | re.M)
    assert m, "README lost the demo dossier"
    _, text = _invoke("shiptrack vessel URAL --format md")
    assert re.sub(r"^#", "###", text, flags=re.M).strip() == m.group(1).strip()


def test_the_readme_library_example_runs(in_demo: Path) -> None:
    m = re.search(r"^```python\n(.*?)^```", README, re.S | re.M)
    assert m, "README lost its library example"
    (in_demo / "shiptrack.duckdb").unlink()  # it starts from an empty store, as a reader's would
    done = subprocess.run([sys.executable, "-c", m.group(1)], cwd=in_demo, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"136 positions\n\[.*\]\n", done.stdout, re.S), done.stdout


@pytest.mark.parametrize(("command", "line"), _help_examples(), ids=[f"{c}: {ln}" for c, ln in _help_examples()])
def test_every_help_example_runs_on_the_demo_store(in_demo: Path, command: str, line: str) -> None:
    _check(line)
