"""The detection input: TEMP table ``pos`` with a track segment per position.

A segment is a run of positions of one MMSI that one transmitter could have
produced. Most MMSIs are one segment (``seg = 0``). Where one MMSI is broadcast
by two ships at once (a default or copied MMSI), consecutive positions imply
impossible speeds; such tracks are split so that gap and jump rules compare
each ship with itself, as Global Fishing Watch's ``gpsdio-segment`` does.

How ``pos`` is built:

1. **Window.** Positions with a latitude and longitude, from ``LOOKBACK``
   before ``since`` up to ``until``.
2. **Which MMSIs are split (set-based SQL).** ``pos`` is first made with one
   window over each MMSI (ordered by ``ts, dup_key``), every MMSI one segment. A
   consecutive pair is *implausible* when its distance exceeds both
   ``MIN_JUMP_NM`` and ``MAX_SPEED_KN * (dt + JITTER_S) / 3600``: the minimum
   distance ignores GPS noise and two receivers' clocks; the ``JITTER_S``
   allowance ignores receive-time jitter. An MMSI with positions whose times may
   be later than sent (``sources.time_spread_s``: trailing times taken on request,
   which may be a satellite's ground-arrival times) has that spread added to
   ``JITTER_S`` on every pair: the order of such positions is not known to
   better than that, so a jump within it is never called impossible. Only MMSIs with at least one
   implausible pair go on to step 3; every other position gets ``seg = 0``.
3. **Splitting (Python, those MMSIs only).** :func:`split_track` walks the
   track in time order and gives each position to the open segment it can
   reach at a plausible speed (the same test) from one of that segment's last
   ``LOOKBACK_POSITIONS`` positions (the most recent one that can is used). An
   older position only vouches for a fix
   that lies no farther from the segment's last position than it does, which
   admits a late, out-of-order report but not a fix ahead of the track. When
   several segments qualify the best score wins, GFW-style: closeness relative
   to the allowed distance, recency (``1 / hypot(dt_h, 0.25)``), segment length
   (short segments are down-weighted by ``n / sqrt(n^2 + 10^2)``) and the
   lookback depth. When none qualifies, a new segment opens. Plain Python: only
   the MMSIs with an implausible jump come here, the other positions never leave
   DuckDB.

   * **Bad fixes.** A new segment of at most ``MAX_SPIKE_POSITIONS`` positions,
     after which the track goes straight back to another segment within
     ``GLITCH_NM``, is a bad fix: it is closed (nothing joins it later, so stray
     fixes hours apart do not chain into a phantom ship) and its positions get a
     negative ``seg`` (-1, -2, ...: each its own one-position segment).
   * **Late re-receptions.** The loader merges the same transmission heard twice
     within 60 s. A copy that arrives later (satellite store-and-forward, a
     receiver with a wrong clock) repeats an old position after newer ones. A
     row whose payload (``dup_key``) the same segment sent less than
     ``DUP_WINDOW_S`` earlier, and which that segment cannot reach now, is such a
     copy and is left out of ``pos``. A moored ship repeating an identical report
     stays within reach, so its rows are kept and no false gap appears.

   Segments are numbered in the order they open (0 is the first), so the
   result depends only on the content, not on ingest order. The rows of these
   MMSIs are then replaced in ``pos`` by their segmented rows.
4. **Neighbours.** Each row carries ``rn``, its order in its segment (1, 2, ...),
   and ``n_ts``, the time of the segment's next position (NULL for the last; that
   position is the row with ``rn + 1``), from the same window: the rules read them
   instead of each sorting the positions again.

Unlike GFW, segments are never closed for time alone (GFW closes them after
24 h): a ship silent for three days must stay one segment, or the gap rules
could not see its dark period. Nor does the matcher extrapolate along course and
speed or mark ambiguous positions. On GFW's test track 338013000 (fixtures/
segments) both keep the ship as one track and set the same 7 stray fixes aside;
GFW also cuts off 16 positions after a 54 kn fix, which we keep, and we set 5
more fixes aside: 97.9 % of positions agree (``tests/rules/test_gaps.py``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from shiptrack.geo import Fix, fix_distance_nm

# How far before --since detection looks, so that a gap or call that began before
# the window is still seen whole.
LOOKBACK = timedelta(days=7)
MAX_SPEED_KN = 60.0    # faster than this between two positions: not the same transmitter
MIN_JUMP_NM = 1.0      # jumps shorter than this are GPS noise or time jitter, never a split
JITTER_S = 30.0        # receive-time jitter allowed on every pair, seconds
LOOKBACK_POSITIONS = 5  # a position may join a segment via any of its last 5 positions
GLITCH_NM = 25.0       # 1-2 positions less than this off the track, then straight back: a bad fix
MAX_SPIKE_POSITIONS = 2
DUP_WINDOW_S = 1800.0  # an unreachable repeat of a payload sent this recently is a re-reception

_BUFFER_H = 0.25
_SHORT_SEG = 10.0
_DROPPED = np.iinfo(np.int32).min


# The columns of ``pos`` taken from ``positions``; ``seg`` and the neighbour columns follow.
_COLUMNS = "mmsi, ts, lat, lon, sog, cog, heading, nav_status, msg_type, source_id, line_no, dup_key"
# Each position's place in its segment and its neighbours there (ordered by ts, dup_key),
# computed once for every rule, so that no rule sorts the positions again in a window of
# its own: rn (1, 2, ...) and the next position's time (NULL for the last). The previous
# position's time and place serve to find the implausible pairs, and are then dropped.
_NEIGHBOURS = """row_number() OVER w AS rn,
           lag(ts) OVER w AS p_ts, lag(lat) OVER w AS p_lat, lag(lon) OVER w AS p_lon,
           lead(ts) OVER w AS n_ts"""


def prepare(
    con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None, *,
    max_speed_kn: float = MAX_SPEED_KN, min_jump_nm: float = MIN_JUMP_NM, jitter_s: float = JITTER_S,
) -> None:
    """Create TEMP table ``pos``: placed positions in the window, with ``seg``, ``rn`` (order
    in the segment) and ``n_ts`` (the time of the segment's next position).

    Every MMSI is first one segment: one window over the MMSI gives the neighbour
    columns and, from the previous position, the implausible pairs. Only the MMSIs with
    such a pair are split, and their rows replaced with ones numbered per segment.
    """
    lo = since - LOOKBACK if since is not None else None
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE pos AS
        SELECT {_COLUMNS}, CAST(0 AS INTEGER) AS seg, {_NEIGHBOURS}
        FROM positions
        WHERE lat IS NOT NULL AND lon IS NOT NULL
          AND ($lo IS NULL OR ts >= $lo) AND ($until IS NULL OR ts < $until)
        WINDOW w AS (PARTITION BY mmsi ORDER BY ts, dup_key)
        """,  # noqa: S608 - constants above; values are bound
        {"lo": lo, "until": until},
    )
    rows = con.sql(
        """
        WITH spread AS (  -- MMSIs with positions whose times may be later than sent
            SELECT mmsi, max(s.time_spread_s) AS spread_s
            FROM pos JOIN sources s USING (source_id)
            WHERE s.time_spread_s > 0
            GROUP BY mmsi
        ), suspect AS (
            SELECT DISTINCT mmsi FROM pos LEFT JOIN spread USING (mmsi)
            WHERE p_ts IS NOT NULL
              AND haversine_nm(p_lat, p_lon, lat, lon)
                  > greatest($min_jump_nm, $max_speed_kn
                             * (seconds_between(p_ts, ts) + $jitter_s + coalesce(spread_s, 0)) / 3600.0)
        )
        SELECT mmsi, ts, dup_key, epoch(ts) AS t_s, lat, lon, coalesce(spread_s, 0) AS spread_s
        FROM pos SEMI JOIN suspect USING (mmsi) LEFT JOIN spread USING (mmsi)
        ORDER BY mmsi, ts, dup_key
        """,
        params={"max_speed_kn": max_speed_kn, "min_jump_nm": min_jump_nm, "jitter_s": jitter_s},
    ).to_arrow_table()
    if rows.num_rows:
        _split_suspects(con, rows, max_speed_kn, min_jump_nm, jitter_s)
    for column in ("p_ts", "p_lat", "p_lon"):  # needed no more: 240 MB per 10M positions
        con.execute(f"ALTER TABLE pos DROP COLUMN {column}")


