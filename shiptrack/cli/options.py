"""Options shared by several commands, defined once so every command speaks the same formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shiptrack.times import parse_utc

if TYPE_CHECKING:
    import polars as pl


class UtcTime(click.ParamType):
    """ISO-8601 (naive = UTC), a date, or 'N days ago'."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        from shiptrack.times import parse_when

        try:
            return parse_when(str(value))
        except ValueError:
            try:
                return parse_utc(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a time: use 2018-02-01, 2018-02-01T12:00Z or '7 days ago'",
                          param, ctx)


UTC_TIME = UtcTime()


def window_options(f: Callable) -> Callable:
    f = click.option("--until", type=UTC_TIME, help="Only before this UTC time (ISO-8601).")(f)
    f = click.option("--since", type=UTC_TIME, help="Only from this UTC time (ISO-8601, or '7 days ago').")(f)
    return f


def output_options(formats: tuple[str, ...] = ("table", "csv", "json", "md")) -> Callable:
    def deco(f: Callable) -> Callable:
        f = click.option("--unsafe-csv", is_flag=True,
                         help="Do not neutralise spreadsheet formulas in CSV text cells (machine use).")(f)
        f = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                         help="Write to this file instead of the terminal.")(f)
        f = click.option("--format", "fmt", type=click.Choice(formats), default=formats[0],
                         show_default=True, help="Output format.")(f)
        return f
    return deco


def emit(df: pl.DataFrame, fmt: str, output: Path | None, title: str | None = None,
         unsafe_csv: bool = False, json_columns: tuple[str, ...] = ()) -> None:
    """Print or write a frame in the chosen format (``json_columns``: columns of JSON text,
    objects in JSON output)."""
    from shiptrack.cli.render import print_frame
    from shiptrack.export.tabular import nested_as_text, render

    if fmt == "table" and output is None:
        print_frame(nested_as_text(df), title)
        return
    text = render(df, "csv" if fmt == "table" else fmt, safe=not unsafe_csv, json_columns=json_columns)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text(output, text)
        click.echo(f"wrote {len(df)} rows to {output}", err=True)


def write_text(path: Path, text: str) -> None:
    """Write an output file, or fail with one line (a folder in the way, no permission, a
    full disk: the partial file is removed)."""
    import contextlib

    from shiptrack.errors import InputError, first_line

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        with contextlib.suppress(OSError):
            if path.is_file():
                path.unlink()
        raise InputError(f"cannot write {path}: {first_line(err)}") from err
