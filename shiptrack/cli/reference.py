"""`shiptrack ports`, `shiptrack areas` and `shiptrack route`: the reference a finding is measured against."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shiptrack.cli.group import Context, main
from shiptrack.cli.options import UTC_TIME, emit, output_options
from shiptrack.times import iso_utc

if TYPE_CHECKING:
    import polars as pl


def _ports_table(ports: list) -> pl.DataFrame:  # list[Port]
    import polars as pl

    return pl.DataFrame(
        {
            "port_id": [p.port_id for p in ports], "name": [p.name for p in ports],
            "country": [p.country for p in ports], "locode": [p.locode for p in ports],
            "lat": [p.lat for p in ports], "lon": [p.lon for p in ports],
            "harbor_size": [p.harbor_size for p in ports],
            "alt_names": ["; ".join(p.alt_names) for p in ports],
        },
        schema={"port_id": pl.Int64, "name": pl.String, "country": pl.String, "locode": pl.String,
                "lat": pl.Float64, "lon": pl.Float64, "harbor_size": pl.String, "alt_names": pl.String},
    )


@main.command()
@click.argument("search", required=False)
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many matches.")
@output_options(("table", "csv", "json"))
def ports(search: str | None, limit: int, fmt: str, output: Path | None, unsafe_csv: bool) -> None:
    """Look ports up in the bundled World Port Index: name, country, LOCODE, lat/lon.

    \b
    SEARCH is a name (accents, case and "Port of"/"Mersa" ignored), an alias or a
    UN/LOCODE; without it every port is listed. Exact matches come first, then names
    that start with or contain it, then close spellings; nothing found prints the
    closest names. The first row is the port that `route declare` and `events
    --near` would pick.
      shiptrack ports Sfax
      shiptrack ports LYBEN --format json
      shiptrack ports --format csv -o ports.csv
    """
    from shiptrack.errors import PortNotFound
    from shiptrack.reference.ports import load_ports, search_ports, suggestions

    found = search_ports(search, limit=limit) if search else sorted(load_ports(), key=lambda p: p.name)
    if search and not found:
        raise PortNotFound(search, suggestions(search))
    emit(_ports_table(found), fmt, output, title="Ports", unsafe_csv=unsafe_csv)


@main.group()
def areas() -> None:
    """Your own port areas: a radius or a polygon that replaces a port's default circle.

    \b
    The port_call rule takes a vessel to be at a port within 5 nm of its World
    Port Index position. Where the anchorage or the berths lie farther out, give
    the port its own area:
      shiptrack areas add "Sfax anchorage" --port Sfax --radius-nm 12
      shiptrack areas add "Sfax port" --port Sfax --geojson sfax.geojson
      shiptrack areas list
    """


@areas.command("add")
@click.argument("name")
@click.option("--port", "port_name", help="The port the area belongs to (name or LOCODE).")
@click.option("--radius-nm", type=float, help="A circle of this radius round the port (nm).")
@click.option("--geojson", "geojson_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A GeoJSON Polygon/MultiPolygon (Feature or FeatureCollection), lon/lat.")
@click.pass_obj
def areas_add(obj: Context, name: str, port_name: str | None, radius_nm: float | None,
              geojson_path: Path | None) -> None:
    """Add (or replace) an area: --port X --radius-nm R, or --geojson FILE [--port X].

    \b
    The area replaces the port's default circle in port_call (run `shiptrack
    detect` again). A polygon without --port is a place of its own: calls there
    are reported under the area's name.
      shiptrack areas add "Sfax anchorage" --port Sfax --radius-nm 12
      shiptrack areas add "Ras Lanuf terminal" --geojson ras_lanuf.geojson
    """
    from shiptrack.areas import add_area
    from shiptrack.reference.ports import resolve_port

    port = resolve_port(port_name) if port_name else None
    text = geojson_path.read_text(encoding="utf-8") if geojson_path else None
    with obj.writing(["areas"]) as con:
        area = add_area(con, name, port, radius_nm, text)
    where = f"{port.name} ({port.country})" if port else "its own place"
    shape = f"{area.radius_nm:g} nm circle" if area.radius_nm is not None else f"polygon from {geojson_path}"
    click.echo(f"area {area.name!r}: {shape}, for {where}. Run `shiptrack detect` to use it.")


@areas.command("list")
@output_options(("table", "csv", "json"))
@click.pass_obj
def areas_list(obj: Context, fmt: str, output: Path | None, unsafe_csv: bool) -> None:
    """List your areas: port, radius, polygon bounds."""
    from shiptrack.areas import list_areas

    con = obj.connect(read_only=True)
    try:
        df = list_areas(con)
    finally:
        con.close()
    emit(df, fmt, output, title="Areas", unsafe_csv=unsafe_csv)


VOYAGE_TABLES = ("declared_voyages", "declared_voyage_ports", "declared_route_points")


@main.group()
def route() -> None:
    """Declared voyages: the ports a vessel was said to call at, and the sea route between them.

    \b
    Ports are joined by '>'; a trailing '?' marks an optional call. The rules
    unplanned_port_call and route_deviation compare the track with them.
      shiptrack route declare 273358000 "Novorossiysk > Sfax? > Douala" --departed 2018-02-03
      shiptrack route import voyages.csv
      shiptrack route list
    """


def _print_voyage(v) -> None:  # noqa: ANN001 - DeclaredVoyage
    ports_text = " > ".join(
        f"{d.port.name} ({d.port.locode or d.port.country})" + ("?" if d.optional else "") for d in v.ports)
    departed = iso_utc(v.departed) if v.departed else "not given (first call there)"
    click.echo(f"voyage {v.voyage_id}: MMSI {v.mmsi}, {ports_text}; departed {departed}; "
               f"sea route {v.route_nm:,.0f} nm ({len(v.route)} points)")


@route.command("declare")
@click.argument("vessel")
@click.argument("ports_text", metavar="PORTS")
@click.option("--departed", type=UTC_TIME, help="When it left the first port (UTC, ISO-8601).")
@click.pass_obj
def route_declare(obj: Context, vessel: str, ports_text: str, departed: datetime | None) -> None:
    """Declare a voyage: VESSEL (MMSI, or IMO/name/call sign heard) and PORTS "A > B? > C".

    \b
    A 9-digit VESSEL is taken as an MMSI even if it was not heard yet; anything
    else must match a vessel in the store. Without --departed the voyage starts at
    the end of the vessel's first call at the first port.
      shiptrack route declare 273358000 "Novorossiysk > Douala" --departed 2018-02-03T06:00Z
      shiptrack route declare URAL "Novorossiysk > Sfax? > Douala"
    """
    from shiptrack.routes import declare_voyage

    with obj.writing(VOYAGE_TABLES) as con:
        if re.fullmatch(r"\d{9}", vessel.strip()):
            mmsi = int(vessel.strip())
        else:
            from shiptrack.vessels import find_vessel

            mmsi = find_vessel(con, vessel).mmsi
        v = declare_voyage(con, mmsi, ports_text, departed)
    _print_voyage(v)


@route.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def route_import(obj: Context, path: Path) -> None:
    """Declare the voyages of a CSV file: columns mmsi,ports,departed (all or none).

    \b
    ports as for `route declare` ("Novorossiysk > Sfax? > Douala"); departed is
    ISO-8601 UTC or empty.
      shiptrack route import voyages.csv
    """
    from shiptrack.routes import import_voyages

    with obj.writing(VOYAGE_TABLES) as con:
        voyages = import_voyages(con, path)
    for v in voyages:
        _print_voyage(v)
    click.echo(f"{len(voyages)} voyages declared from {path}")


@route.command("list")
@click.option("--vessel", help="Only this vessel (MMSI, IMO, call sign or name).")
@output_options(("table", "csv", "json", "md"))
@click.pass_obj
def route_list(obj: Context, vessel: str | None, fmt: str, output: Path | None, unsafe_csv: bool) -> None:
    """List declared voyages, with the AIS destinations the crew broadcast since departure.

    \b
      shiptrack route list
      shiptrack route list --vessel URAL --format csv
    """
    from shiptrack.routes import list_voyages

    con = obj.connect(read_only=True)
    try:
        mmsi = None
        if vessel:
            from shiptrack.vessels import find_vessel

            mmsi = find_vessel(con, vessel).mmsi
        df = list_voyages(con, mmsi)
    finally:
        con.close()
    emit(df, fmt, output, title="Declared voyages", unsafe_csv=unsafe_csv)
