-- kind: destination_change
-- title: Declared destination changes
-- description: The destination a crew types into AIS (type 5; the vessel's own
--   declaration) changes from one report to the next, compared after normalising:
--   trimmed, upper case, '@' padding removed, runs of spaces collapsed. Evidence:
--   the old and new value, the last report of the old and the first of the new,
--   and the ship's last position at the time of the change; shared_mmsi when the
--   MMSI is likely several ships (the segmenter split its positions into several
--   transmitters, or it is not in a ship's format): then the two destinations may be
--   two ships' and the change is not shown to be one ship's. characters_changed: the
--   edit distance between the two; at most 2 (of 5 or more characters), the finding says
--   the new value may be the old one retyped rather than a new destination.
--   order_uncertain: the two reports are closer in time than their times are known
--   (sources.time_spread_s, ground-arrival times): which came first is not known.
WITH segs AS (
    SELECT mmsi, count(DISTINCT seg) AS n_segs FROM pos WHERE seg >= 0 GROUP BY mmsi HAVING count(DISTINCT seg) > 1
), d AS (
    SELECT mmsi, ts, source_id, line_no, dup_key,
           regexp_replace(upper(trim(replace(destination, '@', ' '))), '\s+', ' ', 'g') AS dest
    FROM static_reports
    WHERE destination IS NOT NULL AND msg_type = 5
), ch AS (
    SELECT *,
           lag(dest) OVER w AS prev_dest, lag(ts) OVER w AS prev_ts,
           lag(source_id) OVER w AS prev_source_id, lag(line_no) OVER w AS prev_line_no
    FROM d
    WINDOW w AS (PARTITION BY mmsi ORDER BY ts, dup_key)
)
SELECT 'destination_change' AS kind, ch.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       ch.ts AS start_utc, ch.ts AS end_utc, p.lat, p.lon,
       CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id, CAST(NULL AS DOUBLE) AS port_distance_nm,
       json_object('from', ch.prev_dest, 'to', ch.dest,
                   'previous_report_utc', iso_utc(ch.prev_ts),
                   'report_utc', iso_utc(ch.ts),
                   'position_utc', iso_utc(p.ts),
                   'characters_changed', levenshtein(ch.prev_dest, ch.dest),
                   'order_uncertain', coalesce(seconds_between(ch.prev_ts, ch.ts)
                                               < (SELECT max(s.time_spread_s) FROM sources s
                                                  WHERE s.source_id IN (ch.prev_source_id, ch.source_id)), false),
                   'mmsi_transmitters', coalesce(sg.n_segs, 1),
                   'shared_mmsi', sg.n_segs IS NOT NULL OR NOT (ch.mmsi BETWEEN 200000000 AND 799999999
                                                                AND mid_of(ch.mmsi) IN (SELECT mid FROM mid_flags))
                  ) AS details,
       [struct_pack(source_id := ch.prev_source_id, line_no := ch.prev_line_no),
        struct_pack(source_id := ch.source_id, line_no := ch.line_no)] AS evidence
FROM ch
ASOF LEFT JOIN pos p ON ch.mmsi = p.mmsi AND ch.ts >= p.ts
LEFT JOIN segs sg ON sg.mmsi = ch.mmsi
WHERE ch.prev_dest IS NOT NULL AND ch.dest <> ch.prev_dest
