-- kind: unplanned_port_call
-- title: Calls at ports the declared voyage did not name
-- description: A port_call made while a declared voyage (`shiptrack route declare`)
--   was under way, at a port the voyage did not declare. Under way means from the
--   declared departure (or, if none was given, the end of the vessel's first call at
--   the departure port) until it reached the final declared port, or max_voyage_days,
--   or its next declared voyage. Optional ports ('Sfax?') are declared; the departure
--   port is not unplanned; a call within declared_port_radius_nm of a declared port
--   counts as a call there (neighbouring terminals of one harbour). Calls that
--   AIS did not show (a dark period) are the gaps rule's probable_unreported_call.
--   Evidence: the voyage as declared, the call's arrival, departure and duration,
--   and its distance off the declared sea route; the call's own evidence.
-- after: port_call
-- param: max_voyage_days = 60.0          -- a voyage whose final port is never reached ends after this many days
-- param: declared_port_radius_nm = 10.0  -- a call this close to a declared port counts as a call there (nm)
WITH vp AS (
    SELECT dp.voyage_id, dp.port_id, p.lat, p.lon
    FROM declared_voyage_ports dp JOIN ports p USING (port_id)
), calls AS (
    SELECT c.event_id, c.mmsi, c.start_utc, c.end_utc, c.lat, c.lon, c.port, c.port_id,
           c.port_distance_nm, c.evidence, c.segment, w.voyage_id, w.ports, w.dep_utc, w.departure_inferred, w.end_utc AS voyage_end_utc
    FROM events c JOIN voyage_windows w
      ON c.mmsi = w.mmsi AND c.start_utc >= w.dep_utc AND (w.end_utc IS NULL OR c.start_utc < w.end_utc)
    WHERE c.kind = 'port_call'
), unplanned AS (
    SELECT c.* FROM calls c
    WHERE NOT EXISTS (
        SELECT 1 FROM vp
        WHERE vp.voyage_id = c.voyage_id
          AND (vp.port_id = c.port_id OR haversine_nm(c.lat, c.lon, vp.lat, vp.lon) <= $declared_port_radius_nm))
    -- one voyage per call (windows of one vessel only meet at a departure)
    QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY c.dep_utc DESC, c.voyage_id) = 1
), off_route AS (
    SELECT u.event_id, u.voyage_id, min(haversine_nm(u.lat, u.lon, r.lat, r.lon)) AS route_offset_nm
    FROM unplanned u JOIN declared_route_points r USING (voyage_id)
    GROUP BY u.event_id, u.voyage_id
)
SELECT 'unplanned_port_call' AS kind, u.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       u.start_utc, u.end_utc, u.lat, u.lon, u.port, u.port_id, u.port_distance_nm,
       json_object(
           'voyage_id', u.voyage_id, 'declared_ports', u.ports,
           'departed_utc', iso_utc(u.dep_utc),
           'departure_inferred', u.departure_inferred,
           'voyage_end_utc', iso_utc(u.voyage_end_utc),
           'arrival_utc', iso_utc(u.start_utc),
           'departure_utc', iso_utc(u.end_utc),
           'duration_h', round(seconds_between(u.start_utc, u.end_utc) / 3600.0, 2),
           'route_offset_nm', round(o.route_offset_nm, 1),
           'port_call_event_id', u.event_id
       ) AS details,
       u.evidence, u.segment
FROM unplanned u LEFT JOIN off_route o USING (event_id, voyage_id)
