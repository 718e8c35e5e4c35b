"""What the gaps rule measures before it claims anything: TEMP tables read by gaps.sql.

A silence is the ship's only if someone was listening. For each gap of a track segment
(consecutive positions at least the threshold apart) this step measures, from the
``coverage`` table (what the store heard, per receiver, 0.5-degree cell and hour):

* **Archive holes**: stretches of at least ``archive_hole_h`` in which the store heard
  nobody at all (between files, a feed outage). A gap is split at them: only the pieces
  before the first hole and after the last are the ship's to explain (``gap_pieces``).
  A store that never heard anyone but this vessel has no holes: there, coverage is
  unknown.
* **Reception near a point** (the last position before, the first after, and the port a
  call would have been at): the hours inside the gap in which other vessels were heard
  within ``coverage_radius_nm``, against the share of hours they were heard there in the
  ``coverage_context_h`` around the gap (the place's usual rate); and the distinct other
  vessels and their positions heard there meanwhile, counted exactly (``gap_coverage``).
  ``live``: others were heard during the gap at least ``live_ratio`` times as often as
  usual; ``low``: less; ``none``: never, where they usually are (the receiver was deaf);
  ``unknown``: nobody else is ever heard there (a single-vessel extract, an empty ocean).

Everything is joined on cells and hours that hold data, so the cost follows the data, not
the length of the gaps (a gap of two years costs what its data costs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

# The ship types (AIS type codes) that can sail faster than a merchant ship: wing in
# ground (20-29), high-speed craft (40-49), pilot, search and rescue, law enforcement,
# military (35). Used for the speed a gap's two ends may imply.
FAST_TYPES = "(ship_type BETWEEN 20 AND 29 OR ship_type BETWEEN 40 AND 49 OR ship_type IN (35, 50, 51, 55))"


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """Create ``gap_g``, ``gap_pieces``, ``gap_ports``, ``gap_coverage`` and ``gap_in_call``."""
    p = {k: float(v) for k, v in params.items()}
    _gaps(con, p)
    _pieces(con, p)
    _ports(con, p)
    _coverage(con, p)
    _in_call(con)


def _gaps(con: duckdb.DuckDBPyConnection, p: dict[str, float]) -> None:
    """``gap_g``: each gap with the positions either side and the ship's type."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_g AS
        WITH g0 AS (  -- each position and the next of its segment (pos.rn, n_ts), when far enough apart
            SELECT a.mmsi, a.seg, a.ts, a.dup_key, a.lat, a.lon, a.sog, a.cog, a.nav_status, a.msg_type,
                   a.source_id, a.line_no, b.ts AS n_ts, b.lat AS n_lat, b.lon AS n_lon, b.sog AS n_sog,
                   b.cog AS n_cog, b.nav_status AS n_nav_status, b.msg_type AS n_msg_type,
                   b.source_id AS n_source_id, b.line_no AS n_line_no,
                   seconds_between(a.ts, b.ts) / 3600.0 AS gap_h,
                   coalesce(a.msg_type IN (18, 19), false)
                       OR coalesce(a.nav_status IN (1, 5) AND b.nav_status IN (1, 5), false) AS slow
            FROM pos a
            JOIN pos b ON b.mmsi = a.mmsi AND b.seg = a.seg AND b.rn = a.rn + 1
            WHERE seconds_between(a.ts, a.n_ts) >= least($min_gap_h, $min_gap_slow_h) * 3600.0
        ), g AS (
            SELECT row_number() OVER (ORDER BY mmsi, seg, ts, dup_key) AS gid, *,
                   CASE WHEN slow THEN $min_gap_slow_h ELSE $min_gap_h END AS threshold_h,
                   haversine_nm(lat, lon, n_lat, n_lon) AS displacement_nm
            FROM g0
            WHERE gap_h >= CASE WHEN slow THEN $min_gap_slow_h ELSE $min_gap_h END
        ), st AS (
            SELECT mmsi, ts, ship_type FROM static_reports
            WHERE ship_type IS NOT NULL AND mmsi IN (SELECT mmsi FROM g)
        ), typed AS (  -- the type the ship declared last before the gap, else first after
            SELECT g.*, coalesce(b.ship_type, (SELECT arg_min(s.ship_type, s.ts) FROM st s WHERE s.mmsi = g.mmsi))
                        AS ship_type
            FROM g ASOF LEFT JOIN st b ON g.mmsi = b.mmsi AND g.ts >= b.ts
        )
        SELECT *, CASE WHEN """ + FAST_TYPES + """ THEN $max_speed_fast_kn ELSE $max_speed_kn END AS max_speed
        FROM typed
        """,  # noqa: S608 - a constant expression
        {k: p[k] for k in ("min_gap_h", "min_gap_slow_h", "max_speed_kn", "max_speed_fast_kn")},
    )


def _heard_others(con: duckdb.DuckDBPyConnection) -> bool:
    """Did the store hear more than one vessel in the window? Without a second vessel there is
    no telling a hole in the archive. A partitioned engine, whose tasks each hold a share of
    the vessels, answers for all of them in TEMP table ``detect_scope`` (column ``others``)."""
    scoped = con.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'detect_scope'")
    if scoped.fetchall()[0][0]:
        return bool(con.sql("SELECT bool_or(others) FROM detect_scope").fetchall()[0][0])
    return con.sql("SELECT count(*) FROM (SELECT DISTINCT mmsi FROM pos LIMIT 2)").fetchall()[0][0] >= 2


def _pieces(con: duckdb.DuckDBPyConnection, p: dict[str, float]) -> None:
    """``gap_holes`` (the store heard nobody) and ``gap_pieces``: each gap whole, or cut at its
    archive holes into the piece before the first and the piece after the last."""
    others = _heard_others(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_hours AS  -- every hour in which the store heard anyone
        SELECT hour, sum(messages) AS messages FROM coverage GROUP BY hour
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_holes AS
        SELECT hour + INTERVAL 1 HOUR AS hole_start, next_hour AS hole_end
        FROM (SELECT hour, lead(hour) OVER (ORDER BY hour) AS next_hour FROM gap_hours)
        WHERE $others AND seconds_between(hour, next_hour) / 3600.0 - 1.0 >= $archive_hole_h
        """,
        {"others": others, "archive_hole_h": p["archive_hole_h"]},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_pieces AS
        WITH cut AS (
            SELECT g.gid, min(h.hole_start) AS first_hole, max(h.hole_end) AS last_hole_end,
                   sum(seconds_between(h.hole_start, h.hole_end)) / 3600.0 AS hole_h, count(*) AS holes
            FROM gap_g g JOIN gap_holes h ON h.hole_start >= g.ts AND h.hole_end <= g.n_ts
            GROUP BY g.gid
        ), parts AS (
            SELECT g.gid, 'whole' AS part, g.ts AS w0, g.n_ts AS w1, NULL AS hole_start, NULL AS hole_end,
                   0 AS holes, 0.0 AS hole_h
            FROM gap_g g ANTI JOIN cut USING (gid)
            UNION ALL
            SELECT g.gid, 'before_hole', g.ts, c.first_hole, c.first_hole, c.last_hole_end, c.holes, c.hole_h
            FROM gap_g g JOIN cut c USING (gid)
            UNION ALL
            SELECT g.gid, 'after_hole', c.last_hole_end, g.n_ts, c.first_hole, c.last_hole_end, c.holes, c.hole_h
            FROM gap_g g JOIN cut c USING (gid)
        )
        SELECT parts.*, seconds_between(w0, w1) / 3600.0 AS piece_h
        FROM parts JOIN gap_g g USING (gid)
        WHERE part = 'whole' OR seconds_between(w0, w1) / 3600.0 >= g.threshold_h
        """
    )


def _ports(con: duckdb.DuckDBPyConnection, p: dict[str, float]) -> None:
    """``gap_ports``: per gap, the nearest port to each end, the ports reachable in the gap
    (out and back at reach_speed_kn with min_berth_h alongside) and the call port: the
    reachable port within call_radius_nm of both ends with the least detour."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_ports AS
        WITH gp AS (  -- gaps are few: every gap against every port, two distances each
            SELECT g.gid, g.gap_h, pt.port_id,
                   haversine_nm(g.lat, g.lon, pt.lat, pt.lon) AS d_start_nm,
                   haversine_nm(g.n_lat, g.n_lon, pt.lat, pt.lon) AS d_end_nm,
                   pt.port_id * 1e-9 AS tie  -- equal distances go to the lower port_id (< 0.2 m)
            FROM gap_g g CROSS JOIN ports pt
        ), pa AS (
            SELECT gid,
                   arg_min(port_id, d_start_nm + tie) AS start_port_id, min(d_start_nm) AS start_port_nm,
                   arg_min(port_id, d_end_nm + tie) AS end_port_id, min(d_end_nm) AS end_port_nm,
                   arg_min(port_id, d_start_nm + d_end_nm + tie)
                       FILTER (WHERE d_start_nm <= $call_radius_nm AND d_end_nm <= $call_radius_nm
                               AND (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h)
                       AS call_port_id,
                   count(*) FILTER (WHERE (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h)
                       AS reachable_total,
                   arg_min(port_id, d_start_nm + d_end_nm + tie, 5)
                       FILTER (WHERE (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h)
                       AS reach_ids
            FROM gp GROUP BY gid
        ), reach AS (  -- the (up to 5) reachable ports with the least detour, with their figures
            SELECT gid,
                   list(struct_pack(port := name, port_id := port_id, country := country,
                                    detour_nm := round(d_s + d_e - displacement_nm, 1),
                                    distance_from_start_nm := round(d_s, 1), distance_to_end_nm := round(d_e, 1),
                                    min_time_h := round((d_s + d_e) / $reach_speed_kn + $min_berth_h, 2))
                        ORDER BY d_s + d_e, port_id) AS reachable
            FROM (SELECT g.gid, g.displacement_nm, pt.port_id, pt.name, pt.country,
                         haversine_nm(g.lat, g.lon, pt.lat, pt.lon) AS d_s,
                         haversine_nm(g.n_lat, g.n_lon, pt.lat, pt.lon) AS d_e
                  FROM (SELECT gid, unnest(reach_ids) AS port_id FROM pa) u
                  JOIN gap_g g ON g.gid = u.gid
                  JOIN ports pt ON pt.port_id = u.port_id)
            GROUP BY gid
        )
        SELECT pa.gid, pa.start_port_id, pa.start_port_nm, pa.end_port_id, pa.end_port_nm, pa.call_port_id,
               coalesce(pa.reachable_total, 0) AS reachable_total, coalesce(reach.reachable, []) AS reachable
        FROM pa LEFT JOIN reach USING (gid)
        """,
        {k: p[k] for k in ("call_radius_nm", "reach_speed_kn", "min_berth_h")},
    )


def points(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Only the places whose reception the rule measures: ``gap_points`` (each end of each
    piece, and the call port; with the piece's window ``w0``, ``w1``) and ``gap_point_cells``
    (the coverage cells within ``coverage_radius_nm`` of each). A partitioned engine
    (shiptrack.spark) gives each task the other vessels' positions heard there."""
    p = {k: float(v) for k, v in params.items()}
    _gaps(con, p)
    _pieces(con, p)
    _ports(con, p)
    _points(con, p["coverage_radius_nm"])


def _points(con: duckdb.DuckDBPyConnection, r: float) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_points AS
        SELECT row_number() OVER (ORDER BY gid, part, role) AS pid, * FROM (
            SELECT pc.gid, pc.part, 'start' AS role, g.mmsi, g.lat, g.lon, pc.w0, pc.w1
            FROM gap_pieces pc JOIN gap_g g USING (gid) WHERE pc.part IN ('whole', 'before_hole')
            UNION ALL
            SELECT pc.gid, pc.part, 'end', g.mmsi, g.n_lat, g.n_lon, pc.w0, pc.w1
            FROM gap_pieces pc JOIN gap_g g USING (gid) WHERE pc.part IN ('whole', 'after_hole')
            UNION ALL
            SELECT pc.gid, pc.part, 'port', g.mmsi, pt.lat, pt.lon, pc.w0, pc.w1
            FROM gap_pieces pc JOIN gap_g g USING (gid) JOIN gap_ports gp USING (gid)
            JOIN ports pt ON pt.port_id = gp.call_port_id
            WHERE pc.part = 'whole')
        """
    )
    # the 0.5-degree cells each point's circle touches (coverage.py's cell numbering)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_point_cells AS
        WITH b AS (
            SELECT pid, lat, lon,
                   least(180.0, $r / (60.0 * greatest(0.01, cos(radians(least(89.9, abs(lat) + $r / 60.0))))))
                       AS dlon
            FROM gap_points
        )
        SELECT DISTINCT pid, CAST(cy AS SMALLINT) AS cell_lat,
               CAST((((cx + 360) % 720) + 720) % 720 - 360 AS SMALLINT) AS cell_lon
        FROM b,
             unnest(range(CAST(floor((lat - $r / 60.0) / 0.5) AS BIGINT),
                          CAST(floor((lat + $r / 60.0) / 0.5) AS BIGINT) + 1)) AS a(cy),
             unnest(range(CAST(floor((lon + 180.0 - dlon) / 0.5) AS BIGINT) - 360,
                          CAST(floor((lon + 180.0 + dlon) / 0.5) AS BIGINT) - 360 + 1)) AS o(cx)
        """,
        {"r": r},
    )


def _coverage(con: duckdb.DuckDBPyConnection, p: dict[str, float]) -> None:
    """``gap_coverage``: reception near each end of each piece, and near the call port."""
    r = p["coverage_radius_nm"]
    _points(con, r)
    ctx = {"ctx": p["coverage_context_h"]}
    # the vessel's own reports by cell and hour, near its gaps (to tell them from others')
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_own AS
        SELECT DISTINCT q.mmsi, q.cell_lat, q.cell_lon, q.hour
        FROM (SELECT mmsi, CAST(floor(lat / 0.5) AS SMALLINT) AS cell_lat,
                     CAST(floor(((lon + 180.0) % 360.0 + 360.0) % 360.0 / 0.5) - 360 AS SMALLINT) AS cell_lon,
                     to_timestamp(epoch_us(ts) // 3600000000 * 3600) AS hour, ts
              FROM pos WHERE mmsi IN (SELECT DISTINCT mmsi FROM gap_points)) q
        SEMI JOIN gap_points p ON p.mmsi = q.mmsi
             AND q.ts >= p.w0 - to_hours(CAST($ctx AS BIGINT)) AND q.ts <= p.w1 + to_hours(CAST($ctx AS BIGINT))
        """,
        ctx,
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_own_hours AS  -- the vessel's own reports per hour, anywhere
        SELECT mmsi, to_timestamp(epoch_us(ts) // 3600000000 * 3600) AS hour, count(*) AS messages
        FROM pos WHERE mmsi IN (SELECT DISTINCT mmsi FROM gap_points) GROUP BY ALL
        """
    )
    # per point and hour of its window (the gap and the context either side): were others
    # heard near it, and was the store hearing anyone else at all
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_point_hours AS
        WITH near AS (
            SELECT pc.pid, c.hour,
                   bool_or(c.vessels > CASE WHEN o.mmsi IS NOT NULL THEN 1 ELSE 0 END) AS others_near
            FROM gap_point_cells pc
            JOIN gap_points p USING (pid)
            JOIN coverage c ON c.cell_lat = pc.cell_lat AND c.cell_lon = pc.cell_lon
                           AND c.hour >= date_trunc('hour', p.w0 - to_hours(CAST($ctx AS BIGINT)))
                           AND c.hour <= p.w1 + to_hours(CAST($ctx AS BIGINT))
            LEFT JOIN gap_own o ON o.mmsi = p.mmsi AND o.cell_lat = c.cell_lat AND o.cell_lon = c.cell_lon
                               AND o.hour = c.hour
            GROUP BY pc.pid, c.hour
        ), live AS (  -- hours of each window in which the store heard someone other than the vessel
            SELECT p.pid, h.hour,
                   CASE WHEN h.hour > date_trunc('hour', p.w0) AND h.hour < date_trunc('hour', p.w1) THEN 'in'
                        WHEN h.hour < date_trunc('hour', p.w0) OR h.hour > date_trunc('hour', p.w1) THEN 'context'
                   END AS phase
            FROM gap_points p
            JOIN gap_hours h ON h.hour >= date_trunc('hour', p.w0 - to_hours(CAST($ctx AS BIGINT)))
                            AND h.hour <= p.w1 + to_hours(CAST($ctx AS BIGINT))
            LEFT JOIN gap_own_hours o ON o.mmsi = p.mmsi AND o.hour = h.hour
            WHERE h.messages > coalesce(o.messages, 0)
        )
        SELECT l.pid, l.hour, l.phase, coalesce(n.others_near, false) AS others_near
        FROM live l LEFT JOIN near n USING (pid, hour)
        WHERE l.phase IS NOT NULL
        """,
        ctx,
    )
    # exact evidence: the other vessels, and their reports, heard within the radius during the
    # piece (hours as integers since 1970: date_trunc on every row of pos would go through ICU)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_point_others AS
        WITH keys AS (
            SELECT DISTINCT ph.pid, pc.cell_lat, pc.cell_lon, epoch_us(ph.hour) // 3600000000 AS h
            FROM gap_point_hours ph JOIN gap_point_cells pc USING (pid)
            WHERE ph.phase = 'in' AND ph.others_near
            UNION  -- the partial hours at either end of the window
            SELECT p.pid, pc.cell_lat, pc.cell_lon, unnest([epoch_us(p.w0) // 3600000000, epoch_us(p.w1) // 3600000000])
            FROM gap_points p JOIN gap_point_cells pc USING (pid)
        ), q AS (
            SELECT mmsi, ts, lat, lon, CAST(floor(lat / 0.5) AS SMALLINT) AS cell_lat,
                   CAST(floor(((lon + 180.0) % 360.0 + 360.0) % 360.0 / 0.5) - 360 AS SMALLINT) AS cell_lon,
                   epoch_us(ts) // 3600000000 AS h
            FROM pos
            WHERE epoch_us(ts) // 3600000000 IN (SELECT DISTINCT h FROM keys)
        )
        SELECT k.pid, count(DISTINCT q.mmsi) AS other_vessels, count(*) AS other_positions
        FROM keys k
        JOIN q USING (cell_lat, cell_lon, h)
        JOIN gap_points p ON p.pid = k.pid
        WHERE q.mmsi <> p.mmsi AND q.ts > p.w0 AND q.ts < p.w1
          AND haversine_nm(p.lat, p.lon, q.lat, q.lon) <= $r
        GROUP BY k.pid
        """,
        {"r": r},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_coverage AS
        WITH m AS (
            SELECT p.pid, p.gid, p.part, p.role,
                   count(*) FILTER (WHERE ph.phase = 'in') AS in_hours,
                   count(*) FILTER (WHERE ph.phase = 'in' AND ph.others_near) AS in_near,
                   count(*) FILTER (WHERE ph.phase = 'context') AS ctx_hours,
                   count(*) FILTER (WHERE ph.phase = 'context' AND ph.others_near) AS ctx_near
            FROM gap_points p LEFT JOIN gap_point_hours ph USING (pid)
            GROUP BY ALL
        )
        SELECT m.*, coalesce(o.other_vessels, 0) AS other_vessels, coalesce(o.other_positions, 0) AS other_positions,
               CASE WHEN ctx_hours > 0 THEN ctx_near / ctx_hours END AS usual_share,
               CASE WHEN in_hours > 0 THEN in_near / in_hours END AS gap_share,
               CASE
                   WHEN in_near = 0 AND ctx_near = 0 AND coalesce(o.other_vessels, 0) = 0 THEN 'unknown'
                   WHEN in_near = 0 THEN 'none'
                   WHEN in_near / in_hours >= $live_ratio * coalesce(ctx_near / nullif(ctx_hours, 0), 0) THEN 'live'
                   ELSE 'low'
               END AS status
        FROM m LEFT JOIN gap_point_others o USING (pid)
        """,
        {"live_ratio": p["live_ratio"]},
    )
    for t in ("gap_point_cells", "gap_own", "gap_own_hours", "gap_point_hours", "gap_point_others"):
        con.execute(f"DROP TABLE {t}")


def _in_call(con: duckdb.DuckDBPyConnection) -> None:
    """``gap_in_call``: gaps that begin or end inside an observed port call of the same
    transmitter (the port_call rule runs first)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gap_in_call AS
        SELECT g.gid, arg_min(e.port, e.start_utc) AS port, arg_min(e.port_id, e.start_utc) AS port_id,
               bool_or(g.ts >= e.start_utc AND g.ts <= e.end_utc) AS start_in_call,
               bool_or(g.n_ts >= e.start_utc AND g.n_ts <= e.end_utc) AS end_in_call
        FROM gap_g g JOIN events e
          ON e.kind = 'port_call' AND e.mmsi = g.mmsi AND coalesce(e.segment, 0) = g.seg
         AND ((g.ts >= e.start_utc AND g.ts <= e.end_utc) OR (g.n_ts >= e.start_utc AND g.n_ts <= e.end_utc))
        GROUP BY g.gid
        """
    )
