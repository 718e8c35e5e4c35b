-- kind: sts_encounter
-- title: Ship-to-ship encounters at sea
-- description: Two vessels within max_distance_m of each other, both slower than
--   max_sog_kn, for at least min_duration_h, and at least min_port_distance_km from
--   every World Port Index port: a possible ship-to-ship transfer. One event per pair
--   and meeting, on the lower MMSI, with the other in other_mmsi. Time is cut into
--   bucket_min buckets and each vessel is represented by its last position in each
--   bucket (that position must be slow and away from ports); a vessel's position
--   stands in for up to max_fill_min when no newer one was heard, so that a few lost
--   reports do not split a meeting. Pairs are found on a grid of 0.01 degree cells
--   (equality join with the neighbouring cells), then runs of consecutive buckets
--   make one meeting. Start and end are the times of the bucket positions, so they
--   are exact to about bucket_min. Only ship MMSIs (100000000-799999999, not SAR
--   aircraft) are considered: aids to navigation, ship's boats (98x) and SARTs are
--   not, nor are fixes the track segmenter set aside as bad. Evidence: both vessels'
--   positions at the start and at the end, minimum and mean separation, the nearest
--   port. Anchorages more than min_port_distance_km from the WPI point of their port
--   (and legitimate STS areas) will show up: read the nearest port and nav_status
--   before drawing conclusions.
-- param: max_distance_m = 500.0  -- the two vessels at most this far apart (m)
-- param: max_sog_kn = 2.0  -- both vessels slower than this (knots)
-- param: min_duration_h = 2.0  -- together for at least this long (hours)
-- param: min_port_distance_km = 10.0  -- both at least this far from any port (km)
-- param: bucket_min = 10  -- time bucket; each vessel's last position per bucket is used (minutes)
-- param: max_fill_min = 30  -- a position stands in for missing reports for up to this long (minutes)
WITH b AS (
    -- each vessel's last position per time bucket (by ts, dup_key): the row whose next
    -- row falls in another bucket; step: buckets to that vessel's next reported bucket
    SELECT mmsi, seg, bucket, next_bucket - bucket AS step, ts, lat, lon, sog,
           struct_pack(ts := ts, lat := lat, lon := lon, sog := sog, nav_status := nav_status,
                       source_id := source_id, line_no := line_no) AS p  -- the evidence
    FROM (
        SELECT mmsi, seg, ts, lat, lon, sog, nav_status, source_id, line_no,
               CAST(floor(epoch(ts) / ($bucket_min * 60)) AS BIGINT) AS bucket,
               CAST(floor(epoch(n_ts) / ($bucket_min * 60)) AS BIGINT) AS next_bucket  -- of the segment's next position
        FROM pos
        WHERE mmsi BETWEEN 100000000 AND 799999999 AND mmsi NOT BETWEEN 111000000 AND 111999999
          AND seg >= 0  -- negative segments are single bad fixes
    )
    WHERE next_bucket IS DISTINCT FROM bucket
), slow AS (
    -- from here on only narrow rows travel; b is read again for the evidence at the end
    SELECT mmsi, seg, bucket, step, lat, lon, ts,
           CAST(floor(lat / 0.1) AS INTEGER) AS py, CAST(floor(lon / 0.1) AS INTEGER) AS px
    FROM b
    WHERE sog < $max_sog_kn
), port_cells AS (
    -- every 0.1-degree cell within min_port_distance_km of a port
    SELECT port_id, lat, lon, py, cx + unnest(range(-kx, kx + 1)) AS px
    FROM (
        SELECT port_id, lat, lon, cx, kx, cy + unnest(range(-ky, ky + 1)) AS py
        FROM (
            SELECT port_id, lat, lon,
                   CAST(floor(lat / 0.1) AS INTEGER) AS cy, CAST(floor(lon / 0.1) AS INTEGER) AS cx,
                   CAST(ceil($min_port_distance_km / 11.1) AS INTEGER) AS ky,
                   CAST(ceil($min_port_distance_km / (11.1 * cos(radians(
                       least(abs(lat) + $min_port_distance_km / 111.0, 89.0))))) AS INTEGER) AS kx
            FROM ports
        )
    )
), near_port AS (
    SELECT DISTINCT s.mmsi, s.seg, s.bucket
    FROM slow s JOIN port_cells c ON c.py = s.py AND c.px = s.px
    WHERE haversine_km(s.lat, s.lon, c.lat, c.lon) < $min_port_distance_km
), filled AS (
    -- a position also stands for the following buckets without a report, when the
    -- next report comes within max_fill_min; src is the bucket it was reported in
    SELECT mmsi, seg, bucket + k AS bucket, bucket AS src, lat, lon, ts,
           CAST(floor(lat / 0.01) AS INTEGER) AS cy, CAST(floor(lon / 0.01) AS INTEGER) AS cx
    FROM (
        SELECT s.*,
               unnest(range(0, CASE WHEN step - 1 <= floor($max_fill_min / $bucket_min) THEN step ELSE 1 END)) AS k
        FROM slow s ANTI JOIN near_port USING (mmsi, seg, bucket)
    )
), grow AS (
    -- one side of the pair join, repeated over the neighbouring 0.01-degree cells
    SELECT *, cx + unnest(range(-kx, kx + 1)) AS ex
    FROM (
        SELECT *, cy + unnest(range(-ky, ky + 1)) AS ey
        FROM (SELECT *, CAST(ceil($max_distance_m / 1111.0) AS INTEGER) AS ky,
                        CAST(ceil($max_distance_m / (1111.0 * cos(radians(
                            least(abs(lat) + $max_distance_m / 111000.0, 89.0))))) AS INTEGER) AS kx
              FROM filled)
    )
), pairs AS (
    SELECT a.mmsi, a.seg, o.mmsi AS other_mmsi, o.seg AS other_seg, a.bucket,
           a.src AS a_src, o.src AS o_src, a.bucket <> a.src OR o.bucket <> o.src AS filled,
           haversine_m(a.lat, a.lon, o.lat, o.lon) AS separation_m,
           (a.lat + o.lat) / 2 AS mid_lat, (a.lon + o.lon) / 2 AS mid_lon,
           greatest(a.ts, o.ts) AS t
    FROM grow a
    JOIN filled o ON o.bucket = a.bucket AND o.cy = a.ey AND o.cx = a.ex AND a.mmsi < o.mmsi
    WHERE haversine_m(a.lat, a.lon, o.lat, o.lon) <= $max_distance_m
), meet AS (
    SELECT mmsi, seg, other_mmsi, other_seg, min(t) AS start_utc, max(t) AS end_utc,
           min(separation_m) AS min_sep_m, exact_avg(separation_m, 1e3) AS mean_sep_m,
           count(*) AS buckets, count(*) FILTER (WHERE filled) AS filled_buckets,
           exact_avg(mid_lat, 1e9) AS lat, exact_avg(mid_lon, 1e9) AS lon,
           arg_min(a_src, bucket) AS a0, arg_min(o_src, bucket) AS o0,
           arg_max(a_src, bucket) AS a1, arg_max(o_src, bucket) AS o1
    FROM (
        SELECT *, bucket - row_number() OVER (PARTITION BY mmsi, seg, other_mmsi, other_seg ORDER BY bucket) AS run
        FROM pairs
    )
    GROUP BY mmsi, seg, other_mmsi, other_seg, run
    HAVING seconds_between(min(t), max(t)) >= $min_duration_h * 3600
), port_blocks AS (
    -- each port in its 1-degree cell and the 8 around it
    SELECT port_id, name, country, lat, lon,
           CAST(floor(lat) AS INTEGER) + dy AS gy, CAST(floor(lon) AS INTEGER) + dx AS gx
    FROM ports, (SELECT unnest([-1, 0, 1]) AS dy), (SELECT unnest([-1, 0, 1]) AS dx)
), near_block AS (
    -- the nearest port among those of the 3x3 block of 1-degree cells around the meeting:
    -- the nearest of all when closer than any port outside the block can be (reach_km)
    SELECT m.mmsi, m.seg, m.other_mmsi, m.other_seg, m.start_utc,
           arg_min(struct_pack(port_id := p.port_id, name := p.name, country := p.country,
                               km := haversine_km(m.lat, m.lon, p.lat, p.lon)),
                   haversine_nm(m.lat, m.lon, p.lat, p.lon)) AS port,
           any_value(111.0 * cos(radians(least(abs(m.lat) + 1.0, 89.0)))) AS reach_km
    FROM meet m JOIN port_blocks p ON p.gy = CAST(floor(m.lat) AS INTEGER) AND p.gx = CAST(floor(m.lon) AS INTEGER)
    GROUP BY m.mmsi, m.seg, m.other_mmsi, m.other_seg, m.start_utc
), found AS (
    SELECT mmsi, seg, other_mmsi, other_seg, start_utc, port FROM near_block WHERE port.km <= reach_km
), nearest AS (
    SELECT * FROM found
    UNION ALL
    -- far from every port: measure them all (few meetings)
    SELECT m.mmsi, m.seg, m.other_mmsi, m.other_seg, m.start_utc,
           arg_min(struct_pack(port_id := p.port_id, name := p.name, country := p.country,
                               km := haversine_km(m.lat, m.lon, p.lat, p.lon)),
                   haversine_nm(m.lat, m.lon, p.lat, p.lon)) AS port
    FROM meet m ANTI JOIN found USING (mmsi, seg, other_mmsi, other_seg, start_utc)
    CROSS JOIN ports p
    GROUP BY m.mmsi, m.seg, m.other_mmsi, m.other_seg, m.start_utc
), ident AS (
    SELECT mmsi, arg_max(name, ts) FILTER (WHERE name IS NOT NULL) AS name,
           arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type
    FROM static_reports
    WHERE mmsi IN (SELECT mmsi FROM meet UNION SELECT other_mmsi FROM meet)
    GROUP BY mmsi
), ev AS (
    SELECT m.*, n.port, ba.p AS pa0, bo.p AS po0, ea.p AS pa1, eo.p AS po1
    FROM meet m
    JOIN nearest n USING (mmsi, seg, other_mmsi, other_seg, start_utc)
    JOIN b ba ON ba.mmsi = m.mmsi AND ba.seg = m.seg AND ba.bucket = m.a0
    JOIN b bo ON bo.mmsi = m.other_mmsi AND bo.seg = m.other_seg AND bo.bucket = m.o0
    JOIN b ea ON ea.mmsi = m.mmsi AND ea.seg = m.seg AND ea.bucket = m.a1
    JOIN b eo ON eo.mmsi = m.other_mmsi AND eo.seg = m.other_seg AND eo.bucket = m.o1
)
SELECT 'sts_encounter' AS kind, e.mmsi, e.other_mmsi, e.start_utc, e.end_utc,
       round(e.lat, 6) AS lat, round(e.lon, 6) AS lon,
       e.port.name AS port, e.port.port_id AS port_id, km_to_nm(e.port.km) AS port_distance_nm,
       json_object(
           'other_mmsi', e.other_mmsi, 'segment', e.seg, 'other_segment', e.other_seg,
           'name', ia.name, 'other_name', io.name, 'ship_type', ia.ship_type, 'other_ship_type', io.ship_type,
           'start_utc', iso_utc(e.start_utc),
           'end_utc', iso_utc(e.end_utc),
           'min_separation_m', round(e.min_sep_m, 1), 'mean_separation_m', round(e.mean_sep_m, 1),
           'buckets', e.buckets, 'filled_buckets', e.filled_buckets, 'bucket_min', $bucket_min,
           'start_position', json_object('utc', iso_utc(e.pa0.ts), 'lat', e.pa0.lat,
                                         'lon', e.pa0.lon, 'sog_kn', e.pa0.sog, 'nav_status', e.pa0.nav_status),
           'start_other_position', json_object('utc', iso_utc(e.po0.ts),
                                               'lat', e.po0.lat, 'lon', e.po0.lon, 'sog_kn', e.po0.sog,
                                               'nav_status', e.po0.nav_status),
           'end_position', json_object('utc', iso_utc(e.pa1.ts), 'lat', e.pa1.lat,
                                       'lon', e.pa1.lon, 'sog_kn', e.pa1.sog, 'nav_status', e.pa1.nav_status),
           'end_other_position', json_object('utc', iso_utc(e.po1.ts),
                                             'lat', e.po1.lat, 'lon', e.po1.lon, 'sog_kn', e.po1.sog,
                                             'nav_status', e.po1.nav_status),
           'nearest_port', e.port.name, 'nearest_port_country', e.port.country,
           'nearest_port_distance_km', round(e.port.km, 2)) AS details,
       [struct_pack(source_id := e.pa0.source_id, line_no := e.pa0.line_no),
        struct_pack(source_id := e.po0.source_id, line_no := e.po0.line_no),
        struct_pack(source_id := e.pa1.source_id, line_no := e.pa1.line_no),
        struct_pack(source_id := e.po1.source_id, line_no := e.po1.line_no)] AS evidence,
       e.seg AS segment
FROM ev e
LEFT JOIN ident ia ON ia.mmsi = e.mmsi
LEFT JOIN ident io ON io.mmsi = e.other_mmsi
