-- kind: route_deviation
-- title: Far off the declared voyage's sea route
-- description: While a declared voyage is under way (see unplanned_port_call), the
--   vessel stays more than max_offset_nm from the voyage's expected sea route (the
--   searoute path through every declared port, optional ones included) for at least
--   min_duration_h: one event per excursion, from the first to the last position
--   beyond the corridor, placed where it was farthest off. Evidence: the largest
--   offset and where and when, the positions at the start and end of the excursion
--   (with their offsets), the voyage as declared.
-- after: port_call
-- param: max_offset_nm = 100.0   -- corridor half-width round the declared sea route (nm)
-- param: min_duration_h = 6.0    -- shortest excursion reported, first to last position outside (hours)
-- param: max_voyage_days = 60.0  -- a voyage whose final port is never reached ends after this many days
WITH o AS (
    SELECT *, offset_nm > $max_offset_nm AS outside FROM route_offsets
), runs AS (
    SELECT *,
           row_number() OVER (PARTITION BY voyage_id, mmsi, seg ORDER BY ts, dup_key)
           - row_number() OVER (PARTITION BY voyage_id, mmsi, seg, outside ORDER BY ts, dup_key) AS run
    FROM o
), excursions AS (
    SELECT voyage_id, mmsi, seg, run,
           min(ts) AS start_utc, max(ts) AS end_utc, count(*) AS n_positions,
           max(offset_nm) AS max_offset_nm,
           first(struct_pack(ts, lat, lon, offset_nm, source_id, line_no) ORDER BY ts, dup_key) AS first_pos,
           first(struct_pack(ts, lat, lon, offset_nm, source_id, line_no) ORDER BY ts DESC, dup_key DESC) AS last_pos,
           first(struct_pack(ts, lat, lon, offset_nm, source_id, line_no) ORDER BY offset_nm DESC, ts, dup_key)
               AS max_pos
    FROM runs WHERE outside
    GROUP BY voyage_id, mmsi, seg, run
    HAVING seconds_between(min(ts), max(ts)) / 3600.0 >= $min_duration_h
)
SELECT 'route_deviation' AS kind, e.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       e.start_utc, e.end_utc, e.max_pos.lat AS lat, e.max_pos.lon AS lon,
       CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id, CAST(NULL AS DOUBLE) AS port_distance_nm,
       json_object(
           'voyage_id', e.voyage_id, 'declared_ports', w.ports,
           'departed_utc', strftime(w.dep_utc, '%Y-%m-%dT%H:%M:%SZ'),
           'max_offset_nm', round(e.max_offset_nm, 1),
           'max_offset_utc', strftime(e.max_pos.ts, '%Y-%m-%dT%H:%M:%SZ'),
           'max_offset_lat', e.max_pos.lat, 'max_offset_lon', e.max_pos.lon,
           'start_utc', strftime(e.start_utc, '%Y-%m-%dT%H:%M:%SZ'),
           'start_lat', e.first_pos.lat, 'start_lon', e.first_pos.lon,
           'start_offset_nm', round(e.first_pos.offset_nm, 1),
           'end_utc', strftime(e.end_utc, '%Y-%m-%dT%H:%M:%SZ'),
           'end_lat', e.last_pos.lat, 'end_lon', e.last_pos.lon,
           'end_offset_nm', round(e.last_pos.offset_nm, 1),
           'duration_h', round(seconds_between(e.start_utc, e.end_utc) / 3600.0, 2),
           'n_positions', e.n_positions,
           'max_offset_limit_nm', $max_offset_nm
       ) AS details,
       [struct_pack(source_id := e.first_pos.source_id, line_no := e.first_pos.line_no),
        struct_pack(source_id := e.max_pos.source_id, line_no := e.max_pos.line_no),
        struct_pack(source_id := e.last_pos.source_id, line_no := e.last_pos.line_no)] AS evidence
FROM excursions e JOIN voyage_windows w USING (voyage_id)
