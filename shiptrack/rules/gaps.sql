-- kind: dark_period, ais_gap, implausible_gap
-- title: Dark periods near ports, AIS gaps, and gaps no ship could sail
-- description: Consecutive positions of one transmitter's track segment (see
--   shiptrack.rules.segments: a shared MMSI is split per transmitter) at least
--   min_gap_h apart, or min_gap_slow_h for slow reporters (Class B before the gap,
--   or at anchor/moored on both sides). A silence is the ship's only if someone was
--   listening: reception is measured from the coverage table (shiptrack.rules.gaps)
--   near the last position before, the first after, and the port a call would have
--   been at: live (other vessels heard there during the gap at least live_ratio times
--   as often as usual), low, none (nobody heard where others usually are: the
--   receiver, not the ship) or unknown (nobody else is ever heard there). A gap that
--   spans an archive hole (archive_hole_h or more in which the store heard nobody at
--   all) is split at it: the piece before the hole and the piece after it are ais_gap
--   at most, each with one end. dark_period: a whole gap with live reception at both
--   ends, an end within port_radius_nm of a port, a plausible displacement, and not an
--   in-port gap (a ship inside an observed port call, or stopped/at anchor, that
--   reappears within same_place_nm of where it fell silent). implausible_gap: the
--   two ends imply more than the ship can sail (max_speed_kn; max_speed_fast_kn for
--   high-speed craft, WIG, pilot, SAR, law enforcement and military types): a wrong
--   clock or another transmitter, never a dark period. Everything else is a neutral
--   ais_gap, with its coverage. A probable unreported call is claimed only when every
--   condition in details.call_conditions holds: reception live near the port and at
--   both ends, the ship went silent heading for the port (COG within toward_port_deg
--   of the bearing) and reappeared heading away from it, it moved at least
--   same_place_nm, and out-and-back at reach_speed_kn with min_berth_h alongside fits
--   the gap (both ends within call_radius_nm). Evidence: both positions, the nearest
--   port at each end, displacement and implied speed, draught before and after, the
--   coverage figures, the reachable ports, and each call condition.
-- after: port_call
-- param: min_gap_h = 6.0 -- hours between consecutive positions that make a gap
-- param: min_gap_slow_h = 12.0 -- hours, for Class B or anchored/moored (status 1/5 both sides) ships
-- param: port_radius_nm = 50.0 -- nm; a gap end this close to a port can make it a dark_period
-- param: coverage_radius_nm = 50.0 -- nm; other vessels heard this close to a point show reception there
-- param: coverage_context_h = 72.0 -- hours either side of a gap over which a place's usual reception is measured
-- param: live_ratio = 0.5 -- share of the usual reception (hours with others heard) that counts as live
-- param: archive_hole_h = 6.0 -- hours in which the store heard nobody at all: a hole in the archive
-- param: same_place_nm = 2.0 -- nm; a ship that reappears this close to where it fell silent went nowhere we can show
-- param: max_speed_kn = 30.0 -- knots; ends further apart than this speed allows: not the same ship's silence
-- param: max_speed_fast_kn = 60.0 -- knots; the same, for high-speed craft and other fast types
-- param: toward_port_deg = 45.0 -- degrees; COG within this of the bearing to the port = heading to port
-- param: reach_speed_kn = 15.0 -- knots; top speed for the reachability test
-- param: min_berth_h = 6.0 -- hours alongside for a call during the gap to count as possible
-- param: call_radius_nm = 60.0 -- nm; both gap ends this close to one reachable port: a call there is possible
WITH cov AS (  -- reception at each point of each piece, one row per piece
    SELECT gid, part,
           any_value(c) FILTER (WHERE role = 'start') AS c_start,
           any_value(c) FILTER (WHERE role = 'end') AS c_end,
           any_value(c) FILTER (WHERE role = 'port') AS c_port
    FROM (SELECT gid, part, role,
                 struct_pack(status := status, other_vessels := other_vessels, other_positions := other_positions,
                             hours_heard := in_near, hours_archive_live := in_hours,
                             usual_share := round(usual_share, 3), gap_share := round(gap_share, 3)) AS c
          FROM gap_coverage)
    GROUP BY gid, part
), ns AS (  -- segments of each MMSI with a gap (> 1: a shared MMSI), counted as spoofing_jump
    -- counts them: those of 2 positions or more (a lone fix set aside is no transmitter)
    SELECT mmsi, count(*) AS n_segs
    FROM (SELECT mmsi, seg FROM pos SEMI JOIN (SELECT DISTINCT mmsi FROM gap_g) USING (mmsi)
          WHERE seg >= 0 GROUP BY mmsi, seg HAVING count(*) >= 2)
    GROUP BY mmsi
), dr AS (
    SELECT mmsi, ts, draught FROM static_reports WHERE draught IS NOT NULL
), base AS (
    SELECT pc.part, pc.w0, pc.w1, pc.piece_h, pc.hole_start, pc.hole_end, pc.holes, pc.hole_h, g.*,
           gp.start_port_nm, gp.end_port_nm, gp.call_port_id, gp.reachable_total, gp.reachable,
           ps.port_id AS ps_id, ps.name AS ps_name, ps.country AS ps_country,
           pe.port_id AS pe_id, pe.name AS pe_name, pe.country AS pe_country,
           pc2.name AS call_port, pc2.lat AS call_lat, pc2.lon AS call_lon,
           cov.c_start, cov.c_end, cov.c_port,
           coalesce(ic.start_in_call, false) AS start_in_call, coalesce(ic.end_in_call, false) AS end_in_call,
           ic.port AS in_call_port, ic.port_id AS in_call_port_id,
           pc.part = 'whole' AS whole,
           g.cog IS NOT NULL AND coalesce(g.sog, 1) >= 1 AS moving_before,
           g.n_cog IS NOT NULL AND coalesce(g.n_sog, 1) >= 1 AS moving_after,
           coalesce(g.sog < 1, false) OR coalesce(g.nav_status IN (1, 5), false) AS stopped_before
    FROM gap_pieces pc
    JOIN gap_g g USING (gid)
    LEFT JOIN gap_ports gp USING (gid)
    LEFT JOIN ports ps ON ps.port_id = gp.start_port_id
    LEFT JOIN ports pe ON pe.port_id = gp.end_port_id
    LEFT JOIN ports pc2 ON pc2.port_id = gp.call_port_id
    LEFT JOIN cov ON cov.gid = pc.gid AND cov.part = pc.part
    LEFT JOIN gap_in_call ic ON ic.gid = pc.gid
), judged AS (
    SELECT *,
           whole AND displacement_nm / gap_h > max_speed AS too_fast,
           -- in port: inside one observed call throughout, or sitting (stopped, at anchor or in a
           -- call) and back within same_place_nm of where it fell silent
           whole AND ((start_in_call AND end_in_call)
                      OR (displacement_nm < $same_place_nm AND (start_in_call OR end_in_call OR stopped_before)))
               AS in_port,
           (part IN ('whole', 'before_hole') AND start_port_nm <= $port_radius_nm)
               OR (part IN ('whole', 'after_hole') AND end_port_nm <= $port_radius_nm) AS near_port,
           c_start.status = 'live' AND c_end.status = 'live' AS ends_live
    FROM base
), claimed AS (
    SELECT *,
           CASE WHEN too_fast THEN 'implausible_gap'
                WHEN whole AND NOT in_port AND near_port AND ends_live THEN 'dark_period'
                ELSE 'ais_gap' END AS kind,
           CASE WHEN call_port_id IS NOT NULL AND whole AND NOT too_fast THEN struct_pack(
               reception_live_near_port := c_port.status = 'live',
               reception_live_at_both_ends := ends_live,
               went_silent_heading_for_port := CASE WHEN moving_before THEN
                   angle_diff(cog, bearing_deg(lat, lon, call_lat, call_lon)) < $toward_port_deg END,
               reappeared_heading_away := CASE WHEN moving_after THEN
                   angle_diff(n_cog, bearing_deg(call_lat, call_lon, n_lat, n_lon)) < $toward_port_deg END,
               moved := displacement_nm >= $same_place_nm,
               not_in_port := NOT in_port,
               round_trip_fits := true) END AS cond
    FROM judged
), ev AS (
    SELECT *,
           kind = 'dark_period' AND cond IS NOT NULL
               AND coalesce(cond.reception_live_near_port AND cond.reception_live_at_both_ends
                            AND cond.went_silent_heading_for_port AND cond.reappeared_heading_away
                            AND cond.moved AND cond.not_in_port, false) AS probable_call,
           CASE
               WHEN kind = 'implausible_gap' THEN NULL
               WHEN kind = 'dark_period' AND call_port_id IS NOT NULL THEN
                   struct_pack(port_id := call_port_id, name := call_port,
                               distance_nm := least(haversine_nm(lat, lon, call_lat, call_lon),
                                                    haversine_nm(n_lat, n_lon, call_lat, call_lon)))
               WHEN in_port AND in_call_port IS NOT NULL THEN
                   struct_pack(port_id := in_call_port_id, name := in_call_port,
                               distance_nm := least(start_port_nm, end_port_nm))
               WHEN part IN ('whole', 'before_hole') AND start_port_nm <= $port_radius_nm
                    AND (part = 'before_hole' OR start_port_nm <= end_port_nm) THEN
                   struct_pack(port_id := ps_id, name := ps_name, distance_nm := start_port_nm)
               WHEN part IN ('whole', 'after_hole') AND end_port_nm <= $port_radius_nm THEN
                   struct_pack(port_id := pe_id, name := pe_name, distance_nm := end_port_nm)
           END AS ev_port
    FROM claimed
), ev2 AS (
    SELECT ev.*, db.draught AS draught_before_m, db.ts AS draught_before_ts,
           da.draught AS draught_after_m, da.ts AS draught_after_ts,
           hp.name AS heading_port, bearing_deg(ev.lat, ev.lon, hp.lat, hp.lon) AS bearing_to_port_deg, ns.n_segs
    FROM ev
    ASOF LEFT JOIN dr db ON ev.mmsi = db.mmsi AND ev.ts >= db.ts
    ASOF LEFT JOIN dr da ON ev.mmsi = da.mmsi AND ev.n_ts <= da.ts
    LEFT JOIN ports hp ON hp.port_id = coalesce(ev.ev_port.port_id, ev.ps_id)
    LEFT JOIN ns ON ns.mmsi = ev.mmsi
)
SELECT kind, mmsi, CAST(NULL AS INTEGER) AS other_mmsi, w0 AS start_utc, w1 AS end_utc,
       CASE WHEN part = 'after_hole' THEN n_lat ELSE lat END AS lat,
       CASE WHEN part = 'after_hole' THEN n_lon ELSE lon END AS lon,
       ev_port.name AS port, ev_port.port_id AS port_id, ev_port.distance_nm AS port_distance_nm,
       json_object(
           'gap_h', round(piece_h, 2),
           'threshold_h', threshold_h,
           'slow_reporter', slow,
           'segment', seg,
           'track_segments', n_segs,
           'piece', part,
           'silence_h', round(gap_h, 2),
           -- how much later than sent the ends' times may be (sources.time_spread_s): the silence is
           -- known only to within that
           'time_spread_h', (SELECT round(max(s.time_spread_s) / 3600.0, 2) FROM sources s
                             WHERE s.source_id IN (ev2.source_id, ev2.n_source_id)),
           'archive_hole', CASE WHEN part <> 'whole' THEN json_object(
               'holes', holes, 'hours', round(hole_h, 1),
               'first_hole_start', iso_utc(hole_start),
               'last_hole_end', iso_utc(hole_end)) END,
           'before', CASE WHEN part <> 'after_hole' THEN json_object(
               'time', iso_utc(ts), 'lat', round(lat, 5), 'lon', round(lon, 5),
               'sog_kn', sog, 'cog_deg', cog, 'nav_status', nav_status, 'msg_type', msg_type) END,
           'after', CASE WHEN part <> 'before_hole' THEN json_object(
               'time', iso_utc(n_ts), 'lat', round(n_lat, 5), 'lon', round(n_lon, 5),
               'sog_kn', n_sog, 'cog_deg', n_cog, 'nav_status', n_nav_status, 'msg_type', n_msg_type) END,
           'displacement_nm', CASE WHEN whole THEN round(displacement_nm, 2) END,
           'implied_speed_kn', CASE WHEN whole THEN round(displacement_nm / gap_h, 2) END,
           'ship_type', ship_type,
           'max_plausible_speed_kn', max_speed,
           'in_port', in_port,
           'in_port_call', CASE WHEN start_in_call OR end_in_call THEN in_call_port END,
           'nearest_port_start', CASE WHEN part <> 'after_hole' THEN json_object(
               'port', ps_name, 'port_id', ps_id, 'country', ps_country, 'distance_nm', round(start_port_nm, 2)) END,
           'nearest_port_end', CASE WHEN part <> 'before_hole' THEN json_object(
               'port', pe_name, 'port_id', pe_id, 'country', pe_country, 'distance_nm', round(end_port_nm, 2)) END,
           'heading_port', heading_port,
           'bearing_to_port_deg', round(bearing_to_port_deg, 1),
           'course_offset_deg', CASE WHEN moving_before THEN round(angle_diff(cog, bearing_to_port_deg), 1) END,
           'heading_to_port', CASE WHEN moving_before THEN angle_diff(cog, bearing_to_port_deg) < $toward_port_deg END,
           'draught_before_m', draught_before_m,
           'draught_before_utc', iso_utc(draught_before_ts),
           'draught_after_m', draught_after_m,
           'draught_after_utc', iso_utc(draught_after_ts),
           'draught_change_m', round(draught_after_m - draught_before_m, 2),
           'coverage', json_object(
               'radius_nm', $coverage_radius_nm,
               'status', CASE WHEN (c_start IS NULL OR c_start.status = 'live') AND (c_end IS NULL OR c_end.status = 'live')
                              THEN 'live'
                              WHEN c_start.status = 'none' OR c_end.status = 'none' THEN 'none'
                              WHEN c_start.status = 'low' OR c_end.status = 'low' THEN 'low'
                              ELSE 'unknown' END,
               'other_vessels', greatest(coalesce(c_start.other_vessels, 0), coalesce(c_end.other_vessels, 0)),
               'start', c_start, 'end', c_end, 'port', c_port),
           'reach_speed_kn', $reach_speed_kn,
           'min_berth_h', $min_berth_h,
           'reachable_ports_total', CASE WHEN whole THEN reachable_total END,
           'reachable_ports', CASE WHEN whole THEN reachable END,
           'possible_call_port', call_port,
           'call_conditions', cond,
           'probable_unreported_call', probable_call,
           'probable_call_port', CASE WHEN probable_call THEN call_port END,
           'probable_call_port_id', CASE WHEN probable_call THEN call_port_id END
       ) AS details,
       CASE part
           WHEN 'whole' THEN [struct_pack(source_id := source_id, line_no := line_no),
                              struct_pack(source_id := n_source_id, line_no := n_line_no)]
           WHEN 'before_hole' THEN [struct_pack(source_id := source_id, line_no := line_no)]
           ELSE [struct_pack(source_id := n_source_id, line_no := n_line_no)]
       END AS evidence,
       seg AS segment
FROM ev2
