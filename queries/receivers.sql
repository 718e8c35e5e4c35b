-- title: What each receiver heard
-- description: Each receiver in the store (the station a tag block or trailer names, or
--   the file, when it names none) with the span it was heard in, the hours in which it
--   heard anything, the position reports and the most vessels it heard in one cell and
--   hour, and the area it covered. A silence where no receiver was listening is not a
--   ship's silence; this is where to check.
-- param: since (time) = 3650 days ago  -- start of the window (UTC; ISO-8601 or 'N days ago')
-- param: until (time) = now  -- end of the window (UTC)
SELECT c.receiver,
       coalesce(s.name, '') AS source_file,
       min(c.hour) AS first_hour_utc,
       max(c.hour) AS last_hour_utc,
       count(DISTINCT c.hour) AS hours_heard,
       round(100.0 * count(DISTINCT c.hour)
             / (seconds_between(min(c.hour), max(c.hour)) / 3600.0 + 1), 1) AS pct_of_span_heard,
       sum(c.messages) AS position_reports,
       max(c.vessels) AS max_vessels_cell_hour,
       min(c.cell_lat) * 0.5 AS south, (max(c.cell_lat) + 1) * 0.5 AS north,
       min(c.cell_lon) * 0.5 AS west, (max(c.cell_lon) + 1) * 0.5 AS east
FROM coverage c
LEFT JOIN sources s ON c.receiver = 'source:' || CAST(s.source_id AS VARCHAR)
WHERE c.hour >= $since AND c.hour < $until
GROUP BY c.receiver, s.name
ORDER BY position_reports DESC, c.receiver
