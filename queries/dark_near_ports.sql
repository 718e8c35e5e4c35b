-- title: Dark periods near watchlist ports
-- description: Vessels whose AIS went silent for hours near one of the watchlist
--   ports (dark_period findings) in the window, newest first, with what a reporter
--   needs to check each one: when it went dark and reappeared, how far from the
--   port, what was heard around it meanwhile (a dark period is only claimed where other
--   vessels were heard), and whether the evidence points to an unreported port call.
-- param: ports (ports) = Benghazi, Tobruk, Misrata, Tripoli, Latakia, Tartus  -- watchlist ports
-- param: since (time) = 7 days ago  -- start of the window (UTC; ISO-8601 or 'N days ago')
-- param: until (time) = now  -- end of the window (UTC)
-- param: radius_nm (number) = 50  -- the gap starts or ends this close to a watchlist port
SELECT e.start_utc AS went_dark_utc,
       e.end_utc AS reappeared_utc,
       e.duration_h,
       e.mmsi, e.segment, v.imo, v.name AS vessel_name, v.flag,
       e.port, e.port_distance_nm,
       round(e.lat, 5) AS lat, round(e.lon, 5) AS lon,  -- where it went dark (a map: export --format geojson)
       json_extract_string(e.details, '$.coverage.status') AS coverage,
       CAST(json_extract(e.details, '$.coverage.other_vessels') AS INTEGER) AS other_vessels_heard,
       coalesce(json_extract_string(e.details, '$.probable_unreported_call'), 'false') AS probable_unreported_call,
       e.event_id
FROM events e
LEFT JOIN vessels v ON v.mmsi = e.mmsi
WHERE e.kind = 'dark_period'
  AND e.start_utc >= $since AND e.start_utc < $until
  AND (list_contains($ports, e.port_id) OR EXISTS (
        SELECT 1 FROM ports p
        WHERE list_contains($ports, p.port_id)
          AND haversine_nm(p.lat, p.lon, e.lat, e.lon) <= $radius_nm))
ORDER BY e.start_utc DESC, e.mmsi
