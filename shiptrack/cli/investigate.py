"""`shiptrack vessel` (the dossier) and `shiptrack track` (positions for maps and GIS)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from shiptrack.cli.group import Context, main
from shiptrack.cli.options import window_options


@main.command()
@click.argument("vessel")
@window_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the dossier here.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an interactive HTML map (works offline).")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a static PNG map for print.")
@click.pass_obj
def vessel(obj: Context, vessel: str, since: datetime | None, until: datetime | None, fmt: str,
           output: Path | None, map_path: Path | None, png_path: Path | None) -> None:
    """A vessel's dossier: identities, declared voyages against calls, findings with evidence.

    \b
    VESSEL is an MMSI, an IMO number (with or without IMO), a call sign, or a name,
    current or former.
      shiptrack vessel URAL --since 2018-02-01 --until 2018-03-01
      shiptrack vessel 9180217 --format md -o ural.md --map ural.html --png ural.png
    """
    from shiptrack.dossier import build_dossier, to_markdown
    from shiptrack.track import vessel_track

    con = obj.connect(read_only=True)
    try:
        d = build_dossier(con, vessel, since, until)
        track = vessel_track(con, d.vessel["mmsi"], since, until) if (map_path or png_path) else None
    finally:
        con.close()
    # the files first: standard output may be a pipe that closes early (`... --png x.png | head`)
    if map_path is not None:
        from shiptrack.export.maps import write_html_map

        write_html_map(d, track, map_path)
        click.echo(f"wrote map {map_path}", err=True)
    if png_path is not None:
        from shiptrack.export.maps import write_png_map

        write_png_map(d, track, png_path)
        click.echo(f"wrote map {png_path}", err=True)
    if fmt == "json":
        text = d.to_json() + "\n"
    elif fmt == "md":
        text = to_markdown(d)
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    else:
        from shiptrack.cli.render import print_dossier

        print_dossier(d)


@main.command()
@click.argument("vessel")
@window_options
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson", "kml"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@click.option("--unsafe-csv", is_flag=True, help="Do not neutralise spreadsheet formulas (machine use).")
@click.pass_obj
def track(obj: Context, vessel: str, since: datetime | None, until: datetime | None, fmt: str,
          output: Path | None, unsafe_csv: bool) -> None:
    """A vessel's positions with provenance, for spreadsheets (CSV), QGIS (GeoJSON), Google Earth (KML).

    \b
    CSV columns: ts,mmsi,lat,lon,sog,cog,heading,nav_status,msg_type,station,source,line_no,raw
      shiptrack track URAL --format kml -o ural_track.kml
    """
    from shiptrack.export.geo import frame_to_geojson, track_to_kml
    from shiptrack.export.tabular import csv_safe_frame
    from shiptrack.track import vessel_track
    from shiptrack.vessels import find_vessel

    con = obj.connect(read_only=True)
    try:
        v = find_vessel(con, vessel)
        df = vessel_track(con, v.mmsi, since, until)
    finally:
        con.close()
    if fmt == "kml":
        text = track_to_kml(df, v.name or str(v.mmsi))
    elif fmt == "geojson":
        text = frame_to_geojson(df, line=True)
    else:
        text = csv_safe_frame(df, safe=not unsafe_csv).write_csv()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {df.height} positions to {output}", err=True)
    else:
        click.echo(text, nl=False)
