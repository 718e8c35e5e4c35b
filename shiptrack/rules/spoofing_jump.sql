-- kind: spoofing_jump
-- title: Impossible position jumps and shared-MMSI identity clashes
-- description: Consecutive positions of one MMSI (the raw track, across
--   segments) that imply more than max_speed_kn, robust to timestamp jitter
--   (the distance must exceed both min_jump_nm and max_speed_kn * (dt +
--   jitter_s)) and to duplicate receptions (late copies of a transmission are
--   dropped before detection). It builds on the segmenter
--   (shiptrack.rules.segments), which splits a track that two transmitters share
--   and sets single stray fixes aside: a jump is a switch between two segments
--   that each hold at least min_jump_positions positions, so a bad GPS fix is
--   never a jump. Jumps are grouped into episodes: a jump belongs to the episode
--   of any earlier jump whose other segment was still being heard, so two
--   transmitters alternating on one MMSI all month give ONE event, not a storm,
--   and the details say the track was split into N segments (identity_clash
--   when the position switched back and forth more than twice). lat/lon = the
--   last position before the first jump.
-- param: max_speed_kn = 60.0 -- knots; faster than this between consecutive positions is a jump (the segmenter splits at 60)
-- param: min_jump_nm = 1.0 -- nm; shorter jumps are GPS noise or timestamp jitter
-- param: jitter_s = 30.0 -- seconds of receive-time jitter allowed on every pair
-- param: min_jump_positions (integer) = 2 -- positions a segment needs for a jump to or from it to count
WITH split AS (  -- only MMSIs the segmenter split can have a jump between segments
    SELECT DISTINCT mmsi FROM pos WHERE seg <> 0
), keep AS (
    SELECT p.mmsi, p.seg, count(*) AS n, min(p.ts) AS first_ts, max(p.ts) AS last_ts,
           median(p.lat) AS lat, median(p.lon) AS lon
    FROM pos p SEMI JOIN split s ON p.mmsi = s.mmsi
    WHERE p.seg >= 0
    GROUP BY p.mmsi, p.seg
    HAVING count(*) >= $min_jump_positions
), main AS (  -- the segment with the most positions (ties: the first opened) is "the" vessel
    SELECT mmsi, arg_max(seg, (n, -seg)) AS main_seg, count(*) AS n_segs FROM keep GROUP BY mmsi
), pr AS (
    SELECT p.mmsi, p.seg, p.ts, p.dup_key, p.lat, p.lon, p.source_id, p.line_no,
           lag(p.seg) OVER w AS p_seg, lag(p.ts) OVER w AS p_ts, lag(p.lat) OVER w AS p_lat,
           lag(p.lon) OVER w AS p_lon, lag(p.source_id) OVER w AS p_source_id, lag(p.line_no) OVER w AS p_line_no
    FROM pos p JOIN keep k ON p.mmsi = k.mmsi AND p.seg = k.seg
    WINDOW w AS (PARTITION BY p.mmsi ORDER BY p.ts, p.dup_key)
), jumps AS (
    SELECT pr.*, haversine_nm(p_lat, p_lon, lat, lon) AS dist_nm, seconds_between(p_ts, ts) AS dt_s
    FROM pr
    WHERE p_seg IS NOT NULL AND p_seg <> seg
      AND haversine_nm(p_lat, p_lon, lat, lon)
          > greatest($min_jump_nm, $max_speed_kn * (seconds_between(p_ts, ts) + $jitter_s) / 3600.0)
), iv AS (  -- a jump's reach: until the other (non-main) segment it touches was last heard
    SELECT j.*, m.main_seg, m.n_segs,
           greatest(j.ts, CASE WHEN j.p_seg <> m.main_seg THEN a.last_ts END,
                    CASE WHEN j.seg <> m.main_seg THEN b.last_ts END) AS reach_end
    FROM jumps j
    JOIN main m ON m.mmsi = j.mmsi
    JOIN keep a ON a.mmsi = j.mmsi AND a.seg = j.p_seg
    JOIN keep b ON b.mmsi = j.mmsi AND b.seg = j.seg
), isl AS (
    SELECT *,
           CASE WHEN p_ts <= max(reach_end) OVER (PARTITION BY mmsi ORDER BY p_ts, ts, dup_key
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                THEN 0 ELSE 1 END AS new_episode
    FROM iv
), ep AS (
    SELECT *, sum(new_episode) OVER (PARTITION BY mmsi ORDER BY p_ts, ts, dup_key ROWS UNBOUNDED PRECEDING)
                  AS episode
    FROM isl
), ep_segs AS (
    SELECT e.mmsi, e.episode,
           list(struct_pack(seg := k.seg, positions := k.n,
                            first_utc := iso_utc(k.first_ts),
                            last_utc := iso_utc(k.last_ts),
                            lat := round(k.lat, 4), lon := round(k.lon, 4)) ORDER BY k.seg) AS segments
    FROM (SELECT DISTINCT mmsi, episode, unnest([p_seg, seg]) AS seg FROM ep) e
    JOIN keep k ON k.mmsi = e.mmsi AND k.seg = e.seg
    GROUP BY e.mmsi, e.episode
), agg AS (
    SELECT mmsi, episode, any_value(n_segs) AS n_segs, count(*) AS jumps,
           min(p_ts) AS start_ts, max(reach_end) AS end_ts,
           arg_min(struct_pack(from_utc := iso_utc(p_ts), from_lat := round(p_lat, 5),
                               from_lon := round(p_lon, 5), to_utc := iso_utc(ts),
                               to_lat := round(lat, 5), to_lon := round(lon, 5), from_segment := p_seg,
                               to_segment := seg, distance_nm := round(dist_nm, 2), dt_s := dt_s,
                               implied_speed_kn := CASE WHEN dt_s > 0 THEN round(dist_nm / (dt_s / 3600.0), 1) END),
                   (p_ts, ts, dup_key)) AS first_jump,
           arg_min(p_lat, (p_ts, ts, dup_key)) AS lat, arg_min(p_lon, (p_ts, ts, dup_key)) AS lon,
           max(dist_nm) AS max_jump_nm,
           max(CASE WHEN dt_s > 0 THEN dist_nm / (dt_s / 3600.0) END) AS max_implied_speed_kn,
           flatten(list([struct_pack(source_id := p_source_id, line_no := p_line_no),
                         struct_pack(source_id := source_id, line_no := line_no)]
                        ORDER BY p_ts, ts, dup_key)[1:25]) AS evidence
    FROM ep
    GROUP BY mmsi, episode
)
SELECT 'spoofing_jump' AS kind, a.mmsi, CAST(NULL AS INTEGER) AS other_mmsi,
       a.start_ts AS start_utc, a.end_ts AS end_utc, a.lat, a.lon,
       CAST(NULL AS VARCHAR) AS port, CAST(NULL AS INTEGER) AS port_id, CAST(NULL AS DOUBLE) AS port_distance_nm,
       json_object(
           'jumps', a.jumps,
           'identity_clash', a.jumps > 2,
           'segments_total', a.n_segs,
           'segments_in_episode', len(s.segments),
           'summary', format('track split into {} segments by the segmenter; the position jumped {} times '
                             'between {} of them', a.n_segs, a.jumps, len(s.segments)),
           'max_jump_nm', round(a.max_jump_nm, 2),
           'max_implied_speed_kn', round(a.max_implied_speed_kn, 1),
           'first_jump', a.first_jump,
           'segments', s.segments,
           'evidence_jumps', least(a.jumps, 25)
       ) AS details,
       a.evidence
FROM agg a
JOIN ep_segs s ON s.mmsi = a.mmsi AND s.episode = a.episode
