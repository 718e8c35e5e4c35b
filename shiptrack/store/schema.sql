-- shiptrack store schema. Times are TIMESTAMPTZ in UTC; units are in the
-- column comments (the README's "Schema" section describes the same tables by hand: keep the two in step).
-- Every data row carries source_id + line_no: the file and line it came from,
-- and raw: the exact sentence(s) received, so that a finding can cite them.

CREATE SEQUENCE IF NOT EXISTS source_id_seq START 1;

CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE IF NOT EXISTS sources (
    source_id      INTEGER PRIMARY KEY,
    name           VARCHAR NOT NULL,      -- --source NAME, else the path as given
    path           VARCHAR,               -- absolute path (zip members as a.zip!member)
    sha256         VARCHAR NOT NULL UNIQUE, -- of the bytes read; re-ingesting the same bytes is a no-op
    size_bytes     BIGINT,
    format         VARCHAR NOT NULL,      -- nmea | dma | noaa | generic
    format_detail  VARCHAR,               -- how the format/time source/columns were chosen
    ingested_at    TIMESTAMPTZ NOT NULL,
    lines_read     BIGINT,
    messages       BIGINT,                -- decoded AIS messages of every type
    positions      BIGINT,                -- rows added to positions
    static_reports BIGINT,
    base_stations  BIGINT,
    duplicates     BIGINT,                -- messages already stored (same payload heard twice, overlapping files)
    rejects        BIGINT,
    type_counts    JSON,                  -- {"1": 1234, "5": 56, "8": 3, ...}
    reject_counts  JSON,                  -- {"bad_checksum": 3, ...}
    first_ts       TIMESTAMPTZ,
    last_ts        TIMESTAMPTZ,
    line_counts    JSON,                  -- lines by what became of them: {"stored": n, "duplicate": n,
                                          -- "other_type": n, "time": n, "header": n, "rejected": n}
    time_spread_s  DOUBLE                 -- how much later than sent its times may be, beyond a receiver's
                                          -- jitter (s); NULL: receiver or tag-block times (see
                                          -- shiptrack.decode.timesource.time_spread_s)
);
-- stores made before the line_counts column (schema version 6 and older)
ALTER TABLE sources ADD COLUMN IF NOT EXISTS line_counts JSON;
-- stores made before the time_spread_s column (schema version 8 and older)
ALTER TABLE sources ADD COLUMN IF NOT EXISTS time_spread_s DOUBLE;

CREATE TABLE IF NOT EXISTS positions (
    mmsi        INTEGER NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,     -- receive time, UTC
    lat         DOUBLE,                   -- degrees; NULL = not available (91)
    lon         DOUBLE,                   -- degrees; NULL = not available (181)
    sog         DOUBLE,                   -- speed over ground, knots; NULL = n/a (102.3)
    cog         DOUBLE,                   -- course over ground, degrees true; NULL = n/a (360)
    heading     SMALLINT,                 -- true heading, degrees; NULL = n/a (511)
    nav_status  TINYINT,                  -- AIS navigational status 0-14; NULL = 15 / none
    accuracy    BOOLEAN,                  -- position accuracy flag (true = < 10 m)
    msg_type    TINYINT,                  -- 1, 2, 3, 18, 19, 27 (archives: 1 class A, 18 class B)
    station     VARCHAR,                  -- receiving station (tag block s:, USCG trailer)
    source_id   INTEGER NOT NULL,
    line_no     BIGINT NOT NULL,          -- line of the (first) sentence in the source
    raw         VARCHAR USING COMPRESSION zstd,  -- the sentence(s) exactly as received (zstd: smaller and faster to write than the default for this text)
    dup_key     UBIGINT NOT NULL          -- md5 of the payload: the same transmission heard twice
);

CREATE TABLE IF NOT EXISTS static_reports (
    mmsi         INTEGER NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    msg_type     TINYINT,                 -- 5, 19, 24 (archives: 5 class A, 24 class B)
    part         VARCHAR,                 -- type 24: 'A' (name) or 'B' (call sign, type, size)
    imo          INTEGER,
    name         VARCHAR,
    callsign     VARCHAR,
    ship_type    SMALLINT,                -- AIS ship and cargo type code
    to_bow       SMALLINT,                -- metres from the GPS antenna
    to_stern     SMALLINT,
    to_port      SMALLINT,
    to_starboard SMALLINT,
    draught      DOUBLE,                  -- metres
    destination  VARCHAR,                 -- as typed by the crew (untrusted text)
    eta          VARCHAR,                 -- 'MM-DDTHH:MM' as broadcast (no year)
    ais_version  TINYINT,
    epfd         TINYINT,
    station      VARCHAR,
    source_id    INTEGER NOT NULL,
    line_no      BIGINT NOT NULL,
    raw          VARCHAR USING COMPRESSION zstd,
    dup_key      UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS base_stations (
    mmsi         INTEGER NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    station_time TIMESTAMPTZ,             -- the UTC time the base station reports
    lat          DOUBLE,
    lon          DOUBLE,
    accuracy     BOOLEAN,
    epfd         TINYINT,
    station      VARCHAR,
    source_id    INTEGER NOT NULL,
    line_no      BIGINT NOT NULL,
    raw          VARCHAR USING COMPRESSION zstd,
    dup_key      UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rejects (
    source_id INTEGER NOT NULL,
    line_no   BIGINT NOT NULL,
    reason    VARCHAR NOT NULL,           -- see shiptrack.decode.records.REJECT_REASONS
    detail    VARCHAR,
    raw       VARCHAR USING COMPRESSION zstd
);

CREATE TABLE IF NOT EXISTS mid_flags (
    mid     SMALLINT PRIMARY KEY,         -- ITU Maritime Identification Digits
    country VARCHAR NOT NULL,
    iso2    VARCHAR
);

-- The MID of an MMSI, for ships (MIDxxxxxx), groups (0MIDxxxxx), coast stations
-- (00MIDxxxx), SAR aircraft (111MIDxxx), craft associated with a parent ship
-- (98MIDxxxx) and aids to navigation (99MIDxxxx). SART/MOB/EPIRB (97x) have none.
CREATE OR REPLACE MACRO mid_of(m) AS CASE
    WHEN m BETWEEN 200000000 AND 799999999 THEN m // 1000000
    WHEN m BETWEEN 20000000 AND 79999999 THEN m // 100000
    WHEN m BETWEEN 2000000 AND 7999999 THEN m // 10000
    WHEN m BETWEEN 111200000 AND 111799999 THEN (m // 1000) % 1000
    WHEN m BETWEEN 982000000 AND 987999999 THEN (m // 10000) % 1000
    WHEN m BETWEEN 992000000 AND 997999999 THEN (m // 10000) % 1000
    ELSE NULL END;

-- Identity over time, one row per run of one value of one field, per MMSI.
CREATE OR REPLACE VIEW identity_history AS
WITH obs AS (
    SELECT mmsi, ts, source_id, line_no, 'name' AS field, name AS value FROM static_reports WHERE name IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, source_id, line_no, 'callsign', callsign FROM static_reports WHERE callsign IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, source_id, line_no, 'imo', CAST(imo AS VARCHAR) FROM static_reports WHERE imo IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, source_id, line_no, 'ship_type', CAST(ship_type AS VARCHAR) FROM static_reports WHERE ship_type IS NOT NULL
    UNION ALL
    SELECT mmsi, ts, source_id, line_no, 'destination', destination FROM static_reports WHERE destination IS NOT NULL
), marked AS (
    SELECT *, CASE WHEN value IS DISTINCT FROM lag(value) OVER w THEN 1 ELSE 0 END AS changed
    FROM obs WINDOW w AS (PARTITION BY mmsi, field ORDER BY ts, source_id, line_no)
), runs AS (
    SELECT *, sum(changed) OVER (PARTITION BY mmsi, field ORDER BY ts, source_id, line_no
                                 ROWS UNBOUNDED PRECEDING) AS run
    FROM marked
)
SELECT mmsi, field, value, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS reports,
       arg_min(source_id, ts) AS first_source_id, arg_min(line_no, ts) AS first_line_no
FROM runs GROUP BY mmsi, field, value, run;

-- Current identity of every MMSI heard: latest non-null value of each field,
-- the flag from the MMSI's MID, and when it was seen.
CREATE OR REPLACE VIEW vessels AS
WITH pos AS (
    SELECT mmsi, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS positions,
           arg_max(msg_type, ts) AS last_msg_type
    FROM positions GROUP BY mmsi
), st AS (
    SELECT mmsi,
           arg_max(name, ts) FILTER (WHERE name IS NOT NULL) AS name,
           arg_max(callsign, ts) FILTER (WHERE callsign IS NOT NULL) AS callsign,
           arg_max(imo, ts) FILTER (WHERE imo IS NOT NULL) AS imo,
           arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type,
           arg_max(destination, ts) FILTER (WHERE destination IS NOT NULL) AS destination,
           arg_max(draught, ts) FILTER (WHERE draught IS NOT NULL) AS draught,
           arg_max(to_bow + to_stern, ts) FILTER (WHERE to_bow IS NOT NULL AND to_stern IS NOT NULL) AS length_m,
           min(ts) AS first_static, max(ts) AS last_static
    FROM static_reports GROUP BY mmsi
), ids AS (SELECT mmsi FROM pos UNION SELECT mmsi FROM st)
SELECT ids.mmsi, st.imo, st.name, st.callsign, st.ship_type, st.length_m, st.draught, st.destination,
       mid_of(ids.mmsi) AS mid, f.country AS flag, f.iso2 AS flag_iso2,
       CASE WHEN pos.last_msg_type IN (18, 19) THEN 'B' WHEN pos.last_msg_type IS NOT NULL THEN 'A' END AS ais_class,
       least(pos.first_seen, st.first_static) AS first_seen,
       greatest(pos.last_seen, st.last_static) AS last_seen,
       coalesce(pos.positions, 0) AS positions
FROM ids
LEFT JOIN pos USING (mmsi)
LEFT JOIN st USING (mmsi)
LEFT JOIN mid_flags f ON f.mid = mid_of(ids.mmsi);

-- ------------------------------------------------------------------ reference

CREATE TABLE IF NOT EXISTS ports (
    port_id  INTEGER PRIMARY KEY,         -- NGA World Port Index number
    name     VARCHAR NOT NULL,
    country  VARCHAR,
    locode   VARCHAR,
    lat      DOUBLE NOT NULL,
    lon      DOUBLE NOT NULL
);

-- The user's own areas of interest (shiptrack areas add): a port and radius,
-- or a GeoJSON polygon (kept as GeoJSON text; tested in Python with shapely).
CREATE TABLE IF NOT EXISTS areas (
    name       VARCHAR PRIMARY KEY,
    port_id    INTEGER,
    lat        DOUBLE,
    lon        DOUBLE,
    radius_nm  DOUBLE,
    geojson    VARCHAR,
    created_at TIMESTAMPTZ
);

-- Declared voyages (shiptrack route declare/import): ports in order.
CREATE TABLE IF NOT EXISTS declared_voyages (
    voyage_id  VARCHAR PRIMARY KEY,       -- md5 of mmsi|ports|departed
    mmsi       INTEGER NOT NULL,
    ports      VARCHAR NOT NULL,          -- as declared, e.g. 'Novorossiysk > Sfax? > Douala'
    departed   TIMESTAMPTZ,
    created_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS declared_voyage_ports (
    voyage_id VARCHAR NOT NULL,
    seq       INTEGER NOT NULL,           -- 0 = departure port
    port_id   INTEGER NOT NULL,
    optional  BOOLEAN NOT NULL            -- 'Sfax?' = an allowed, optional call
);
-- The expected sea route of each declared voyage (searoute), as a polyline.
CREATE TABLE IF NOT EXISTS declared_route_points (
    voyage_id VARCHAR NOT NULL,
    seq       INTEGER NOT NULL,
    lat       DOUBLE NOT NULL,
    lon       DOUBLE NOT NULL
);

-- ------------------------------------------------------------------ findings

CREATE TABLE IF NOT EXISTS events (
    event_id         VARCHAR PRIMARY KEY,  -- md5(kind|mmsi|other_mmsi|start_utc|port), first 16 hex
    kind             VARCHAR NOT NULL,     -- dark_period, port_call, ... (shiptrack detect --list)
    mmsi             INTEGER NOT NULL,
    other_mmsi       INTEGER,              -- sts_encounter: the other vessel
    start_utc        TIMESTAMPTZ NOT NULL,
    end_utc          TIMESTAMPTZ,
    duration_h       DOUBLE,
    lat              DOUBLE,               -- where it happened (start, or the call's mean position)
    lon              DOUBLE,
    port             VARCHAR,              -- port name, when the finding is about a port
    port_id          INTEGER,
    port_distance_nm DOUBLE,
    details          JSON,                 -- the rule's evidence: distances, durations, positions
    evidence         STRUCT(source_id INTEGER, line_no BIGINT)[],  -- messages it rests on
    detected_at      TIMESTAMPTZ,
    segment          INTEGER               -- the transmitter's track segment (shared MMSIs); NULL: not tied to one
);
-- stores made before the segment column (schema version 4 and older)
ALTER TABLE events ADD COLUMN IF NOT EXISTS segment INTEGER;

-- What the store could hear: per receiver (tag-block station, else the source file),
-- 0.5-degree cell and UTC hour, the position reports received and the vessels they came
-- from. Derived from positions; ingest updates the hours each file touches. Rules read it
-- to tell a ship's silence from a silent receiver or a hole in the archive.
CREATE TABLE IF NOT EXISTS coverage (
    receiver VARCHAR NOT NULL,            -- station (tag block s:, trailer) or 'source:<source_id>'
    cell_lat SMALLINT NOT NULL,           -- floor(lat / 0.5)
    cell_lon SMALLINT NOT NULL,           -- floor(lon / 0.5), -360..359
    hour     TIMESTAMPTZ NOT NULL,        -- start of the UTC hour
    messages INTEGER NOT NULL,            -- position reports heard
    vessels  INTEGER NOT NULL             -- distinct MMSIs among them
);

-- Seconds from time a to time b (b - a), from the microsecond counts: exact, and without
-- epoch(b - a)'s subtraction of TIMESTAMPTZ values, which goes through ICU's
-- time-zone-aware arithmetic, several times slower.
CREATE OR REPLACE MACRO seconds_between(a, b) AS (epoch_us(b) - epoch_us(a)) / 1e6;

-- The mean of x, the same to the last bit whatever the order rows are added in (a
-- parallel sum of doubles is not: two detect runs on one store gave port calls whose mean
-- longitude differed in the last digit): x is summed as integers of 1/scale.
CREATE OR REPLACE MACRO exact_avg(x, scale) AS
    CAST(sum(CAST(round(x * scale) AS HUGEINT)) AS DOUBLE) / count(x) / scale;

-- Smallest difference between two angles, 0..180.
CREATE OR REPLACE MACRO angle_diff(a, b) AS 180 - abs(180 - abs(a - b) % 360);