def _split_suspects(con: duckdb.DuckDBPyConnection, rows: pa.Table, max_speed_kn: float, min_jump_nm: float,
                    jitter_s: float) -> None:
    """Replace the rows of the MMSIs in ``rows`` (sorted by mmsi, ts, dup_key) by their
    segmented rows, numbered per segment (late re-receptions left out)."""
    con.register("_seg_arrow", _split_all(rows, max_speed_kn, min_jump_nm, jitter_s))
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _split AS
            SELECT {_COLUMNS}, s.seg
            FROM pos p
            JOIN (SELECT mmsi, ts, dup_key, min(seg) AS seg FROM _seg_arrow GROUP BY ALL) s USING (mmsi, ts, dup_key)
            WHERE s.seg <> $dropped
            """,  # noqa: S608 - constants above; values are bound
            {"dropped": int(_DROPPED)},
        )
        con.execute("DELETE FROM pos WHERE mmsi IN (SELECT DISTINCT mmsi FROM _seg_arrow)")
        con.execute(
            f"""
            INSERT INTO pos BY NAME
            SELECT {_COLUMNS}, seg, {_NEIGHBOURS}
            FROM _split
            WINDOW w AS (PARTITION BY mmsi, seg ORDER BY ts, dup_key)
            """  # noqa: S608 - constants above
        )
        con.execute("DROP TABLE _split")
    finally:
        con.unregister("_seg_arrow")


def _split_all(rows: pa.Table, max_speed_kn: float, min_jump_nm: float, jitter_s: float) -> pa.Table:
    """Segment numbers for the rows of the suspect MMSIs (sorted by mmsi, ts, dup_key)."""
    mmsi = rows.column("mmsi").to_numpy()
    seg = np.zeros(len(mmsi), dtype=np.int32)
    if len(mmsi):
        t_s = rows.column("t_s").to_numpy()
        lat = rows.column("lat").to_numpy()
        lon = rows.column("lon").to_numpy()
        key = rows.column("dup_key").to_numpy()
        spread = rows.column("spread_s").to_numpy()
        starts = np.flatnonzero(np.r_[True, mmsi[1:] != mmsi[:-1], True])
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            s, dropped = split_track(t_s[a:b], lat[a:b], lon[a:b], key[a:b], max_speed_kn=max_speed_kn,
                                     min_jump_nm=min_jump_nm, jitter_s=jitter_s + float(spread[a]))
            seg[a:b] = np.where(dropped, _DROPPED, s)
    return pa.table({
        "mmsi": rows.column("mmsi"), "ts": rows.column("ts"), "dup_key": rows.column("dup_key"),
        "seg": pa.array(seg),
    })


def split_track(
    t_s: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray, dup_key: np.ndarray | None = None, *,
    max_speed_kn: float = MAX_SPEED_KN, min_jump_nm: float = MIN_JUMP_NM, jitter_s: float = JITTER_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Split one MMSI's track, given in time order (``t_s``: unix seconds).

    Returns ``(seg, rereceived)``: the segment of each position (negative for a
    bad fix) and a mask of the late re-receptions to leave out (their ``seg`` is
    meaningless). See the module docstring for the rules. Plain Python floats:
    with a handful of open segments this is several times faster than numpy.
    """
    n = len(t_s)
    seg = np.zeros(n, dtype=np.int32)
    rereceived = np.zeros(n, dtype=bool)
    ts_l = t_s.tolist()
    lat_l = np.radians(lat_deg).tolist()
    lon_l = np.radians(lon_deg).tolist()
    cos_l = np.cos(np.radians(lat_deg)).tolist()
    keys = dup_key.tolist() if dup_key is not None else None
    segs: list[_Segment] = []
    open_ids: list[int] = []
    seen: dict[int, tuple[float, int]] = {}  # dup_key -> (time, segment) of its last kept row
    speed_s = max_speed_kn / 3600.0
    kept = 0
    prev = -1  # segment of the last kept position
    for i in range(n):
        fix = (ts_l[i], lat_l[i], lon_l[i], cos_l[i])
        best, best_score = -1, 0.0
        reach: dict[int, bool] = {}
        for s in open_ids:
            sc = segs[s].score(fix, speed_s, min_jump_nm, jitter_s)
            reach[s] = sc > 0.0
            if sc > best_score:
                best, best_score = s, sc
        if keys is not None:
            before = seen.get(keys[i])
            if before is not None and fix[0] - before[0] < DUP_WINDOW_S and not reach.get(before[1], False):
                rereceived[i] = True
                continue
        if best < 0:
            best = len(segs)
            segs.append(_Segment(opened_at=kept))
            open_ids.append(best)
        elif prev >= 0 and prev != best and segs[prev].is_spike(kept, fix):
            segs[prev].glitch = True
            open_ids.remove(prev)  # closed: nothing joins a bad fix later
        segs[best].add(fix)
        seg[i], prev, kept = best, best, kept + 1
        if keys is not None:
            seen[keys[i]] = (fix[0], best)
    if any(sg.glitch for sg in segs):  # number bad fixes -1, -2, ... and the others 0, 1, ... in order
        is_glitch = np.array([sg.glitch for sg in segs])
        new_id = np.where(is_glitch, -np.cumsum(is_glitch), np.cumsum(~is_glitch) - 1)
        seg = new_id[seg].astype(np.int32)
    return seg, rereceived


