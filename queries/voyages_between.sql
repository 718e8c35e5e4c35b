-- title: Voyages between two port groups, per week or month
-- description: Counts voyages from a port of group A whose next observed call is at
--   a port of group B, and back, per period of arrival: how traffic between, say,
--   Latakia/Tartus and Benghazi grows. A voyage is two consecutive port_call
--   findings of the same vessel.
-- param: ports_a (ports) = Latakia, Tartus  -- first group of ports
-- param: ports_b (ports) = Benghazi  -- second group of ports
-- param: period (text) = week  -- week or month
-- param: since (time) = 365 days ago  -- arrivals from (UTC)
-- param: until (time) = now  -- arrivals until (UTC)
WITH calls AS (
    SELECT mmsi, port_id, port, start_utc, end_utc,
           lead(port_id) OVER w AS next_port_id, lead(start_utc) OVER w AS next_arrival_utc
    FROM events WHERE kind = 'port_call'
    WINDOW w AS (PARTITION BY mmsi ORDER BY start_utc)
), voyages AS (
    SELECT mmsi, next_arrival_utc AS arrival_utc,
           CASE WHEN list_contains($ports_a, port_id) THEN 'A to B' ELSE 'B to A' END AS direction
    FROM calls
    WHERE next_port_id IS NOT NULL
      AND ((list_contains($ports_a, port_id) AND list_contains($ports_b, next_port_id))
        OR (list_contains($ports_b, port_id) AND list_contains($ports_a, next_port_id)))
      AND next_arrival_utc >= $since AND next_arrival_utc < $until
)
SELECT CAST(date_trunc(CASE WHEN $period = 'month' THEN 'month' ELSE 'week' END,
                       arrival_utc AT TIME ZONE 'UTC') AS DATE) AS period_start,
       direction, count(*) AS voyages, count(DISTINCT mmsi) AS vessels
FROM voyages
GROUP BY ALL
ORDER BY period_start, direction
