-- title: Identity and flag changes
-- description: Vessels that changed name, call sign or IMO under one MMSI, or whose
--   IMO appeared under a new MMSI (a reflagging, with both flags), in the window:
--   the identity_change findings, oldest first.
-- param: since (time) = 30 days ago  -- start of the window (UTC)
-- param: until (time) = now  -- end of the window (UTC)
SELECT e.start_utc AS changed_utc, e.mmsi, v.imo, v.name AS vessel_name, v.flag,
       json_extract_string(e.details, '$.field') AS field,
       json_extract_string(e.details, '$.old') AS old_value,
       json_extract_string(e.details, '$.new') AS new_value,
       e.other_mmsi, CAST(e.details AS VARCHAR) AS details, e.event_id
FROM events e
LEFT JOIN vessels v ON v.mmsi = e.mmsi
WHERE e.kind = 'identity_change' AND e.start_utc >= $since AND e.start_utc < $until
ORDER BY e.start_utc, e.mmsi
