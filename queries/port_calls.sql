-- title: Port calls at a port
-- description: Every observed call at one port in the window (port_call findings:
--   inside the port's radius at under 1 kn for hours), with arrival, departure and
--   the vessel's identity and flag; oldest first.
-- param: port (port) = Benghazi  -- port name, alias or UN/LOCODE
-- param: since (time) = 30 days ago  -- start of the window (UTC)
-- param: until (time) = now  -- end of the window (UTC)
SELECT e.start_utc AS arrival_utc, e.end_utc AS departure_utc, e.duration_h,
       e.mmsi, v.imo, v.name AS vessel_name, v.flag, v.ship_type,
       e.port, e.port_distance_nm, e.event_id
FROM events e
LEFT JOIN vessels v ON v.mmsi = e.mmsi
WHERE e.kind = 'port_call' AND e.port_id = $port
  AND e.start_utc >= $since AND e.start_utc < $until
ORDER BY e.start_utc, e.mmsi
