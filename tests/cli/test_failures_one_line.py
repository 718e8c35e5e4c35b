"""User-facing failures end in one line, never a traceback, and lose or overwrite nothing.

A full disk during an ingest (a file-size limit stands in for it), an --output-dir that is
a file, a report whose title is rich markup, and two scheduled runs of one report in the
same second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ingest_lines, ping, query, run_cli


def test_a_full_disk_fails_that_file_in_one_line_and_keeps_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert run_cli(["ingest", FIXTURES / "nmea" / "norwegian.raw"], db).exit_code == 0
    before = query(db, "SELECT count(*), sum(mmsi) FROM positions")
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({db.stat().st_size + 200_000},) * 2)\n"
            "from shiptrack.cli import run\n"
            f"sys.argv = ['shiptrack', '--db', {str(db)!r}, 'ingest', {str(FIXTURES / 'ural' / 'ural.nmea')!r}]\n"
            "run()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = [x for x in done.stdout.splitlines() if "ural.nmea" in x]
    assert "failed: the store could not be written" in line and "File too large" in line
    assert query(db, "SELECT count(*), sum(mmsi) FROM positions") == before
    assert query(db, "SELECT count(*) FROM sources") == [(1,)]


def test_an_output_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest_lines(db, [ping("2018-02-20T00:00:00Z", 32.6, 19.4)])
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    result = run_cli(["report", "run", "port_calls", "--output-dir", blocker], db)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert blocker.read_text() == "not a folder"


def test_two_runs_in_the_same_second_never_overwrite(tmp_path: Path) -> None:
    from shiptrack.reports import write_new_file

    db = tmp_path / "s.duckdb"
    ingest_lines(db, [ping("2018-02-20T00:00:00Z", 32.6, 19.4)])
    out = tmp_path / "reports"
    paths = [write_new_file(out, "port_calls_20260101T000000Z.csv", f"run {k}\n") for k in range(3)]
    assert [p.name for p in paths] == ["port_calls_20260101T000000Z.csv", "port_calls_20260101T000000Z_2.csv",
                                       "port_calls_20260101T000000Z_3.csv"]
    assert [p.read_text() for p in paths] == ["run 0\n", "run 1\n", "run 2\n"]
    for _ in range(2):  # through the CLI, as cron would, twice within a second
        result = run_cli(["report", "run", "receivers", "--param", "since=2018-01-01", "--output-dir", out], db)
        assert result.exit_code == 0, result.output
    assert len(list(out.glob("receivers_*.csv"))) == 2


def test_a_report_title_with_markup_is_shown_as_text(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest_lines(db, [ping("2018-02-20T00:00:00Z", 32.6, 19.4)])
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "odd.sql").write_text("-- title: [bold red]Odd[/ [link=x]title\n-- description: markup\n"
                                     "SELECT count(*) AS n FROM positions\n")
    for args in (["report", "run", "odd", "--queries", queries], ["report", "list", "--queries", queries]):
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output
        assert "[bold red]Odd[/ [link=x]title" in result.output
