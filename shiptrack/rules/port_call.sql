-- kind: port_call
-- title: Port calls
-- description: A vessel stays at a port: it comes within port_radius_nm of the port
--   (or inside the user's area for that port: `shiptrack areas add`) at under
--   max_sog_kn, and stays for at least min_duration_h. Hysteresis keeps one stay one
--   call: once in, it stays in while inside the radius at any speed (shifting from
--   anchorage to berth) or inside leave_radius_nm at up to leave_sog_kn (swinging or
--   drifting at anchor); it has left when it is beyond leave_radius_nm, or beyond the
--   radius faster than leave_sog_kn. For an area the leave radius is its radius plus
--   the same margin (a polygon is widened by it). Anchoring off the port and then
--   berthing is one call. Arrival is the first slow position inside the radius;
--   departure the last position at up to leave_sog_kn before it left (or the last
--   heard, if it is still there: details.still_in_port). When calls at neighbouring ports
--   overlap, the user's area wins, then the port it came closest to. Evidence: the
--   arrival and departure positions, and the type 5 reports giving the draught on
--   arrival and departure and the destination declared at arrival.
-- param: port_radius_nm = 5     -- a stay starts this close to a port (nm)
-- param: leave_radius_nm = 8    -- and ends only beyond this distance (nm)
-- param: max_sog_kn = 1.0       -- a stay starts below this speed over ground (knots)
-- param: leave_sog_kn = 3.0     -- and ends only above this speed (knots)
-- param: min_duration_h = 4.0   -- shortest stay reported, arrival to departure (hours)
WITH area_ids AS (
    -- every user area, numbered -1, -2, ... by name (port_call.py numbers polygons the same way)
    SELECT *, -row_number() OVER (ORDER BY name) AS place_id FROM areas
), places AS (
    -- World Port Index ports without a user area, then the user's circular areas
    SELECT p.port_id AS place_id, p.port_id, p.name AS port, CAST(NULL AS VARCHAR) AS area,
           p.lat, p.lon, CAST($port_radius_nm AS DOUBLE) AS enter_nm, CAST($leave_radius_nm AS DOUBLE) AS leave_nm,
           1 AS priority
    FROM ports p
    WHERE p.port_id NOT IN (SELECT port_id FROM areas WHERE port_id IS NOT NULL)
    UNION ALL
    SELECT a.place_id, a.port_id, coalesce(p.name, a.name), a.name, a.lat, a.lon, a.radius_nm,
           a.radius_nm + greatest($leave_radius_nm - $port_radius_nm, 0), 0
    FROM area_ids a LEFT JOIN ports p USING (port_id)
    WHERE a.geojson IS NULL AND a.radius_nm IS NOT NULL AND a.lat IS NOT NULL AND a.lon IS NOT NULL
), place_lat_cells AS (
    -- every 0.5-degree cell that the leave radius touches (equality join, see PERFORMANCE.md)
    SELECT *, unnest(range(CAST(floor((lat - leave_nm / 60) / 0.5) AS BIGINT),
                           CAST(floor((lat + leave_nm / 60) / 0.5) AS BIGINT) + 1)) AS cell_lat,
           leave_nm / (60 * cos(radians(least(abs(lat) + leave_nm / 60, 89.0)))) AS dlon
    FROM places
), place_cells AS (
    SELECT place_id, port_id, port, area, lat, lon, enter_nm, leave_nm, priority, cell_lat,
           (unnest(range(CAST(floor((lon - least(dlon, 180)) / 0.5) AS BIGINT),
                         CAST(floor((lon + least(dlon, 180)) / 0.5) AS BIGINT) + 1)) + 720) % 720 AS cell_lon
    FROM place_lat_cells
), numbered AS (
    SELECT mmsi, seg, ts, dup_key, lat, lon, sog, nav_status, source_id, line_no, rn,  -- rn: order in the segment
           CAST(floor(lat / 0.5) AS BIGINT) AS cell_lat,
           (CAST(floor(lon / 0.5) AS BIGINT) + 720) % 720 AS cell_lon
    FROM pos
), circle_hits AS (
    SELECT n.mmsi, n.seg, n.rn, n.ts, n.dup_key, n.lat, n.lon, n.sog, n.nav_status, n.source_id, n.line_no,
           c.place_id, c.port_id, c.port, c.area, c.priority, c.enter_nm, c.leave_nm,
           haversine_nm(n.lat, n.lon, c.lat, c.lon) AS distance_nm
    FROM numbered n JOIN place_cells c ON n.cell_lat = c.cell_lat AND n.cell_lon = c.cell_lon
), hits AS (
    SELECT mmsi, seg, rn, ts, dup_key, lat, lon, sog, nav_status, source_id, line_no,
           place_id, port_id, port, area, priority, distance_nm,
           distance_nm <= enter_nm AS in_enter, distance_nm <= leave_nm AS in_leave
    FROM circle_hits WHERE distance_nm <= leave_nm
    UNION ALL
    -- polygon areas, tested with shapely by port_call.py
    SELECT n.mmsi, n.seg, n.rn, n.ts, n.dup_key, n.lat, n.lon, n.sog, n.nav_status, n.source_id, n.line_no,
           h.place_id, h.port_id, h.port, h.area, 0, h.distance_nm, h.in_enter, h.in_leave
    FROM port_call_polygon_hits h JOIN numbered n USING (mmsi, seg, ts, dup_key)
), stay AS (
    -- positions that keep a vessel at a place: inside the radius at any speed (manoeuvring,
    -- shifting berth), or inside the leave radius slowly (swinging, drifting at anchor)
    SELECT *,
           in_enter AND (sog < $max_sog_kn OR (sog IS NULL AND nav_status IN (1, 5))) AS enters,
           sog IS NULL OR sog <= $leave_sog_kn AS slow
    FROM hits
    WHERE in_enter OR (in_leave AND (sog IS NULL OR sog <= $leave_sog_kn))
), islands AS (
    -- runs of consecutive positions that stay at one place (gaps and islands)
    SELECT *, rn - row_number() OVER w AS island, seconds_between(lag(ts) OVER w, ts) / 3600.0 AS gap_h
    FROM stay
    WINDOW w AS (PARTITION BY mmsi, seg, place_id ORDER BY rn)
), bounds AS (
    -- a call runs from the first position that may start one to the last slow position
    SELECT mmsi, seg, place_id, island, min(rn) FILTER (WHERE enters) AS first_rn,
           max(rn) FILTER (WHERE slow) AS last_rn, max(rn) AS island_last_rn
    FROM islands GROUP BY mmsi, seg, place_id, island
), in_call AS (
    SELECT i.*, b.first_rn, b.island_last_rn
    FROM islands i JOIN bounds b USING (mmsi, seg, place_id, island)
    WHERE b.first_rn IS NOT NULL AND i.rn BETWEEN b.first_rn AND b.last_rn
), calls AS (
    SELECT mmsi, seg, place_id, island,
           any_value(port_id) AS port_id, any_value(port) AS port, any_value(area) AS area,
           any_value(priority) AS priority, any_value(island_last_rn) AS island_last_rn,
           min(ts) AS arrival_utc, max(ts) AS departure_utc, count(*) AS n_positions,
           exact_avg(lat, 1e9) AS lat,
           degrees(atan2(exact_avg(sin(radians(lon)), 1e12), exact_avg(cos(radians(lon)), 1e12))) AS lon,  -- across 180
           min(distance_nm) AS min_distance_nm,
           max(gap_h) FILTER (WHERE rn > first_rn) AS longest_gap_h,
           min(ts) FILTER (WHERE nav_status = 1) AS first_anchored_utc,
           min(ts) FILTER (WHERE nav_status = 5) AS first_moored_utc,
           arg_min(struct_pack(source_id := source_id, line_no := line_no), rn) AS arrival_ref,
           arg_max(struct_pack(source_id := source_id, line_no := line_no), rn) AS departure_ref,
           arg_min(lat, rn) AS arrival_lat, arg_min(lon, rn) AS arrival_lon,
           arg_max(lat, rn) AS departure_lat, arg_max(lon, rn) AS departure_lon
    FROM in_call
    GROUP BY mmsi, seg, place_id, island
    HAVING seconds_between(min(ts), max(ts)) / 3600.0 >= $min_duration_h
), kept AS (
    -- one call per stay: drop a call that overlaps a better one (area first, then closest)
    SELECT c.* FROM calls c
    WHERE NOT EXISTS (
        SELECT 1 FROM calls o
        WHERE o.mmsi = c.mmsi AND o.seg = c.seg AND o.place_id <> c.place_id
          AND o.arrival_utc <= c.departure_utc AND o.departure_utc >= c.arrival_utc
          AND (o.priority, o.min_distance_nm, o.place_id) < (c.priority, c.min_distance_nm, c.place_id))
), last_seen AS (
    SELECT mmsi, seg, max(rn) AS last_rn FROM numbered GROUP BY mmsi, seg
), draught AS (
    SELECT mmsi, ts, draught, source_id, line_no FROM static_reports WHERE draught IS NOT NULL
), dest AS (
    SELECT mmsi, ts, destination, source_id, line_no FROM static_reports WHERE destination IS NOT NULL
), with_static AS (
    SELECT k.*, da.draught AS draught_arrival_m, da.source_id AS da_source_id, da.line_no AS da_line_no
    FROM kept k ASOF LEFT JOIN draught da ON k.mmsi = da.mmsi AND k.arrival_utc >= da.ts
), with_static2 AS (
    SELECT w.*, dd.draught AS draught_departure_m, dd.source_id AS dd_source_id, dd.line_no AS dd_line_no
    FROM with_static w ASOF LEFT JOIN draught dd ON w.mmsi = dd.mmsi AND w.departure_utc >= dd.ts
), with_static3 AS (
    SELECT w.*, de.destination AS destination_at_arrival, de.source_id AS de_source_id, de.line_no AS de_line_no
    FROM with_static2 w ASOF LEFT JOIN dest de ON w.mmsi = de.mmsi AND w.arrival_utc >= de.ts
)
SELECT 'port_call' AS kind, w.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       w.arrival_utc AS start_utc, w.departure_utc AS end_utc,
       -- the mean position, to 0.1 m: a parallel sum's last bits vary from run to run
       round(w.lat, 6) AS lat, round(w.lon, 6) AS lon,
       w.port, w.port_id, w.min_distance_nm AS port_distance_nm,
       json_object(
           'arrival_utc', iso_utc(w.arrival_utc),
           'departure_utc', iso_utc(w.departure_utc),
           'duration_h', round(seconds_between(w.arrival_utc, w.departure_utc) / 3600.0, 2),
           'still_in_port', w.island_last_rn = l.last_rn,
           'n_positions', w.n_positions,
           'mean_lat', round(w.lat, 5), 'mean_lon', round(w.lon, 5),
           'arrival_lat', w.arrival_lat, 'arrival_lon', w.arrival_lon,
           'departure_lat', w.departure_lat, 'departure_lon', w.departure_lon,
           'min_distance_nm', round(w.min_distance_nm, 2),
           'longest_gap_h', round(coalesce(w.longest_gap_h, 0), 2),
           'anchored', w.first_anchored_utc IS NOT NULL,
           'moored', w.first_moored_utc IS NOT NULL,
           'anchored_first', w.first_anchored_utc IS NOT NULL
                             AND (w.first_moored_utc IS NULL OR w.first_anchored_utc < w.first_moored_utc),
           'draught_arrival_m', w.draught_arrival_m,
           'draught_departure_m', w.draught_departure_m,
           'destination_at_arrival', w.destination_at_arrival,
           'area', w.area,
           'port_radius_nm', $port_radius_nm, 'leave_radius_nm', $leave_radius_nm
       ) AS details,
       [x FOR x IN [w.arrival_ref, w.departure_ref,
                    struct_pack(source_id := w.da_source_id, line_no := w.da_line_no),
                    CASE WHEN w.dd_line_no IS DISTINCT FROM w.da_line_no OR w.dd_source_id IS DISTINCT FROM w.da_source_id
                         THEN struct_pack(source_id := w.dd_source_id, line_no := w.dd_line_no) END,
                    struct_pack(source_id := w.de_source_id, line_no := w.de_line_no)]
        IF x IS NOT NULL AND x.line_no IS NOT NULL] AS evidence,
       w.seg AS segment
FROM with_static3 w JOIN last_seen l USING (mmsi, seg)
