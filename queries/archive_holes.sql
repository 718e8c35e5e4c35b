-- title: Holes in the archive: when the store heard nobody
-- description: Stretches of at least min_hours in which the store holds no position
--   report from any vessel, anywhere: between two files, a feed outage. Nothing can be
--   said of any ship during them (the gaps rule splits its gaps there and never calls
--   them dark). Each row gives the last hour heard before the hole, the first after, and
--   how long it lasted. Read it before quoting any silence.
-- param: since (time) = 3650 days ago  -- start of the window (UTC; ISO-8601 or 'N days ago')
-- param: until (time) = now  -- end of the window (UTC)
-- param: min_hours (number) = 6  -- shortest hole listed (hours)
WITH heard AS (
    SELECT hour, sum(messages) AS messages, count(DISTINCT receiver) AS receivers
    FROM coverage
    WHERE hour >= $since - INTERVAL 1 DAY AND hour < $until + INTERVAL 1 DAY
    GROUP BY hour
), steps AS (
    SELECT hour AS last_heard_hour, lead(hour) OVER (ORDER BY hour) AS next_heard_hour FROM heard
)
SELECT last_heard_hour + INTERVAL 1 HOUR AS hole_start_utc,
       next_heard_hour AS hole_end_utc,
       round(seconds_between(last_heard_hour + INTERVAL 1 HOUR, next_heard_hour) / 3600.0, 1) AS hours
FROM steps
WHERE next_heard_hour IS NOT NULL
  AND seconds_between(last_heard_hour + INTERVAL 1 HOUR, next_heard_hour) / 3600.0 >= $min_hours
  AND next_heard_hour >= $since AND last_heard_hour < $until
ORDER BY hole_start_utc
