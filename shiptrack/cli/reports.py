"""`shiptrack report`, `shiptrack query` and `shiptrack export`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from shiptrack.cli.group import Context, main
from shiptrack.cli.options import emit, output_options, window_options, write_text
from shiptrack.errors import InputError, RuleError, first_line

queries_option = click.option(
    "--queries", "queries", type=click.Path(file_okay=False, path_type=Path), multiple=True,
    help="Also use the reports in this folder (yours win over shipped ones of the same name).")


@main.group()
def report() -> None:
    """SQL reports from queries/: list them, show one, run one (e.g. from cron).

    \b
      shiptrack report list
      shiptrack report run dark_near_ports --param since=2018-02-01 --format csv
      shiptrack report run port_calls --param port=Benghazi --output-dir reports/
    """


@report.command("list")
@queries_option
def report_list(queries: tuple[Path, ...]) -> None:
    """List the reports with their titles and parameters."""
    from shiptrack.cli.render import _t, console
    from shiptrack.reports import catalogue

    for r in catalogue(list(queries)).values():
        console.print(f"[bold]{_t(r.name)}[/]: {_t(r.title)}")
        for p in r.params.values():
            console.print(_t(f"    --param {p.name}={p.default}  ({p.type}) {p.doc}"))


@report.command("show")
@click.argument("name")
@queries_option
def report_show(name: str, queries: tuple[Path, ...]) -> None:
    """Print a report's header and SQL."""
    from shiptrack.reports import get_report

    click.echo(get_report(name, list(queries)).sql, nl=False)


@report.command("run")
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A report parameter.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write <report>_<UTC time>.<ext> into this folder (keeps a history under cron).")
@queries_option
@output_options(("table", "csv", "json", "md"))
@click.pass_obj
def report_run(obj: Context, name: str, params: tuple[str, ...], output_dir: Path | None,
               queries: tuple[Path, ...], fmt: str, output: Path | None, unsafe_csv: bool) -> None:
    """Run a report; parameters are bound, never pasted into the SQL."""
    from shiptrack.reports import get_report, output_name, run_report
    from shiptrack.rules.registry import parse_params

    rep = get_report(name, list(queries))
    con = obj.connect(confined=True)
    bound: dict = {}
    try:
        df = run_report(con, rep, parse_params(params), bound)
        if df.height == 0 and (fmt == "table" or output is not None or output_dir is not None):
            _say_empty(con, rep.name, bound)  # (not between a script and the CSV it reads)
    finally:
        con.close()
    if output_dir is not None:
        from shiptrack.export.tabular import render
        from shiptrack.reports import write_new_file

        ext = "csv" if fmt == "table" else fmt
        path = write_new_file(output_dir, output_name(rep.name, ext), render(df, ext, safe=not unsafe_csv))
        click.echo(f"wrote {df.height} rows to {path}", err=True)
        return
    emit(df, fmt, output, title=rep.title, unsafe_csv=unsafe_csv)


def _say_empty(con, name: str, bound: dict) -> None:  # noqa: ANN001 - a DuckDB connection
    """No rows: say for which window, and what the store holds (on standard error)."""
    from datetime import datetime

    from shiptrack.reports import data_span
    from shiptrack.safe_text import terminal
    from shiptrack.times import iso_utc

    first, last = data_span(con)
    window = ", ".join(f"{k}={iso_utc(v)}" for k, v in bound.items() if isinstance(v, datetime))
    held = (f"the store holds data from {iso_utc(first)} to {iso_utc(last)}" if last is not None
            else "the store holds no positions or static reports")
    click.echo(terminal(f"report {name}: no rows" + (f" for {window}" if window else "") + f"; {held}"
                        + (" (widen the window with --param since=... --param until=...)" if window else "")),
               err=True)


@main.command()
@click.argument("sql")
@output_options(("table", "csv", "json", "md"))
@click.pass_obj
def query(obj: Context, sql: str, fmt: str, output: Path | None, unsafe_csv: bool) -> None:
    """Run a read-only SQL query against the store, for the curious.

    \b
      shiptrack query "SELECT name, flag, last_seen FROM vessels ORDER BY last_seen DESC LIMIT 10"
    """
    from shiptrack.reports import run_query

    con = obj.connect(confined=True)
    try:
        df = run_query(con, sql)
    finally:
        con.close()
    emit(df, fmt, output, unsafe_csv=unsafe_csv)


EXPORT_TABLES = ("positions", "static_reports", "base_stations", "sources", "rejects", "events",
                 "vessels", "identity_history", "ports")

# --since/--until on a table: the rows whose time span meets the window, as (end, start)
# columns: a row is kept when end >= since and start < until. Events are kept by their
# start, as `shiptrack events` does; a file (sources) by the times of the data it holds.
_TABLE_TIMES = {
    "positions": ("ts", "ts"), "static_reports": ("ts", "ts"), "base_stations": ("ts", "ts"),
    "sources": ("last_ts", "first_ts"), "vessels": ("last_seen", "first_seen"),
    "identity_history": ("last_seen", "first_seen"),
}

