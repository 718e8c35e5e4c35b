-- kind: identity_change
-- title: Identity changes: name, call sign, IMO, and an IMO under a new MMSI
-- description: Two kinds of change, one event each. (a) One MMSI broadcasts a new
--   name, call sign or IMO number (type 5, 19 and 24 reports, compared once
--   trimmed, in upper case, with '@' padding removed and runs of spaces collapsed;
--   empty values ignored). (b) One IMO number appears under a new MMSI: a
--   reflagging or MMSI change, with the flag of both MMSIs (from their MID), so
--   flag changes show up here. The event is on the new MMSI; other_mmsi is the old.
--   A value counts only once it was broadcast in at least min_identity_reports
--   consecutive reports, so that one garbled report between two identical values
--   (A A X A A) is noise, not two changes; set it to 1 to see every change. For (b)
--   the IMO must pass its check digit and have been reported by that MMSI at least
--   min_identity_reports times, and IMOs shared by more than max_mmsis_per_imo MMSIs
--   (placeholders such as 1234567) are skipped. Each ordered pair old -> new MMSI of
--   an IMO is reported once, at its first switch; old_seen_again says whether the
--   old MMSI went on reporting the IMO afterwards (two transmitters using one IMO,
--   not a clean handover). For (a), details.shared_identity marks what is likely several
--   identities on one MMSI rather than one ship renamed: the old value was broadcast
--   again later (A, B, A), the segmenter split the MMSI's positions into several
--   transmitters, or the MMSI is not in a ship's format (9 digits, a known MID).
--   order_uncertain: the two reports are closer in time than their times are known
--   (sources.time_spread_s, ground-arrival times): which value came first is not known.
--   Evidence: the last report of the old value and the first of the new.
-- param: min_identity_reports (integer) = 2  -- consecutive reports a value needs before it counts (reports)
-- param: max_mmsis_per_imo (integer) = 5  -- an IMO reported by more MMSIs than this is a placeholder (MMSIs)
WITH st AS (
    SELECT mmsi, ts, dup_key, source_id, line_no, imo,
           nullif(regexp_replace(upper(trim(replace(name, '@', ' '))), '\s+', ' ', 'g'), '') AS name_n,
           nullif(regexp_replace(upper(trim(replace(callsign, '@', ' '))), '\s+', ' ', 'g'), '') AS callsign_n
    FROM static_reports
), obs AS (
    SELECT mmsi, ts, dup_key, source_id, line_no, 'name' AS field, name_n AS value FROM st WHERE name_n IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, dup_key, source_id, line_no, 'callsign', callsign_n FROM st WHERE callsign_n IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, dup_key, source_id, line_no, 'imo', CAST(imo AS VARCHAR) FROM st WHERE imo IS NOT NULL
), marked AS (
    SELECT *, CASE WHEN value IS DISTINCT FROM lag(value) OVER w THEN 1 ELSE 0 END AS new_run
    FROM obs
    WINDOW w AS (PARTITION BY mmsi, field ORDER BY ts, dup_key)
), numbered AS (
    SELECT *, sum(new_run) OVER (PARTITION BY mmsi, field ORDER BY ts, dup_key ROWS UNBOUNDED PRECEDING) AS run
    FROM marked
), runs AS (
    -- one row per run of one value; runs shorter than min_identity_reports are noise
    SELECT mmsi, field, run, any_value(value) AS value, count(*) AS reports,
           min(ts) AS first_ts, max(ts) AS last_ts,
           arg_min(struct_pack(source_id := source_id, line_no := line_no), (ts, dup_key)) AS first_ev,
           arg_max(struct_pack(source_id := source_id, line_no := line_no), (ts, dup_key)) AS last_ev
    FROM numbered
    GROUP BY mmsi, field, run
    HAVING count(*) >= $min_identity_reports
), field_change AS (
    SELECT *,
           lag(value) OVER w AS old_value, lag(last_ts) OVER w AS old_last_ts,
           lag(reports) OVER w AS old_reports, lag(last_ev) OVER w AS old_ev
    FROM runs
    WINDOW w AS (PARTITION BY mmsi, field ORDER BY first_ts, run)
), last_of_value AS (  -- when each value of each field was last broadcast as a run
    SELECT mmsi, field, value, max(last_ts) AS value_last_ts FROM runs GROUP BY ALL
), a AS (
    SELECT c.field, c.mmsi AS new_mmsi, c.mmsi AS old_mmsi, CAST(NULL AS INTEGER) AS imo,
           c.old_value, c.value AS new_value, c.old_last_ts, c.first_ts AS new_first_ts,
           c.old_reports, c.reports AS new_reports,
           l.value_last_ts > c.first_ts AS old_seen_again,  -- A, B, A: not a rename
           CAST(NULL AS VARCHAR) AS old_name, CAST(NULL AS VARCHAR) AS new_name,
           c.old_ev, c.first_ev AS new_ev
    FROM field_change c
    LEFT JOIN last_of_value l ON l.mmsi = c.mmsi AND l.field = c.field AND l.value = c.old_value
    WHERE c.old_value IS NOT NULL AND c.old_value <> c.value
), segs AS (  -- MMSIs whose positions the segmenter gave to more than one transmitter
    SELECT mmsi, count(DISTINCT seg) AS n_segs FROM pos WHERE seg >= 0 GROUP BY mmsi HAVING count(DISTINCT seg) > 1
), imo_obs AS (
    -- (b): valid IMO numbers (7 digits, check digit) with the MMSIs that broadcast them
    SELECT imo, mmsi, ts, dup_key, source_id, line_no, name_n,
           count(*) OVER (PARTITION BY imo, mmsi) AS pair_reports
    FROM st
    WHERE imo BETWEEN 1000000 AND 9999999
      AND ((imo // 1000000) * 7 + (imo // 100000 % 10) * 6 + (imo // 10000 % 10) * 5
           + (imo // 1000 % 10) * 4 + (imo // 100 % 10) * 3 + (imo // 10 % 10) * 2) % 10 = imo % 10
), imo_kept AS (
    SELECT * FROM imo_obs
    WHERE pair_reports >= $min_identity_reports
    QUALIFY count(DISTINCT mmsi) OVER (PARTITION BY imo) <= $max_mmsis_per_imo
), imo_marked AS (
    SELECT *, CASE WHEN mmsi IS DISTINCT FROM lag(mmsi) OVER w THEN 1 ELSE 0 END AS new_run
    FROM imo_kept
    WINDOW w AS (PARTITION BY imo ORDER BY ts, dup_key, mmsi)
), imo_numbered AS (
    SELECT *, sum(new_run) OVER (PARTITION BY imo ORDER BY ts, dup_key, mmsi ROWS UNBOUNDED PRECEDING) AS run
    FROM imo_marked
), imo_runs AS (
    SELECT imo, run, any_value(mmsi) AS mmsi, count(*) AS reports, min(ts) AS first_ts, max(ts) AS last_ts,
           arg_min(name_n, (ts, dup_key)) FILTER (WHERE name_n IS NOT NULL) AS first_name,
           arg_max(name_n, (ts, dup_key)) FILTER (WHERE name_n IS NOT NULL) AS last_name,
           arg_min(struct_pack(source_id := source_id, line_no := line_no), (ts, dup_key)) AS first_ev,
           arg_max(struct_pack(source_id := source_id, line_no := line_no), (ts, dup_key)) AS last_ev
    FROM imo_numbered
    GROUP BY imo, run
), imo_change AS (
    SELECT *,
           lag(mmsi) OVER w AS old_mmsi, lag(last_ts) OVER w AS old_last_ts, lag(reports) OVER w AS old_reports,
           lag(last_name) OVER w AS old_name, lag(last_ev) OVER w AS old_ev
    FROM imo_runs
    WINDOW w AS (PARTITION BY imo ORDER BY run)
), imo_first AS (
    -- each ordered pair old -> new MMSI once, at its first switch
    SELECT * FROM imo_change
    WHERE old_mmsi IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY imo, old_mmsi, mmsi ORDER BY run) = 1
), b AS (
    SELECT 'mmsi' AS field, c.mmsi AS new_mmsi, c.old_mmsi, c.imo,
           CAST(c.old_mmsi AS VARCHAR) AS old_value, CAST(c.mmsi AS VARCHAR) AS new_value,
           c.old_last_ts, c.first_ts AS new_first_ts, c.old_reports, c.reports AS new_reports,
           l.last_ts > c.first_ts AS old_seen_again,
           c.old_name, c.first_name AS new_name, c.old_ev, c.first_ev AS new_ev
    FROM imo_first c
    JOIN (SELECT imo, mmsi, max(ts) AS last_ts FROM imo_kept GROUP BY imo, mmsi) l
      ON l.imo = c.imo AND l.mmsi = c.old_mmsi
), ch AS (
    SELECT * FROM a UNION ALL SELECT * FROM b
)
SELECT 'identity_change' AS kind, ch.new_mmsi AS mmsi,
       CASE WHEN ch.field = 'mmsi' THEN ch.old_mmsi END AS other_mmsi,
       ch.new_first_ts AS start_utc, ch.new_first_ts AS end_utc, p.lat, p.lon,
       CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id, CAST(NULL AS DOUBLE) AS port_distance_nm,
       json_object(
           'event_key', ch.field,  -- a new name and call sign in one report are two events
           'field', ch.field, 'old', ch.old_value, 'new', ch.new_value,
           'old_last_report_utc', iso_utc(ch.old_last_ts),
           'new_first_report_utc', iso_utc(ch.new_first_ts),
           'old_reports', ch.old_reports, 'new_reports', ch.new_reports,
           'old_mmsi', ch.old_mmsi, 'new_mmsi', ch.new_mmsi, 'imo', ch.imo,
           'old_flag', fo.country, 'old_flag_iso2', fo.iso2,
           'new_flag', fn.country, 'new_flag_iso2', fn.iso2,
           'flag_changed', fo.country IS DISTINCT FROM fn.country,
           'old_name', ch.old_name, 'new_name', ch.new_name,
           'old_seen_again', ch.old_seen_again,
           -- the two reports closer in time than their times are known (sources.time_spread_s):
           -- which value came first is not known
           'order_uncertain', coalesce(seconds_between(ch.old_last_ts, ch.new_first_ts)
                                       < (SELECT max(s.time_spread_s) FROM sources s
                                          WHERE s.source_id IN (ch.old_ev.source_id, ch.new_ev.source_id)), false),
           -- several identities on one MMSI rather than one ship renamed: the old value came
           -- back, the positions show more than one transmitter, or the MMSI is no ship's
           'mmsi_transmitters', coalesce(sg.n_segs, 1),
           'mmsi_is_ship_format', ch.new_mmsi BETWEEN 200000000 AND 799999999 AND fn.country IS NOT NULL,
           'shared_identity', ch.field <> 'mmsi' AND (coalesce(ch.old_seen_again, false) OR sg.n_segs IS NOT NULL
                              OR NOT (ch.new_mmsi BETWEEN 200000000 AND 799999999 AND fn.country IS NOT NULL)),
           'position_utc', iso_utc(p.ts)) AS details,
       [ch.old_ev, ch.new_ev] AS evidence
FROM ch
LEFT JOIN mid_flags fo ON fo.mid = mid_of(ch.old_mmsi)
LEFT JOIN mid_flags fn ON fn.mid = mid_of(ch.new_mmsi)
LEFT JOIN segs sg ON sg.mmsi = ch.new_mmsi
ASOF LEFT JOIN pos p ON ch.new_mmsi = p.mmsi AND ch.new_first_ts >= p.ts
