-- kind: route_deviation
-- title: Out of the way of every reasonable route of the declared voyage
-- description: While a declared voyage is under way (see unplanned_port_call), the
--   vessel is where no reasonable route between its declared ports would take it, for
--   at least min_duration_h. A position is measured by its detour: how much longer the
--   voyage becomes by passing there, sea(A, P) + sea(P, B) - sea(A, B), with sea the
--   shortest distance at sea (searoute's network, joined to any point by straight lines
--   that stay at sea), for the legs A > B the ship may be on (from the last declared port
--   it was seen calling at; optional ports called at or skipped) and for each reasonable
--   route of a leg: the shortest, and those found by closing a passage it uses (Suez,
--   Panama, Malacca, Gibraltar...) when no longer than max_alternative_ratio times the
--   shortest (the Cape of Good Hope instead of Suez). A position is off the route when its
--   smallest detour exceeds both min_detour_nm and min_detour_pct of the leg, the
--   percentage applied in proportion to the distance from land up to open_sea_nm (route
--   choice across an open ocean). One event per run of such positions, from the first to
--   the last, placed at the farthest. Evidence: the largest detour (nm and % of the
--   route) with where and when, the route through that point (length and waypoints),
--   the leg and its shortest sea route, the positions at the start and end of the run.
-- after: port_call
-- param: min_detour_nm = 150.0         -- a position is off the route only when passing there adds more than this (nm)
-- param: min_detour_pct = 10.0         -- ...and more than this % of the leg, scaled by the distance from land (open ocean)
-- param: open_sea_nm = 500.0           -- at this distance from land or more the full min_detour_pct applies (nm)
-- param: max_alternative_ratio = 1.5   -- a route through other passages is reasonable up to this times the shortest
-- param: min_duration_h = 6.0          -- shortest run reported, first to last position off the route (hours)
-- param: max_voyage_days = 60.0        -- a voyage whose final port is never reached ends after this many days
SELECT 'route_deviation' AS kind, e.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       e.start_utc, e.end_utc, e.max_pos.lat AS lat, e.max_pos.lon AS lon,
       CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id, CAST(NULL AS DOUBLE) AS port_distance_nm,
       json_object(
           'voyage_id', e.voyage_id, 'declared_ports', w.ports,
           'departed_utc', iso_utc(w.dep_utc),
           'leg', e.measured->>'leg', 'leg_nm', CAST(e.measured->>'leg_nm' AS DOUBLE),
           'route_nm', CAST(e.measured->>'route_nm' AS DOUBLE),
           'route_passages', e.measured->'route_passages', 'route_avoids', e.measured->'route_avoids',
           'max_detour_nm', round(e.max_pos.detour_nm, 1),
           'max_detour_pct', round(100.0 * e.max_pos.detour_nm / CAST(e.measured->>'route_nm' AS DOUBLE), 1),
           'max_detour_utc', iso_utc(e.max_pos.ts),
           'max_detour_lat', e.max_pos.lat, 'max_detour_lon', e.max_pos.lon,
           'max_detour_limit_nm', round(e.max_pos.limit_nm, 1),
           'via_nm', CAST(e.measured->>'via_nm' AS DOUBLE), 'via_waypoints', e.measured->'via_waypoints',
           'sea_room_nm', CAST(e.measured->>'sea_room_nm' AS DOUBLE),
           'shortest_route_offset_nm', CAST(e.measured->>'shortest_route_offset_nm' AS DOUBLE),
           'start_utc', iso_utc(e.start_utc),
           'start_lat', e.first_pos.lat, 'start_lon', e.first_pos.lon,
           'start_detour_nm', round(e.first_pos.detour_nm, 1),
           'end_utc', iso_utc(e.end_utc),
           'end_lat', e.last_pos.lat, 'end_lon', e.last_pos.lon,
           'end_detour_nm', round(e.last_pos.detour_nm, 1),
           'duration_h', round(seconds_between(e.start_utc, e.end_utc) / 3600.0, 2),
           'n_positions', e.n_positions,
           'min_detour_nm', $min_detour_nm, 'min_detour_pct', $min_detour_pct, 'open_sea_nm', $open_sea_nm,
           'max_alternative_ratio', $max_alternative_ratio
       ) AS details,
       [struct_pack(source_id := e.first_pos.source_id, line_no := e.first_pos.line_no),
        struct_pack(source_id := e.max_pos.source_id, line_no := e.max_pos.line_no),
        struct_pack(source_id := e.last_pos.source_id, line_no := e.last_pos.line_no)] AS evidence,
       e.seg AS segment
FROM route_excursions e JOIN voyage_windows w USING (voyage_id)
