"""`shiptrack ingest` and `shiptrack decode`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from shiptrack.cli.group import Context, main
from shiptrack.cli.render import print_ingest_summary, progress_reporter
from shiptrack.decode.timesource import TIME_CHOICES
from shiptrack.errors import InputError
from shiptrack.safe_text import terminal

if TYPE_CHECKING:
    from shiptrack.read.sources import Source

_DECODE_COLUMNS = [
    "record", "line_no", "mmsi", "ts", "msg_type", "lat", "lon", "sog", "cog", "heading", "nav_status",
    "accuracy", "part", "imo", "name", "callsign", "ship_type", "to_bow", "to_stern", "to_port",
    "to_starboard", "draught", "destination", "eta", "ais_version", "epfd", "station_time", "station",
    "reason", "detail", "raw",
]
FORMAT_CHOICE = click.Choice(["auto", "nmea", "dma", "noaa", "generic"])
TIME_CHOICE = click.Choice(list(TIME_CHOICES))


def _columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    from shiptrack.decode.archives import parse_columns_option

    return parse_columns_option(text)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--input-format", "fmt", type=FORMAT_CHOICE, default=None,
              help="Input format [default: auto: NMEA, DMA, NOAA and other tools' tables are recognised "
                   "by their content].")
@click.option("--format", "fmt_alias", type=FORMAT_CHOICE, default=None, hidden=True)  # before 0.x: --format
@click.option("--source", "source_name", help="Name to record for the input (useful with '-').")
@click.option("--columns", help="Column mapping for other tools' exports, e.g. mmsi=ssvid,ts=timestamp.")
@click.option("--time-from", type=TIME_CHOICE, default="auto", show_default=True,
              help="Where an NMEA receive time comes from (auto: tag block, $PGHP, prefix, trailer, $GPRMC; "
                   "basestation: the same, with the type 4 base-station reports as the receiver's clock).")
@click.option("--ledger", type=click.Path(dir_okay=False), hidden=True,
              help="Write what became of every line to FILE ('# source' lines, then 'line<TAB>category').")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="spark: decode the files in parallel, one Spark task per file, into a lake (--db FOLDER/).")
@click.option("--master", envvar="SHIPTRACK_SPARK_MASTER", default="local[*]", show_default=True,
              help="With --engine spark: the Spark master [env SHIPTRACK_SPARK_MASTER].")
@click.pass_obj
def ingest(obj: Context, paths: tuple[str, ...], fmt: str | None, fmt_alias: str | None, source_name: str | None,
           columns: str | None, time_from: str, ledger: str | None, engine: str, master: str) -> None:
    """Decode AIS files into the store: files, folders, '-' for stdin, .gz/.bz2/.zip.

    \b
    Re-ingesting a file already stored adds nothing; a message heard by two
    receivers is stored once; a bad line is kept in `rejects` with its reason.

    \b
      shiptrack ingest fixtures/ural/ural.nmea
      zcat day.nmea.gz | shiptrack ingest - --source feed-2018-02-12
      shiptrack ingest track.jsonl --columns mmsi=ssvid,ts=timestamp
      SHIPTRACK_SPARK_MASTER=spark://host:7077 shiptrack --db lake/ ingest --engine spark archive/
    """
    fmt = _input_format(fmt, fmt_alias)
    mapping = _columns(columns)
    if engine == "spark":
        _ingest_spark(obj, paths, fmt, source_name, mapping, time_from, master)
        return
    if obj.lake is not None:
        _ingest_lake(obj, paths, fmt, source_name, mapping, time_from, ledger)
        return
    con = _open_while(obj, _load_decoder)
    from shiptrack.ingest import ingest as run_ingest

    out = open(ledger, "w", encoding="utf-8") if ledger else None  # noqa: SIM115 - closed below
    try:
        with progress_reporter() as progress:
            summary = run_ingest(con, list(paths), fmt=fmt, source_name=source_name, columns=mapping,
                                 time_from=time_from, progress=progress,  # type: ignore[arg-type]
                                 ledger=_ledger_writer(out) if out is not None else None)
    finally:
        con.close()
        if out is not None:
            out.close()
    print_ingest_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _ingest_spark(obj: Context, paths: tuple[str, ...], fmt: str, source_name: str | None,
                  mapping: dict[str, str] | None, time_from: str, master: str) -> None:
    if obj.lake is None:
        raise InputError("--engine spark writes a lake: give --db FOLDER/ (a folder, or a new path ending in /)")
    from shiptrack.spark.ingest import ingest_lake
    from shiptrack.spark.session import spark_session

    spark = spark_session(master)
    try:
        summary = ingest_lake(spark, obj.lake, list(paths), fmt=fmt, source_name=source_name, columns=mapping,
                              time_from=time_from, wait_s=obj.wait_s)  # type: ignore[arg-type]
    finally:
        spark.stop()
    print_ingest_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _ingest_lake(obj: Context, paths: tuple[str, ...], fmt: str, source_name: str | None,
                 mapping: dict[str, str] | None, time_from: str, ledger: str | None) -> None:
    """`ingest` into a lake: the same decoding and summary (shiptrack.lake.ingest)."""
    from shiptrack.lake.ingest import ingest_lake

    assert obj.lake is not None
    out = open(ledger, "w", encoding="utf-8") if ledger else None  # noqa: SIM115 - closed below
    try:
        with progress_reporter() as progress:
            summary = ingest_lake(obj.lake, list(paths), fmt=fmt, source_name=source_name, columns=mapping,
                                  time_from=time_from, progress=progress,  # type: ignore[arg-type]
                                  ledger=_ledger_writer(out) if out is not None else None, wait_s=obj.wait_s)
    finally:
        if out is not None:
            out.close()
    print_ingest_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _input_format(fmt: str | None, old: str | None) -> str:
    """--input-format, or the --format that `ingest` took before (kept for old scripts)."""
    if fmt is not None and old is not None and fmt != old:
        raise click.UsageError(f"--input-format {fmt} and --format {old} disagree; give --input-format only")
    return fmt or old or "auto"


def _ledger_writer(out: Any) -> Callable[[Source], Callable[..., None]]:  # noqa: ANN401 - a text file
    """``--ledger``: a hidden option for audits and the tests (tests/decode/test_line_accounting.py),
    which check the accounting line by line: what became of each line of each source."""
    from shiptrack.decode.accounting import category_names

    def for_source(src: Source) -> Callable[..., None]:
        out.write(f"# {src.display}\n")

        def write(lines: Any, cats: Any) -> None:  # noqa: ANN401 - numpy arrays
            names = category_names(cats)
            out.write("".join(f"{n}\t{c}\n" for n, c in zip(lines.tolist(), names, strict=True)))

        return write

    return for_source


def _load_decoder() -> None:
    """Import the ingest modules and load the decoding kernels (about 0.4 s; 0.3-0.5 s more
    when numba compiles the kernels just in time instead: shiptrack.decode.accel.kernels)."""
    from shiptrack.ingest import warm_up

    warm_up()


def _open_while(obj: Context, work: Callable[[], None]):  # noqa: ANN202 - a DuckDB connection
    """Open (or create) the store in a thread while this one does ``work``: creating a store
    takes 0.15-0.25 s, mostly inside DuckDB, which lets the GIL go. Errors of either are
    raised here, and the store is closed if ``work`` failed."""
    import threading

    opened: dict[str, Any] = {}

    def open_store() -> None:
        try:
            opened["con"] = obj.connect()
        except BaseException as err:  # noqa: BLE001 - raised again below, in this thread
            opened["error"] = err

    opening = threading.Thread(target=open_store, name="shiptrack-open-store", daemon=True)
    opening.start()
    try:
        work()
    except BaseException:
        opening.join()
        if "con" in opened:
            opened["con"].close()
        raise
    opening.join()
    if "error" in opened:
        raise opened["error"]
    return opened["con"]


@main.command()
@click.argument("path")
@click.option("--format", "out_format", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="Output format.")
@click.option("--input-format", "fmt", type=FORMAT_CHOICE, default="auto", show_default=True,
              help="Input format; auto recognises NMEA, DMA, NOAA and other tools' tables by their content.")
@click.option("--columns", help="Column mapping for other tools' exports, e.g. mmsi=ssvid,ts=timestamp.")
@click.option("--time-from", type=TIME_CHOICE, default="auto", show_default=True,
              help="Where an NMEA receive time comes from (as for ingest).")
@click.option("--rejects/--no-rejects", default=True, show_default=True, help="Also print rejected lines.")
def decode(path: str, out_format: str, fmt: str, columns: str | None, time_from: str, rejects: bool) -> None:
    """Decode a file without a database and print one record per message (like gpsdecode).

    \b
    Every record has a `record` field: position, static, base_station or reject.
    A message with no receive time is printed too, with an empty `ts`.
      shiptrack decode fixtures/ural/ural.nmea | head
    """
    from shiptrack.read.sources import expand_inputs, remove_temporary

    sources = expand_inputs([path])
    for src in sources:
        if src.error is not None:
            remove_temporary(sources)
            raise InputError(f"{src.display}: {src.error}")
    try:
        _decode_sources(sources, fmt, columns, time_from, out_format, rejects)
    finally:
        remove_temporary(sources)
    if not sources:
        raise InputError(f"{path}: nothing to decode")


def _decode_sources(sources: list[Source], fmt: str, columns: str | None, time_from: str, out_format: str,
                    rejects: bool) -> None:
    from shiptrack.read.sources import READ_ERRORS, read_error_text

    header = True
    for src in sources:
        try:
            header = _decode_one(src, fmt, columns, time_from, out_format, rejects, header)
        except READ_ERRORS as err:
            raise InputError(f"{src.display}: {read_error_text(err)}") from err


def _decode_one(src: Source, fmt: str, columns: str | None, time_from: str, out_format: str, rejects: bool,
                header: bool) -> bool:
    """Print the records of one source; returns whether a CSV header is still to be written."""
    import polars as pl

    from shiptrack.decode.normalize import (
        clean_base_stations,
        clean_positions,
        clean_statics,
        explain_untimed,
    )
    from shiptrack.ingest import decode_source

    chosen, detail, batches = decode_source(src, fmt, _columns(columns), time_from)  # type: ignore[arg-type]
    if chosen != "nmea":  # a table: say how its columns were read
        click.echo(f"{terminal(src.display)}: {chosen} ({terminal(detail)})", err=True)
    for batch in batches:
        # like gpsdecode: a message without a receive time is printed (ts empty)
        pos, rp = clean_positions(batch.positions, untimed_ok=True)
        st, rs = clean_statics(batch.statics, untimed_ok=True)
        bs, rb = clean_base_stations(batch.base_stations, untimed_ok=True)
        parts = [
            pos.drop("dedup").with_columns(pl.lit("position").alias("record")),
            st.drop("dedup").with_columns(pl.lit("static").alias("record")),
            bs.drop("dedup").with_columns(pl.lit("base_station").alias("record")),
        ]
        if rejects:
            rej, _ = explain_untimed(pl.concat([batch.rejects, rp, rs, rb]), batch.time_notes)
            parts.append(rej.with_columns(pl.lit("reject").alias("record")))
        out = pl.concat([p for p in parts if p.height], how="diagonal_relaxed") if any(
            p.height for p in parts) else None
        if out is None:
            continue
        out = out.sort("line_no").select("record", pl.exclude("record"))
        out = out.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
        if out_format == "jsonl":
            for rec in out.iter_rows(named=True):
                keep = {k: v for k, v in rec.items() if v is not None or (k == "ts" and rec["record"] != "reject")}
                sys.stdout.write(json.dumps(keep) + "\n")
        else:
            from shiptrack.export.tabular import csv_safe_frame

            out = out.select([pl.col(c) if c in out.columns else pl.lit(None).alias(c)
                              for c in _DECODE_COLUMNS])
            sys.stdout.write(csv_safe_frame(out).write_csv(include_header=header))
            header = False
    return header
