-- title: Destinations that never matched where the vessel went
-- description: Vessels with port calls in the window none of which was at a port
--   named by any destination they broadcast in that window (AIS type 5, typed by
--   the crew). A destination matches a port when, upper-cased with spaces and
--   punctuation removed, it contains the port's name or its UN/LOCODE. Vessels that
--   broadcast no destination in the window are not listed: nothing was declared to match.
-- param: since (time) = 90 days ago  -- start of the window (UTC)
-- param: until (time) = now  -- end of the window (UTC)
WITH calls AS (
    SELECT e.mmsi, e.port_id, e.port, e.start_utc
    FROM events e WHERE e.kind = 'port_call' AND e.start_utc >= $since AND e.start_utc < $until
), dests AS (
    SELECT DISTINCT mmsi, destination,
           regexp_replace(upper(destination), '[^A-Z0-9]', '', 'g') AS key
    FROM static_reports
    WHERE destination IS NOT NULL AND ts >= $since AND ts < $until
), matched AS (
    SELECT DISTINCT c.mmsi
    FROM calls c JOIN ports p ON p.port_id = c.port_id
    JOIN dests d ON d.mmsi = c.mmsi
    WHERE contains(d.key, regexp_replace(upper(p.name), '[^A-Z0-9]', '', 'g'))
       OR (p.locode IS NOT NULL AND contains(d.key, p.locode))
       OR contains(regexp_replace(upper(p.name), '[^A-Z0-9]', '', 'g'), d.key) AND length(d.key) >= 4
)
SELECT c.mmsi, v.imo, v.name AS vessel_name, v.flag,
       string_agg(DISTINCT c.port, ', ' ORDER BY c.port) AS ports_called,
       (SELECT string_agg(DISTINCT d.destination, ', ' ORDER BY d.destination) FROM dests d
        WHERE d.mmsi = c.mmsi) AS destinations_broadcast,
       count(*) AS calls, min(c.start_utc) AS first_call_utc, max(c.start_utc) AS last_call_utc
FROM calls c
LEFT JOIN vessels v ON v.mmsi = c.mmsi
WHERE c.mmsi NOT IN (SELECT mmsi FROM matched)
  AND c.mmsi IN (SELECT mmsi FROM dests)
GROUP BY c.mmsi, v.imo, v.name, v.flag
ORDER BY first_call_utc, c.mmsi
