"""The docs stay honest: every command has help and appears in the README, and the
README's transcripts are what the commands really print."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from shiptrack.cli import main
from tests.conftest import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, full + " "))
    return out


@pytest.mark.parametrize(("name", "cmd"), _commands(main), ids=[n for n, _ in _commands(main)])
def test_every_command_has_help_and_is_in_the_readme(name: str, cmd: click.Command) -> None:
    assert cmd.help and len(cmd.help) > 30, f"`shiptrack {name}` needs a help text"
    assert f"shiptrack {name}" in README, f"`shiptrack {name}` is not in README.md"


def test_readme_ingest_transcript_is_real(tmp_path: Path) -> None:
    m = re.search(r"\$ shiptrack ingest fixtures/nmea/norwegian.raw\n(.*?)\n\$ ", README, re.S)
    assert m, "README lost its ingest transcript"
    expected = m.group(1).splitlines()
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        out = run_cli(["ingest", "fixtures/nmea/norwegian.raw"], tmp_path / "r.duckdb").output.splitlines()
    finally:
        os.chdir(cwd)
    assert [ln.rstrip() for ln in out] == [ln.rstrip() for ln in expected]
