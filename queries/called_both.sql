-- title: Vessels that called at both port groups
-- description: Vessels seen calling at a port of group A and at a port of group B
--   in the window (e.g. a Syrian port and Benghazi). A call counts when observed
--   (port_call) or when a dark period makes it probable (dark_period with
--   probable_unreported_call), which is said in the `how` columns.
-- param: ports_a (ports) = Latakia, Tartus  -- first group of ports
-- param: ports_b (ports) = Benghazi  -- second group of ports
-- param: since (time) = 90 days ago  -- start of the window (UTC)
-- param: until (time) = now  -- end of the window (UTC)
WITH calls AS (
    SELECT mmsi, port_id, port, start_utc, end_utc,
           CASE WHEN kind = 'port_call' THEN 'observed call' ELSE 'probable call while dark' END AS how
    FROM events
    WHERE (kind = 'port_call'
           OR (kind = 'dark_period' AND json_extract_string(details, '$.probable_unreported_call') = 'true'))
      AND start_utc >= $since AND start_utc < $until
), a AS (
    SELECT mmsi, string_agg(DISTINCT port, ', ' ORDER BY port) AS ports_a_called,
           min(start_utc) AS first_a_utc, max(end_utc) AS last_a_utc,
           string_agg(DISTINCT how, ', ' ORDER BY how) AS how_a
    FROM calls WHERE list_contains($ports_a, port_id) GROUP BY mmsi
), b AS (
    SELECT mmsi, string_agg(DISTINCT port, ', ' ORDER BY port) AS ports_b_called,
           min(start_utc) AS first_b_utc, max(end_utc) AS last_b_utc,
           string_agg(DISTINCT how, ', ' ORDER BY how) AS how_b
    FROM calls WHERE list_contains($ports_b, port_id) GROUP BY mmsi
)
SELECT a.mmsi, v.imo, v.name AS vessel_name, v.flag,
       a.ports_a_called, a.first_a_utc, a.last_a_utc, a.how_a,
       b.ports_b_called, b.first_b_utc, b.last_b_utc, b.how_b
FROM a JOIN b USING (mmsi)
LEFT JOIN vessels v ON v.mmsi = a.mmsi
ORDER BY least(a.first_a_utc, b.first_b_utc), a.mmsi
