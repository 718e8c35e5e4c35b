-- kind: position_on_land
-- title: Positions on land that no vessel could have reached
-- description: A vessel reports positions on land that are physically implausible: a
--   faulty or spoofed GNSS fix, a wrong or shared MMSI, or falsified AIS. Inland water is
--   water: a position is never flagged within min_inland_km of the Natural Earth
--   coastline, nor within water_margin_km of a mapped lake or river (Natural Earth 1:10m
--   lakes and river centre-lines, world, Europe and North America), canal or river route
--   (the searoute network's lanes over land: Suez, Panama, Volga-Don, the Mississippi...)
--   or WPI port (shiptrack.reference.water). Maps miss many waters (the Kiel Canal,
--   harbour basins, small rivers), so what remains is reported only when the track makes
--   it implausible. reason isolated_fix_inland: at most max_isolated_fixes consecutive
--   positions off all water, entered by a jump and left by a jump that no vessel can make
--   (farther than max_speed_kn allows in the time between, with the track segmenter's
--   allowances of 1 nm and 30 s), while the positions before and after are consistent
--   with each other: the track jumped onto land and straight back. Such a jump is not
--   reported when the MMSI is otherwise seen within water_margin_km of the place (a
--   report with a wrong time on an unmapped river). reason track_far_from_water:
--   positions more than far_from_water_km from the sea and from every mapped water,
--   whatever the track does. Nothing else is flagged: positions consistent with the
--   ones around them (a ship moving along an unmapped canal or berthed in an unmapped
--   basin), a lone position with no neighbour, a jump onto land that stays there, or an
--   MMSI whose reports jump all over (a shared MMSI: see spoofing_jump). The default
--   far_from_water_km is above the largest gap measured between a navigable place and
--   mapped water (100 km: Pekanbaru on the Siak, Sumatra). Consecutive flagged positions
--   of one MMSI make one event. Evidence: the first, deepest and last positions, and for
--   an isolated fix the positions before and after. details: reason, water_distance_km
--   (the event's smallest distance to mapped water: coast, lake, river, waterway or
--   port) and that water's kind and name, the inland distance (to the coastline), the
--   jumps in and out and from before to after (km, implied knots), the nearest port.
-- param: min_inland_km = 5.0  -- positions closer than this to the coastline are never flagged (km)
-- param: water_margin_km = 3.0  -- positions this close to a mapped lake, river, canal or port are on water (km)
-- param: max_speed_kn = 60.0  -- consecutive positions farther apart than this speed allows are a jump (knots)
-- param: max_isolated_fixes (integer) = 3  -- at most this many consecutive positions that jump onto land and back are isolated (positions)
-- param: far_from_water_km = 150.0  -- positions farther than this from the sea and all mapped water are flagged whatever the track (km)
WITH seq AS (
    -- every report of each MMSI with a position off all water, in time order (across track
    -- segments: a jump inland is often set aside as a bad fix), with the fixes around it
    SELECT mmsi, ts, dup_key, lat, lon, sog, source_id, line_no,
           row_number() OVER w AS rn,
           lag(struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, source_id := source_id,
                           line_no := line_no)) OVER w AS prev,
           lead(struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, source_id := source_id,
                            line_no := line_no)) OVER w AS next
    FROM pos
    WHERE mmsi IN (SELECT mmsi FROM pos_on_land)
    WINDOW w AS (PARTITION BY mmsi ORDER BY ts, dup_key)
), off AS (
    -- the positions off all water; consecutive ones of an MMSI share an excursion number
    SELECT s.*, l.far,
           s.rn - row_number() OVER (PARTITION BY s.mmsi ORDER BY s.ts, s.dup_key) AS excursion,
           s.prev IS NOT NULL AND haversine_nm(s.prev.lat, s.prev.lon, s.lat, s.lon)
               > greatest(1.0, $max_speed_kn * (seconds_between(s.prev.ts, s.ts) + 30.0) / 3600.0) AS jump_in,
           s.next IS NOT NULL AND haversine_nm(s.lat, s.lon, s.next.lat, s.next.lon)
               > greatest(1.0, $max_speed_kn * (seconds_between(s.ts, s.next.ts) + 30.0) / 3600.0) AS jump_out
    FROM seq s
    JOIN pos_on_land l USING (mmsi, ts, dup_key)
), ins AS (
    SELECT mmsi, excursion, rn, prev FROM off WHERE jump_in
), outs AS (
    SELECT mmsi, excursion, rn, next FROM off WHERE jump_out
), spikes AS (
    -- at most max_isolated_fixes consecutive positions off all water, entered by a jump and
    -- left by a jump, while the fixes before and after are consistent with each other
    SELECT a.mmsi, a.rn AS rn0, b.rn AS rn1
    FROM ins a
    JOIN outs b ON a.mmsi = b.mmsi AND a.excursion = b.excursion
               AND b.rn >= a.rn AND b.rn < a.rn + $max_isolated_fixes
    WHERE haversine_nm(a.prev.lat, a.prev.lon, b.next.lat, b.next.lon)
          <= greatest(1.0, $max_speed_kn * (seconds_between(a.prev.ts, b.next.ts) + 30.0) / 3600.0)
), spike_fix AS (
    SELECT s.mmsi, s.rn0, s.rn1, o.rn, o.lat, o.lon
    FROM spikes s JOIN off o ON o.mmsi = s.mmsi AND o.rn BETWEEN s.rn0 AND s.rn1
), others AS (
    -- the positions of those MMSIs that are no part of any spike
    SELECT q.mmsi, q.lat, q.lon FROM seq q
    WHERE q.mmsi IN (SELECT mmsi FROM spike_fix)
      AND NOT EXISTS (SELECT 1 FROM spike_fix f WHERE f.mmsi = q.mmsi AND f.rn = q.rn)
), seen_there AS (
    -- a spike within water_margin_km of where the MMSI's track is otherwise seen is a place the
    -- vessel goes (a report with a wrong time, on an unmapped river), not a jump onto land
    SELECT DISTINCT f.mmsi, f.rn0, f.rn1
    FROM spike_fix f JOIN others q ON q.mmsi = f.mmsi
         AND abs(q.lat - f.lat) <= $water_margin_km / 110.0
         AND haversine_km(q.lat, q.lon, f.lat, f.lon) <= $water_margin_km
), isolated AS (
    SELECT DISTINCT f.mmsi, f.rn
    FROM spike_fix f ANTI JOIN seen_there USING (mmsi, rn0, rn1)
), flagged AS (
    SELECT o.*, i.rn IS NOT NULL AS isolated,
           o.rn - row_number() OVER (PARTITION BY o.mmsi ORDER BY o.ts, o.dup_key) AS run
    FROM off o
    LEFT JOIN isolated i USING (mmsi, rn)
    WHERE i.rn IS NOT NULL OR o.far
), measured AS MATERIALIZED (
    -- distances to the coast and to the nearest mapped water, measured for these positions only
    SELECT *, position_on_land_water(lat, lon) AS m FROM flagged
), placed AS (
    SELECT mmsi, ts, dup_key, prev, next, isolated, run, m.inland_km AS inland_km, m.km AS water_km,
           struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, inland_km := m.inland_km,
                       water_km := m.km, source_id := source_id, line_no := line_no) AS here,
           struct_pack(km := m.km, kind := m.kind, name := m.name) AS water
    FROM measured
), runs AS (
    SELECT mmsi, run, min(ts) AS start_utc, max(ts) AS end_utc, count(*) AS positions,
           bool_or(isolated) AS isolated, max(inland_km) AS max_inland_km, min(water_km) AS water_km,
           arg_min(water, (water_km, ts, dup_key)) AS water,
           arg_min(here, (ts, dup_key)) AS first, arg_max(here, (ts, dup_key)) AS last,
           arg_max(here, (inland_km, ts, dup_key)) AS deepest,
           arg_min(prev, (ts, dup_key)) AS before, arg_max(next, (ts, dup_key)) AS after
    FROM placed
    GROUP BY mmsi, run
), port_blocks AS (
    -- each port in its 1-degree cell and the 8 around it
    SELECT port_id, name, country, lat, lon,
           CAST(floor(lat) AS INTEGER) + dy AS gy, CAST(floor(lon) AS INTEGER) + dx AS gx
    FROM ports, (SELECT unnest([-1, 0, 1]) AS dy), (SELECT unnest([-1, 0, 1]) AS dx)
), near_block AS (
    -- the nearest port of the 3x3 block of 1-degree cells around the first position: the
    -- nearest of all when closer than any port outside the block can be (reach_km)
    SELECT r.mmsi, r.run,
           arg_min(struct_pack(port_id := pt.port_id, name := pt.name, country := pt.country,
                               km := haversine_km(r.first.lat, r.first.lon, pt.lat, pt.lon)),
                   haversine_nm(r.first.lat, r.first.lon, pt.lat, pt.lon)) AS port,
           any_value(111.0 * cos(radians(least(abs(r.first.lat) + 1.0, 89.0)))) AS reach_km
    FROM runs r
    JOIN port_blocks pt ON pt.gy = CAST(floor(r.first.lat) AS INTEGER) AND pt.gx = CAST(floor(r.first.lon) AS INTEGER)
    GROUP BY r.mmsi, r.run
), found AS (
    SELECT mmsi, run, port FROM near_block WHERE port.km <= reach_km
), nearest AS (
    SELECT * FROM found
    UNION ALL
    SELECT r.mmsi, r.run,
           arg_min(struct_pack(port_id := pt.port_id, name := pt.name, country := pt.country,
                               km := haversine_km(r.first.lat, r.first.lon, pt.lat, pt.lon)),
                   haversine_nm(r.first.lat, r.first.lon, pt.lat, pt.lon)) AS port
    FROM runs r ANTI JOIN found USING (mmsi, run)
    CROSS JOIN ports pt
    GROUP BY r.mmsi, r.run
), jump AS (
    SELECT *,
           haversine_km(before.lat, before.lon, first.lat, first.lon) AS in_km,
           seconds_between(before.ts, first.ts) / 3600.0 AS in_h,
           haversine_km(last.lat, last.lon, after.lat, after.lon) AS out_km,
           seconds_between(last.ts, after.ts) / 3600.0 AS out_h,
           haversine_km(before.lat, before.lon, after.lat, after.lon) AS back_km,
           seconds_between(before.ts, after.ts) / 3600.0 AS back_h
    FROM runs
)
SELECT 'position_on_land' AS kind, j.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       j.start_utc, j.end_utc, j.first.lat AS lat, j.first.lon AS lon,
       n.port.name AS port, n.port.port_id AS port_id, km_to_nm(n.port.km) AS port_distance_nm,
       json_object(
           'reason', CASE WHEN j.isolated THEN 'isolated_fix_inland' ELSE 'track_far_from_water' END,
           'positions', j.positions,
           'water_distance_km', round(j.water_km, 2),
           'nearest_water', json_object('kind', j.water.kind, 'name', j.water.name),
           'max_inland_km', round(j.max_inland_km, 2),
           'first_position', json_object('utc', iso_utc(j.first.ts), 'lat', j.first.lat,
                                         'lon', j.first.lon, 'sog_kn', j.first.sog,
                                         'inland_km', round(j.first.inland_km, 2),
                                         'water_km', round(j.first.water_km, 2)),
           'deepest_position', json_object('utc', iso_utc(j.deepest.ts),
                                           'lat', j.deepest.lat, 'lon', j.deepest.lon,
                                           'inland_km', round(j.deepest.inland_km, 2),
                                           'water_km', round(j.deepest.water_km, 2)),
           'last_position', json_object('utc', iso_utc(j.last.ts), 'lat', j.last.lat,
                                        'lon', j.last.lon, 'inland_km', round(j.last.inland_km, 2),
                                        'water_km', round(j.last.water_km, 2)),
           'previous_position', CASE WHEN j.before IS NOT NULL THEN json_object(
               'utc', iso_utc(j.before.ts), 'lat', j.before.lat, 'lon', j.before.lon,
               'sog_kn', j.before.sog) END,
           'next_position', CASE WHEN j.after IS NOT NULL THEN json_object(
               'utc', iso_utc(j.after.ts), 'lat', j.after.lat, 'lon', j.after.lon,
               'sog_kn', j.after.sog) END,
           'jump_in_km', round(j.in_km, 2),
           'jump_in_speed_kn', CASE WHEN j.in_h > 0 THEN round(km_to_nm(j.in_km) / j.in_h, 1) END,
           'jump_out_km', round(j.out_km, 2),
           'jump_out_speed_kn', CASE WHEN j.out_h > 0 THEN round(km_to_nm(j.out_km) / j.out_h, 1) END,
           'before_to_after_km', round(j.back_km, 2),
           'before_to_after_speed_kn', CASE WHEN j.back_h > 0 THEN round(km_to_nm(j.back_km) / j.back_h, 1) END,
           'nearest_port', n.port.name, 'nearest_port_country', n.port.country,
           'nearest_port_distance_km', round(n.port.km, 2)) AS details,
       CASE WHEN j.isolated AND j.before IS NOT NULL
            THEN [struct_pack(source_id := j.before.source_id, line_no := j.before.line_no)] ELSE [] END
       || [struct_pack(source_id := j.first.source_id, line_no := j.first.line_no)]
       || CASE WHEN j.deepest.ts <> j.first.ts AND j.deepest.ts <> j.last.ts
               THEN [struct_pack(source_id := j.deepest.source_id, line_no := j.deepest.line_no)] ELSE [] END
       || CASE WHEN j.positions > 1
               THEN [struct_pack(source_id := j.last.source_id, line_no := j.last.line_no)] ELSE [] END
       || CASE WHEN j.isolated AND j.after IS NOT NULL
               THEN [struct_pack(source_id := j.after.source_id, line_no := j.after.line_no)] ELSE [] END
           AS evidence
FROM jump j
JOIN nearest n USING (mmsi, run)
