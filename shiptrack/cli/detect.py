"""`shiptrack detect` and `shiptrack events`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from shiptrack.cli.group import Context, main
from shiptrack.cli.options import emit, output_options, window_options


@main.command()
@click.option("--rules", "rules", help="Comma-separated rules or event kinds to run (default: all).")
@click.option("--param", "params", multiple=True, metavar="RULE.NAME=VALUE",
              help="Override a rule threshold, e.g. --param port_call.min_duration_h=12 (NAME=VALUE when "
                   "one rule run has that parameter; see --list).")
@click.option("--rules-dir", type=click.Path(file_okay=False, path_type=Path), multiple=True,
              help="Also load rules from this folder.")
@click.option("--list", "list_only", is_flag=False, flag_value="", default=None, metavar="[RULE]",
              help="List the rules, one line each; `--list RULE` describes one with its parameters.")
@click.option("--long", "long_list", is_flag=True, help="With --list: every rule's description and parameters.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="spark: run the rules as Spark tasks over a lake (--db FOLDER/; pip install shiptrack[spark]).")
@click.option("--master", envvar="SHIPTRACK_SPARK_MASTER", default="local[*]", show_default=True,
              help="With --engine spark: the Spark master (local[2], spark://host:7077, yarn, ...) "
                   "[env SHIPTRACK_SPARK_MASTER].")
@window_options
@click.pass_obj
def detect(obj: Context, rules: str | None, params: tuple[str, ...], rules_dir: tuple[Path, ...],
           list_only: str | None, long_list: bool, engine: str, master: str, since: datetime | None,
           until: datetime | None) -> None:
    """Run the detection rules and fill the `events` table.

    \b
    Running it twice gives the same events (deterministic ids); after new data
    it updates them without duplicates.
      shiptrack detect
      shiptrack detect --rules dark_period --param gaps.min_gap_h=12 --since 2018-02-01
      shiptrack detect --list
      shiptrack detect --list port_call
      SHIPTRACK_SPARK_MASTER=spark://host:7077 shiptrack --db lake/ detect --engine spark
    """
    from shiptrack.rules import registry

    if list_only is not None or long_list:
        from shiptrack.cli.render import print_rule_list, print_rules

        catalogue = registry.load_rules(rules_dir)
        if list_only:
            by_kind = registry.kinds_index(catalogue)
            wanted = [catalogue.get(n.strip()) or by_kind.get(n.strip()) for n in list_only.split(",")]
            if None in wanted:
                from shiptrack.errors import RuleError

                raise RuleError(f"no rule or event kind {list_only!r}; rules: {', '.join(catalogue)}")
            print_rules({r.name: r for r in wanted if r is not None})
        elif long_list:
            print_rules(catalogue)
        else:
            print_rule_list(catalogue)
        return
    kinds = [k.strip() for k in rules.split(",")] if rules else None
    if engine == "spark":
        from shiptrack.errors import InputError

        if obj.lake is None or rules_dir:
            raise InputError("--engine spark runs the shipped rules on a lake: give --db FOLDER/ "
                             "(`shiptrack lake export STORE FOLDER/` makes one), without --rules-dir")
        from shiptrack.spark.detect import detect_lake as detect_spark

        summary = detect_spark(obj.lake, master, kinds, since, until, registry.parse_params(params),
                               wait_s=obj.wait_s)
    elif obj.lake is not None:
        from shiptrack.lake.detect import detect_lake

        summary = detect_lake(obj.lake, kinds, since, until, registry.parse_params(params), rules_dir, obj.wait_s)
    else:
        con = obj.connect()
        try:
            summary = registry.run(con, kinds, since, until, registry.parse_params(params), rules_dir)
        finally:
            con.close()
    from shiptrack.cli.render import print_detect_summary

    print_detect_summary(summary)


@main.command()
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@click.option("--vessel", help="Only this vessel: MMSI, IMO, call sign or name.")
@click.option("--near", "near", help="Only events within --radius-nm of this port.")
@click.option("--radius-nm", type=float, default=50.0, show_default=True)
@window_options
@output_options(("table", "csv", "json", "md"))
@click.pass_obj
def events(obj: Context, kinds: tuple[str, ...], vessel: str | None, near: str | None, radius_nm: float,
           since: datetime | None, until: datetime | None, fmt: str, output: Path | None,
           unsafe_csv: bool) -> None:
    """List findings with their evidence (run `shiptrack detect` first).

    \b
    CSV columns: event_id,kind,mmsi,segment,imo,vessel_name,start_utc,end_utc,duration_h,
    lat,lon,port,port_distance_nm,other_mmsi,finding,details,evidence (finding: the
    dossier's sentence; details: a JSON object; evidence: file:line; file:line)
      shiptrack events --kind dark_period --near Benghazi
      shiptrack events --vessel URAL --format csv -o ural_events.csv
    """
    from shiptrack.events import JSON_COLUMNS, for_format, query_events
    from shiptrack.reference.ports import resolve_port

    con = obj.connect(read_only=True)
    try:
        mmsi = None
        if vessel:
            from shiptrack.vessels import find_vessel

            mmsi = find_vessel(con, vessel).mmsi
        port_id = resolve_port(near).port_id if near else None
        df = query_events(con, kinds=list(kinds) or None, mmsi=mmsi, near_port_id=port_id,
                          near_radius_nm=radius_nm, since=since, until=until)
    finally:
        con.close()
    if fmt == "table" and output is None:
        # a terminal is narrow: who, when, and the finding in words (which names the port,
        # the duration and the other vessel); csv/json/md carry every column
        df = df.select("start_utc", "end_utc", "kind", "mmsi", "vessel_name", "finding")
    emit(for_format(df, fmt), fmt, output, title="Events", unsafe_csv=unsafe_csv, json_columns=JSON_COLUMNS)
