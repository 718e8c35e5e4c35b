"""Rendering for the terminal: rich tables and a progress bar only on a TTY."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shiptrack.safe_text import rich_text, terminal
from shiptrack.times import iso_utc, iso_utc_expr

if TYPE_CHECKING:  # not imported at run time: `shiptrack vessel` need not load the decoders
    from rich.console import Console

    from shiptrack.ingest import IngestSummary, ProgressFn
    from shiptrack.read.sources import Source

_console: Console | None = None


def _out() -> Console:
    """The console all output goes to, made on first use: rich is imported then (40-50 ms
    that a command printing JSON or CSV does not spend).

    A terminal gets its own width; a pipe or a file (cron, `make demo > log`) gets a wide,
    stable one rather than rich's 80 columns, so tables are not folded into slivers."""
    global _console
    if _console is None:
        from rich.console import Console

        columns = os.environ.get("COLUMNS", "")
        _console = Console(highlight=False, emoji=False, soft_wrap=True,
                           width=None if sys.stdout.isatty() else int(columns) if columns.isdigit() else 140)
    return _console


def __getattr__(name: str) -> Any:  # noqa: ANN401 - `from shiptrack.cli.render import console`
    if name == "console":
        return _out()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def progress_reporter() -> Iterator[ProgressFn | None]:
    """A bytes-read progress bar per file when stderr is a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        def update(src: Source, done: int) -> None:
            key = src.display
            if key not in tasks:
                tasks[key] = bar.add_task(key[-40:], total=src.size_bytes or None)
            bar.update(tasks[key], completed=done)

        yield update


def _n(v: int) -> str:
    return f"{v:,}"


# no_timestamp rejects of messages whose clock was not trusted (shiptrack.decode.nmea UNTIMED_*)
_UNTIMED = {"arrival": "arrival time only", "clock_mismatch": "receiver clock disagrees",
            "clock_far": "receiver clock too far before", "tag_stream": "untimed in a tag-block stream"}


# What became of the lines read (shiptrack.decode.accounting): they add up to "lines read".
_LINE_ROWS = (("stored", "  in stored messages"), ("duplicate", "  in duplicates"),
              ("other_type", "  in other message types"), ("time", "  time sentences ($PGHP, RMC, ZDA)"),
              ("header", "  header lines"), ("rejected", "  rejected"))


def print_ingest_summary(summary: IngestSummary) -> None:
    from rich.table import Table

    for r in summary.results:
        if r.status == "already":
            _out().print(
                f"[bold]{_t(r.source.display)}[/]: already ingested as source #{r.source_id} "
                f"on {iso_utc(r.previous_ingest)} (same SHA-256); nothing added."
            )
        elif r.status == "failed":
            _out().print(f"[bold red]{_t(r.source.display)}: failed[/]: {_t(r.error)} (nothing stored from it)")
        else:
            detail = r.format_detail.split("; WARNING: ")[0]
            _out().print(f"[bold]{_t(r.source.display)}[/]: source #{r.source_id}, {r.format} ({_t(detail)})")
            for w in r.warnings:
                _out().print(f"[bold yellow]warning[/]: {_t(r.source.display)}: {_t(w)}")
    done = [r for r in summary.results if r.status == "ingested"]
    if not done:
        return
    t = summary.total()
    table = Table(title="Ingest summary", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_row("files ingested", _n(len(done)))
    table.add_row("lines read", _n(t.lines))
    lc = t.line_counts
    for name, label in _LINE_ROWS:
        if lc[name] or name in ("stored", "duplicate", "rejected"):
            table.add_row(label, _n(lc[name]))
    if lc["unaccounted"]:
        table.add_row("[bold red]  not accounted for (a bug: please report it)[/]", _n(lc["unaccounted"]))
    table.add_row("messages decoded", _n(t.messages))
    for mt, n in sorted(t.type_counts.items()):
        table.add_row(f"  type {mt}" if mt else "  archive rows, class unknown", _n(n))
    table.add_row("positions stored", _n(t.positions))
    table.add_row("static reports stored", _n(t.static_reports))
    table.add_row("base-station reports stored", _n(t.base_stations))
    table.add_row("duplicates skipped", _n(t.duplicates))
    table.add_row("rejects kept", _n(t.rejects))
    for reason, n in sorted(t.reject_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", _n(n))
        if reason == "no_timestamp":
            for cat, k in sorted(t.untimed.items(), key=lambda kv: (-kv[1], kv[0])):
                table.add_row(f"    clock not trusted: {_UNTIMED.get(cat, cat)}", _n(k))
    _out().print(table)
    _out().print(
        f"Store now holds {_n(summary.vessels)} vessels, "
        f"{iso_utc(summary.first_ts) or '-'} to {iso_utc(summary.last_ts) or '-'}."
    )


def _t(text: object) -> str:
    """Untrusted text inside rich markup: controls shown as escapes, markup escaped."""
    from rich.markup import escape

    return escape(terminal(text))


def print_frame(df, title: str | None = None, max_rows: int = 200) -> None:  # noqa: ANN001
    """A rich table of a polars frame; long text is folded, times shown as ISO UTC. Cells
    are shown exactly (no markup, no emoji codes), controls as escapes."""
    import polars as pl
    from rich.table import Table

    shown = df.head(max_rows)
    atomic = {c: _atomic(shown[c]) for c in shown.columns}
    shown = shown.with_columns(
        iso_utc_expr(pl.col(pl.Datetime))
    )
    table = Table(title=rich_text(title) if title else None, show_header=True, header_style="bold",
                  show_lines=False)
    needed = 1
    for c in shown.columns:
        longest = max((len(terminal(v)) for v in shown[c].to_list() if v is not None), default=1)
        # a time, a number, an id: as wide as its longest value, so that none is broken across
        # lines (the header may be); text may wrap between words, down to 12 characters
        width = longest if atomic[c] else min(longest, 12)
        table.add_column(rich_text(c), overflow="fold", min_width=width)
        needed += width + 3
    for row in shown.iter_rows():
        table.add_row(*(rich_text("" if v is None else v) for v in row))
    console = _out()
    if needed > console.width:  # wider than the terminal rather than break a value
        console.print(table, width=needed, crop=False)
    else:
        console.print(table)
    if df.height > max_rows:
        _out().print(f"... {df.height - max_rows} more rows (use --format csv -o FILE for all)")
    elif df.height == 0:
        _out().print("(no rows)")


def _atomic(col) -> bool:  # noqa: ANN001 - a polars Series
    """A column whose values are read whole (times, numbers, ids, codes): no value has a space
    and none is long."""
    import polars as pl

    dtype = col.dtype
    if dtype.is_temporal() or dtype.is_numeric() or dtype == pl.Boolean:
        return True
    if dtype != pl.String:
        return False
    values = col.drop_nulls()
    return values.len() == 0 or bool(
        (values.str.len_chars().max() or 0) <= 32 and not values.str.contains(r"\s").any())


def print_rule_list(rules) -> None:  # noqa: ANN001
    """`detect --list`: one line per rule (its name, the kinds it finds, its title)."""
    width = max((len(r.name) for r in rules.values()), default=0)
    for r in rules.values():
        _out().print(f"[bold]{_t(r.name.ljust(width))}[/]  {_t(r.title)} ({_t(', '.join(r.kinds))}; "
                     f"{len(r.params)} parameter{'' if len(r.params) == 1 else 's'})")
    _out().print("Describe one, with its parameters: shiptrack detect --list RULE (all: --list --long). "
                 "Set one: --param RULE.NAME=VALUE")


def print_rules(rules) -> None:  # noqa: ANN001
    for r in rules.values():
        _out().print(f"[bold]{_t(r.name)}[/]  kinds: {_t(', '.join(r.kinds))}")
        _out().print(f"  {_t(r.title)}. {_t(r.description)}")
        for line in r.header_lines():
            _out().print(f"  {_t(line)}")
        _out().print()


def print_detect_summary(summary) -> None:  # noqa: ANN001
    from rich.table import Table

    table = Table(title="Detection", show_header=True, header_style="bold")
    table.add_column("kind")
    table.add_column("events", justify="right")
    for kind, n in summary.counts.items():
        table.add_row(kind, _n(n))
    _out().print(table)
    window = f"{iso_utc(summary.since) or 'start'} to {iso_utc(summary.until) or 'end'}"
    _out().print(f"Rules run: {', '.join(summary.rules_run)}; window {window}.")


def print_dossier(d) -> None:  # noqa: ANN001
    """The dossier in the terminal. AIS text is shown exactly: controls as escapes, no markup.
    A section with nothing to show is left out (an empty timeline is one sentence)."""
    from rich.table import Table

    from shiptrack.dossier import (
        compact_evidence,
        headline,
        holes_sentences,
        no_findings_sentence,
        seen_sentence,
    )

    title, facts = headline(d.vessel, callsign=True)
    _out().print(f"[bold]{_t(title)}[/]" + "".join(f"  {_t(f)}" for f in facts))
    _out().print(_t(seen_sentence(d)))
    for line in holes_sentences(d):
        _out().print(_t(line))
    if d.identities:
        ids = Table(title="Identity history", header_style="bold")
        for c in ("field", "value", "first seen", "last seen", "reports"):
            ids.add_column(c)
        for r in d.identities:
            ids.add_row(r["field"], _t(str(r["value"])), r["first_seen"], r["last_seen"], str(r["reports"]))
        _out().print(ids)
    if d.flags:
        what = "each MMSI that broadcast this IMO" if d.vessel.get("imo") is not None else "its MMSI"
        fl = Table(title=f"Flags (from {what})", header_style="bold")
        for c in ("mmsi", "flag", "first seen", "last seen"):
            fl.add_column(c)
        for r in d.flags:
            fl.add_row(str(r["mmsi"]), _t(str(r["flag"])), r["first_seen"], r["last_seen"])
        _out().print(fl)
    for voy in d.voyages:
        departed = f", departed {voy['departed']}" if voy["departed"] else ""
        _out().print(f"[bold]Declared voyage[/] {_t(voy['declared'])}{departed}")
        for c in voy["observed_calls"]:
            tag = "  [bold red]UNPLANNED[/]" if c["unplanned"] else ""
            _out().print(f"  called at {_t(str(c['port']))} {c['arrival_utc']} to {c['departure_utc']}{tag}")
        if not voy["observed_calls"]:
            _out().print("  no port call observed since")
    if not d.timeline:
        _out().print(_t(no_findings_sentence(d)))
        return
    tl = Table(title="Timeline", header_style="bold")
    for c in ("start (UTC)", "end (UTC)", "kind", "finding", "evidence"):
        tl.add_column(c, overflow="fold", no_wrap=c in ("start (UTC)", "end (UTC)", "kind"))
    for t in d.timeline:
        tl.add_row(t["start_utc"], t["end_utc"] or "", t["kind"], _t(t["summary"]),
                   _t(compact_evidence(t["evidence"])))
    _out().print(tl)
