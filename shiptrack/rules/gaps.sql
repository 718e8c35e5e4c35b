-- kind: dark_period, ais_gap
-- title: Dark periods near ports and AIS gaps at sea
-- description: Consecutive positions of one vessel track segment (see
--   shiptrack.rules.segments: a shared MMSI is split per transmitter, so its
--   interleaved ships make no false gaps) at least min_gap_h apart, or
--   min_gap_slow_h for slow reporters: Class B (type 18/19) before the gap, or
--   at anchor/moored (status 1/5) on both sides (one that was anchored and is
--   under way after the silence moved unseen: the normal threshold applies).
--   dark_period when the last position before or the first after lies within
--   port_radius_nm of a port, else ais_gap: a long gap far from every port is
--   never a dark period. The event's port is the probable call port (below),
--   else the port nearest to either end; port_distance_nm is from the nearer
--   end; lat/lon is the last position before the gap. Evidence: both positions,
--   the nearest port and its distance at each end, displacement_nm and
--   implied_speed_kn, heading_to_port (COG within toward_port_deg of the bearing
--   to the event's port, else to the port nearest the start; null when stopped,
--   SOG < 1 kn), draught before and after (type 5, as of the gap ends), coverage
--   (OTHER vessels and their positions heard within port_radius_nm of the gap
--   start during the gap: many = the receivers worked, the silence was the
--   ship's), and reachability: port P is reachable when d(start,P) /
--   reach_speed_kn + min_berth_h + d(P,end) / reach_speed_kn <= the gap (up to
--   5, least detour first); probable_unreported_call when both ends are within
--   call_radius_nm of the same reachable port (a ship that goes silent ~50 nm
--   out and reappears there, with time to berth, probably called).
-- param: min_gap_h = 6.0 -- hours between consecutive positions that make a gap
-- param: min_gap_slow_h = 12.0 -- hours, for Class B or anchored/moored (status 1/5 both sides) ships
-- param: port_radius_nm = 50.0 -- nm; a gap end this close to a port makes it a dark_period (and the coverage radius)
-- param: toward_port_deg = 45.0 -- degrees; COG within this of the bearing to the port = heading to port
-- param: reach_speed_kn = 15.0 -- knots; top speed for the reachability test (not spoofing_jump's max_speed_kn)
-- param: min_berth_h = 6.0 -- hours alongside for a call during the gap to count as possible
-- param: call_radius_nm = 60.0 -- nm; both gap ends this close to one reachable port = probable unreported call
WITH g0 AS (  -- each position and the next of its segment (pos.rn, n_ts), when far enough apart
    SELECT a.mmsi, a.seg, a.ts, a.dup_key, a.lat, a.lon, a.sog, a.cog, a.nav_status, a.msg_type,
           a.source_id, a.line_no, b.ts AS n_ts, b.lat AS n_lat, b.lon AS n_lon, b.sog AS n_sog, b.cog AS n_cog,
           b.nav_status AS n_nav_status, b.msg_type AS n_msg_type, b.source_id AS n_source_id,
           b.line_no AS n_line_no, seconds_between(a.ts, b.ts) / 3600.0 AS gap_h,
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
), gp AS (  -- gaps are few: every gap against every port (3,798), two distances each
    SELECT g.gid, g.gap_h, pt.port_id,
           haversine_nm(g.lat, g.lon, pt.lat, pt.lon) AS d_start_nm,
           haversine_nm(g.n_lat, g.n_lon, pt.lat, pt.lon) AS d_end_nm,
           pt.port_id * 1e-9 AS tie  -- equal distances go to the lower port_id (1e-9 nm per id: < 0.2 m)
    FROM g CROSS JOIN ports pt
), pa AS (
    SELECT gid,
           arg_min(port_id, d_start_nm + tie) AS start_port_id, min(d_start_nm) AS start_port_nm,
           arg_min(port_id, d_end_nm + tie) AS end_port_id, min(d_end_nm) AS end_port_nm,
           arg_min(port_id, d_start_nm + d_end_nm + tie)
               FILTER (WHERE d_start_nm <= $call_radius_nm AND d_end_nm <= $call_radius_nm
                       AND (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h) AS call_port_id,
           count(*) FILTER (WHERE (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h)
               AS reachable_total,
           arg_min(port_id, d_start_nm + d_end_nm + tie, 5)
               FILTER (WHERE (d_start_nm + d_end_nm) / $reach_speed_kn + $min_berth_h <= gap_h) AS reach_ids
    FROM gp
    GROUP BY gid
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
          JOIN g ON g.gid = u.gid
          JOIN ports pt ON pt.port_id = u.port_id)
    GROUP BY gid
), cells AS (  -- the 0.5-degree cells within port_radius_nm of each gap start, for each UTC hour of the gap
    SELECT DISTINCT c.gid, c.mmsi, c.t0, c.t1, c.lat, c.lon, a.cy, ((b.cx + 360) % 720 + 720) % 720 AS cx, h.hour
    FROM (SELECT gid, mmsi, ts AS t0, n_ts AS t1, lat, lon,
                 least(180.0, $port_radius_nm
                       / (60.0 * greatest(0.01, cos(radians(least(89.9, abs(lat) + $port_radius_nm / 60.0))))))
                     AS dlon
          FROM g) c,
         unnest(range(CAST(floor(2 * (c.lat - $port_radius_nm / 60.0)) AS BIGINT),
                      CAST(floor(2 * (c.lat + $port_radius_nm / 60.0)) AS BIGINT) + 1)) AS a(cy),
         unnest(range(CAST(floor(2 * (c.lon - c.dlon)) AS BIGINT),
                      CAST(floor(2 * (c.lon + c.dlon)) AS BIGINT) + 1)) AS b(cx),
         unnest(range(CAST(floor(epoch(c.t0) / 3600) AS BIGINT),
                      CAST(floor(epoch(c.t1) / 3600) AS BIGINT) + 1)) AS h(hour)
), cov AS (  -- other vessels heard near the gap start while this one was silent (equality join on cell+hour)
    SELECT c.gid, count(DISTINCT p.mmsi) AS other_vessels, count(*) AS other_positions
    FROM cells c
    JOIN (SELECT mmsi, ts, lat, lon, CAST(floor(2 * lat) AS BIGINT) AS cy,
                 ((CAST(floor(2 * lon) AS BIGINT) + 360) % 720 + 720) % 720 AS cx,
                 CAST(floor(epoch(ts) / 3600) AS BIGINT) AS hour
          FROM pos) p
      ON p.cy = c.cy AND p.cx = c.cx AND p.hour = c.hour
    WHERE p.mmsi <> c.mmsi AND p.ts > c.t0 AND p.ts < c.t1
      AND haversine_nm(c.lat, c.lon, p.lat, p.lon) <= $port_radius_nm
    GROUP BY c.gid
), ns AS (  -- segments of each MMSI with a gap (> 1: a shared MMSI, see spoofing_jump)
    SELECT mmsi, count(DISTINCT seg) FILTER (WHERE seg >= 0) AS n_segs
    FROM pos SEMI JOIN (SELECT DISTINCT mmsi FROM g) USING (mmsi)
    GROUP BY mmsi
), dr AS (
    SELECT mmsi, ts, draught FROM static_reports WHERE draught IS NOT NULL
), ev AS (
    SELECT g.*, coalesce(reach.reachable, []) AS reachable, coalesce(pa.reachable_total, 0) AS n_reach,
           coalesce(cov.other_vessels, 0) AS other_vessels, coalesce(cov.other_positions, 0) AS other_positions,
           struct_pack(port_id := ps.port_id, name := ps.name, country := ps.country,
                       distance_nm := pa.start_port_nm) AS near_start,
           struct_pack(port_id := pe.port_id, name := pe.name, country := pe.country,
                       distance_nm := pa.end_port_nm) AS near_end,
           pc.name AS call_port, pc.port_id AS call_port_id,
           CASE
               WHEN pc.port_id IS NOT NULL THEN
                   struct_pack(port_id := pc.port_id, name := pc.name,
                               distance_nm := least(haversine_nm(g.lat, g.lon, pc.lat, pc.lon),
                                                    haversine_nm(g.n_lat, g.n_lon, pc.lat, pc.lon)))
               WHEN pa.start_port_nm <= $port_radius_nm AND pa.start_port_nm <= pa.end_port_nm THEN
                   struct_pack(port_id := ps.port_id, name := ps.name, distance_nm := pa.start_port_nm)
               WHEN pa.end_port_nm <= $port_radius_nm THEN
                   struct_pack(port_id := pe.port_id, name := pe.name, distance_nm := pa.end_port_nm)
           END AS ev_port
    FROM g
    LEFT JOIN pa USING (gid)
    LEFT JOIN reach USING (gid)
    LEFT JOIN cov USING (gid)
    LEFT JOIN ports ps ON ps.port_id = pa.start_port_id
    LEFT JOIN ports pe ON pe.port_id = pa.end_port_id
    LEFT JOIN ports pc ON pc.port_id = pa.call_port_id
), ev2 AS (
    SELECT ev.*, db.draught AS draught_before_m, db.ts AS draught_before_ts,
           da.draught AS draught_after_m, da.ts AS draught_after_ts,
           hp.name AS heading_port, bearing_deg(ev.lat, ev.lon, hp.lat, hp.lon) AS bearing_to_port_deg,
           ev.cog IS NOT NULL AND coalesce(ev.sog, 1) >= 1 AS moving, ns.n_segs
    FROM ev
    ASOF LEFT JOIN dr db ON ev.mmsi = db.mmsi AND ev.ts >= db.ts
    ASOF LEFT JOIN dr da ON ev.mmsi = da.mmsi AND ev.n_ts <= da.ts
    LEFT JOIN ports hp ON hp.port_id = coalesce(ev.ev_port.port_id, ev.near_start.port_id)
    LEFT JOIN ns ON ns.mmsi = ev.mmsi
)
SELECT CASE WHEN ev_port IS NOT NULL THEN 'dark_period' ELSE 'ais_gap' END AS kind,
       mmsi, CAST(NULL AS INTEGER) AS other_mmsi, ts AS start_utc, n_ts AS end_utc, lat, lon,
       ev_port.name AS port, ev_port.port_id AS port_id, ev_port.distance_nm AS port_distance_nm,
       json_object(
           'gap_h', round(gap_h, 2),
           'threshold_h', threshold_h,
           'slow_reporter', slow,
           'segment', seg,
           'track_segments', n_segs,
           'before', json_object('time', strftime(ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', round(lat, 5),
                                 'lon', round(lon, 5), 'sog_kn', sog, 'cog_deg', cog,
                                 'nav_status', nav_status, 'msg_type', msg_type),
           'after', json_object('time', strftime(n_ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', round(n_lat, 5),
                                'lon', round(n_lon, 5), 'sog_kn', n_sog, 'cog_deg', n_cog,
                                'nav_status', n_nav_status, 'msg_type', n_msg_type),
           'displacement_nm', round(displacement_nm, 2),
           'implied_speed_kn', round(displacement_nm / gap_h, 2),
           'nearest_port_start', json_object('port', near_start.name, 'port_id', near_start.port_id,
                                             'country', near_start.country,
                                             'distance_nm', round(near_start.distance_nm, 2)),
           'nearest_port_end', json_object('port', near_end.name, 'port_id', near_end.port_id,
                                           'country', near_end.country,
                                           'distance_nm', round(near_end.distance_nm, 2)),
           'heading_port', heading_port,
           'bearing_to_port_deg', round(bearing_to_port_deg, 1),
           'course_offset_deg', CASE WHEN moving THEN round(angle_diff(cog, bearing_to_port_deg), 1) END,
           'heading_to_port', CASE WHEN moving THEN angle_diff(cog, bearing_to_port_deg) < $toward_port_deg END,
           'draught_before_m', draught_before_m,
           'draught_before_utc', strftime(draught_before_ts, '%Y-%m-%dT%H:%M:%SZ'),
           'draught_after_m', draught_after_m,
           'draught_after_utc', strftime(draught_after_ts, '%Y-%m-%dT%H:%M:%SZ'),
           'draught_change_m', round(draught_after_m - draught_before_m, 2),
           'coverage', json_object('radius_nm', $port_radius_nm, 'other_vessels', other_vessels,
                                   'other_positions', other_positions),
           'reach_speed_kn', $reach_speed_kn,
           'min_berth_h', $min_berth_h,
           'reachable_ports_total', n_reach,
           'reachable_ports', reachable,
           'probable_unreported_call', call_port_id IS NOT NULL,
           'probable_call_port', call_port,
           'probable_call_port_id', call_port_id
       ) AS details,
       [struct_pack(source_id := source_id, line_no := line_no),
        struct_pack(source_id := n_source_id, line_no := n_line_no)] AS evidence
FROM ev2