class _Segment:
    """The last LOOKBACK_POSITIONS positions of one open segment, most recent first."""

    __slots__ = ("recent", "count", "opened_at", "glitch")

    def __init__(self, opened_at: int) -> None:
        self.recent: list[Fix] = []
        self.count = 0
        self.opened_at = opened_at
        self.glitch = False

    def add(self, fix: Fix) -> None:
        self.recent.insert(0, fix)
        del self.recent[LOOKBACK_POSITIONS:]
        self.count += 1

    def score(self, fix: Fix, speed_s: float, min_jump_nm: float, jitter_s: float) -> float:
        """> 0 when the fix can join: GFW-style closeness x recency x length / lookback depth."""
        last = self.recent[0]
        d_last = fix_distance_nm(last, fix)
        for m, old in enumerate(self.recent):
            d = d_last if m == 0 else fix_distance_nm(old, fix)
            dt = fix[0] - old[0]
            allowed = max(min_jump_nm, speed_s * (dt + jitter_s))
            if d > allowed:
                continue
            if m and d_last > fix_distance_nm(old, last) + min_jump_nm:
                continue  # an older position vouches only for a fix no farther from the last one
            c = self.count
            return (math.exp(-((2.0 * d / allowed) ** 2)) / math.hypot(dt / 3600.0, _BUFFER_H)
                    * c / math.sqrt(c * c + _SHORT_SEG**2) / max(1.0, 2.0 * m))
        return 0.0

    def is_spike(self, kept: int, fix: Fix) -> bool:
        """At most MAX_SPIKE_POSITIONS positions, all just before this fix, which went
        back to another segment within GLITCH_NM: a bad fix."""
        if self.count > MAX_SPIKE_POSITIONS or self.opened_at != kept - self.count:
            return False
        return all(fix_distance_nm(p, fix) < GLITCH_NM for p in self.recent)


