-- kind: position_on_land
-- title: Positions deep inland
-- description: A vessel reports positions more than min_inland_km inland: a
--   faulty or spoofed GNSS fix, a wrong or shared MMSI, or falsified AIS. Consecutive
--   such positions of one MMSI (no position at sea or near the coast between them,
--   whatever track segment they were given) make one event, with its start and end,
--   the number of positions and the largest inland distance. Inland distance is measured to the Natural Earth
--   coastline (shiptrack.reference.land); positions within about min_inland_km of the
--   coast are never flagged, so ships berthed at ports whose rounded WPI point lies
--   on land (Banghazi, Mersa Sfax, Novorossiysk) are not. Rivers and lakes are land
--   in that data, so a position counts only when it is more than min_inland_km
--   deeper inland than the deepest WPI port within inland_port_radius_km (the Elbe
--   near Hamburg, the Great Lakes); set that radius to 0 to measure from the coast
--   alone. Evidence: the first, deepest and last positions; details also give the
--   position before the run and the jump from it (a jump of tens of km at an
--   impossible speed points at spoofing), and the nearest port.
-- param: min_inland_km = 5.0  -- positions more inland than this are flagged (km)
-- param: inland_port_radius_km = 100.0  -- river and lake ports this close raise the threshold (km)
WITH seq AS (
    -- every report of each MMSI with a deep-inland position, in time order, to tell runs
    -- apart (across track segments: a jump inland is often set aside as a bad fix)
    SELECT mmsi, seg, ts, dup_key, lat, lon, sog, source_id, line_no,
           row_number() OVER w AS rn,
           lag(struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, source_id := source_id,
                           line_no := line_no)) OVER w AS prev,
           lead(struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, source_id := source_id,
                            line_no := line_no)) OVER w AS next
    FROM pos
    WHERE mmsi IN (SELECT mmsi FROM pos_on_land)
    WINDOW w AS (PARTITION BY mmsi ORDER BY ts, dup_key)
), flagged AS (
    SELECT s.mmsi, s.ts, s.dup_key, s.prev, s.next, l.inland_km, l.ref_port, l.ref_port_inland_km,
           struct_pack(ts := s.ts, lat := s.lat, lon := s.lon, sog := s.sog, inland_km := l.inland_km,
                       source_id := s.source_id, line_no := s.line_no) AS here,
           s.rn - row_number() OVER (PARTITION BY s.mmsi ORDER BY s.ts, s.dup_key) AS run
    FROM seq s
    JOIN pos_on_land l USING (mmsi, ts, dup_key)
), runs AS (
    SELECT mmsi, run, min(ts) AS start_utc, max(ts) AS end_utc, count(*) AS positions,
           max(inland_km) AS max_inland_km,
           arg_min(here, (ts, dup_key)) AS first, arg_max(here, (ts, dup_key)) AS last,
           arg_max(here, (inland_km, ts, dup_key)) AS deepest,
           arg_min(prev, (ts, dup_key)) AS before, arg_max(next, (ts, dup_key)) AS after,
           arg_max(ref_port, (ref_port_inland_km, ts, dup_key)) AS ref_port,
           max(ref_port_inland_km) AS ref_port_inland_km
    FROM flagged
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
                               km := haversine_nm(r.first.lat, r.first.lon, pt.lat, pt.lon) * 1.852),
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
                               km := haversine_nm(r.first.lat, r.first.lon, pt.lat, pt.lon) * 1.852),
                   haversine_nm(r.first.lat, r.first.lon, pt.lat, pt.lon)) AS port
    FROM runs r ANTI JOIN found USING (mmsi, run)
    CROSS JOIN ports pt
    GROUP BY r.mmsi, r.run
), jump AS (
    SELECT *,
           haversine_nm(before.lat, before.lon, first.lat, first.lon) * 1.852 AS jump_km,
           seconds_between(before.ts, first.ts) / 3600.0 AS jump_h
    FROM runs
)
SELECT 'position_on_land' AS kind, j.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       j.start_utc, j.end_utc, j.first.lat AS lat, j.first.lon AS lon,
       n.port.name AS port, n.port.port_id AS port_id, n.port.km / 1.852 AS port_distance_nm,
       json_object(
           'positions', j.positions, 'max_inland_km', round(j.max_inland_km, 2),
           'first_position', json_object('utc', strftime(j.first.ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', j.first.lat,
                                         'lon', j.first.lon, 'sog_kn', j.first.sog,
                                         'inland_km', round(j.first.inland_km, 2)),
           'deepest_position', json_object('utc', strftime(j.deepest.ts, '%Y-%m-%dT%H:%M:%SZ'),
                                           'lat', j.deepest.lat, 'lon', j.deepest.lon,
                                           'inland_km', round(j.deepest.inland_km, 2)),
           'last_position', json_object('utc', strftime(j.last.ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', j.last.lat,
                                        'lon', j.last.lon, 'inland_km', round(j.last.inland_km, 2)),
           'previous_position', CASE WHEN j.before IS NOT NULL THEN json_object(
               'utc', strftime(j.before.ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', j.before.lat, 'lon', j.before.lon) END,
           'next_position', CASE WHEN j.after IS NOT NULL THEN json_object(
               'utc', strftime(j.after.ts, '%Y-%m-%dT%H:%M:%SZ'), 'lat', j.after.lat, 'lon', j.after.lon) END,
           'jump_km', round(j.jump_km, 2),
           'jump_implied_speed_kn', CASE WHEN j.jump_h > 0 THEN round(j.jump_km / 1.852 / j.jump_h, 1) END,
           'reference_port', j.ref_port, 'reference_port_inland_km', round(j.ref_port_inland_km, 2),
           'nearest_port', n.port.name, 'nearest_port_country', n.port.country,
           'nearest_port_distance_km', round(n.port.km, 2)) AS details,
       [struct_pack(source_id := j.first.source_id, line_no := j.first.line_no)]
       || CASE WHEN j.deepest.ts <> j.first.ts AND j.deepest.ts <> j.last.ts
               THEN [struct_pack(source_id := j.deepest.source_id, line_no := j.deepest.line_no)] ELSE [] END
       || CASE WHEN j.positions > 1
               THEN [struct_pack(source_id := j.last.source_id, line_no := j.last.line_no)] ELSE [] END AS evidence
FROM jump j
JOIN nearest n USING (mmsi, run)