# the order of a table's rows in an export: the same from a store and from a lake (whose
# files are read by partition), and from one run to the next (views are grouped in parallel)
_TABLE_ORDER = {
    "positions": "source_id, line_no, ts, mmsi", "static_reports": "source_id, line_no, ts, mmsi",
    "base_stations": "source_id, line_no, ts, mmsi", "sources": "source_id", "rejects": "source_id, line_no",
    "vessels": "mmsi", "identity_history": "mmsi, field, first_seen, value", "ports": "port_id",
}


@main.command()
@click.argument("what")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "geojson"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Parameters, for a report.")
@window_options
@click.option("--unsafe-csv", is_flag=True, help="Do not neutralise spreadsheet formulas (machine use).")
@queries_option
@click.pass_obj
def export(obj: Context, what: str, fmt: str, output: Path, params: tuple[str, ...], since: datetime | None,
           until: datetime | None, unsafe_csv: bool, queries: tuple[Path, ...]) -> None:
    """Bulk export of a table or a report's result: csv, parquet or geojson.

    \b
    WHAT is a table (positions, static_reports, base_stations, sources, rejects,
    events, vessels, identity_history, ports) or a report (`shiptrack report list`).
    events has the columns of `shiptrack events`, with the finding in words.
    --since/--until keep a table's rows of that time (positions and reports by
    receive time, events by start, vessels and identities by when they were seen),
    or set a report's since and until.
      shiptrack export events --format csv -o events.csv
      shiptrack export positions --since 2018-02-01 --until 2018-02-08 --format parquet -o week.parquet
      shiptrack export dark_near_ports --since 2018-02-01 --format geojson -o dark.geojson
    """
    from shiptrack.events import JSON_COLUMNS, for_format, query_events
    from shiptrack.export.geo import frame_to_geojson
    from shiptrack.export.tabular import render
    from shiptrack.reports import ReportNotFound, catalogue, run_report
    from shiptrack.rules.registry import parse_params
    from shiptrack.store.db import frame

    reports = catalogue(list(queries))
    if what not in EXPORT_TABLES and what not in reports:
        raise ReportNotFound(f"no table or report named {what!r}; tables: {', '.join(EXPORT_TABLES)}; "
                             f"reports: {', '.join(sorted(reports))}")
    window = since is not None or until is not None
    if what in EXPORT_TABLES and params:
        raise RuleError(f"--param is for reports; {what} is a table (use --since/--until for its time)")
    if what in EXPORT_TABLES and window and what not in _TABLE_TIMES and what != "events":
        raise RuleError(f"--since/--until: {what} has no time of its own; they apply to "
                        f"{', '.join([*_TABLE_TIMES, 'events'])} and to reports")
    given = parse_params(params) if what not in EXPORT_TABLES else []
    if what in reports and what not in EXPORT_TABLES and window:
        rep = reports[what]
        named = {text.partition("=")[0].strip().rsplit(".", 1)[-1] for text in given}
        for name, value in (("since", since), ("until", until)):
            if value is None:
                continue
            if name not in rep.params:
                raise RuleError(f"report {what} has no {name} parameter; it takes: {', '.join(rep.params) or 'none'}")
            if name in named:
                raise RuleError(f"--{name} and --param {name}=... both given: give one")
            given.append(f"{name}={value.isoformat()}")
    con = obj.connect(confined=True)
    try:
        if what == "events":
            df = for_format(query_events(con, since=since, until=until), fmt)
        elif what in EXPORT_TABLES:
            end, start = _TABLE_TIMES.get(what, (None, None))
            where = (f" WHERE ($since IS NULL OR {end} >= $since) AND ($until IS NULL OR {start} < $until)"
                     if window else "")
            # `what` is one of EXPORT_TABLES and the columns come from _TABLE_TIMES; the times are bound
            order = f" ORDER BY {_TABLE_ORDER[what]}" if what in _TABLE_ORDER else ""
            df = frame(con, f"SELECT * FROM {what}{where}{order}",  # noqa: S608
                       {"since": since, "until": until} if window else None)
        else:
            df = run_report(con, reports[what], given)
    finally:
        con.close()
    if fmt == "parquet":
        try:
            df.write_parquet(output)
        except OSError as err:
            raise InputError(f"cannot write {output}: {first_line(err)}") from err
    elif fmt == "geojson":
        write_text(output, frame_to_geojson(df, json_columns=JSON_COLUMNS if what == "events" else ()))
    else:
        write_text(output, render(df, "csv", safe=not unsafe_csv))
    click.echo(f"wrote {df.height} rows to {output}", err=True)
