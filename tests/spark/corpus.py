"""A small multi-vessel NMEA corpus whose findings sit on the Spark engine's partition borders.

With ``CELL_DEG`` = 1 degree cells and any number of vessel shares (mmsi % n):

* two ship-to-ship meetings that straddle a cell border, one across latitude 35 (the pair
  on either side of it, drifting north over it) and one across longitude 21, both over
  midnight (the lake's day partitions);
* a vessel silent for 8 hours while others (of other shares) are heard near where it fell
  silent and where it reappeared, and one silent over midnight;
* an archive hole (nobody heard for 7 hours) that cuts every track, one just after a gap;
* an IMO number under a new MMSI, the two MMSIs in different shares, and destination changes.

Everything reports every 10 minutes on receiver rSTA01 from 2018-03-01 to 2018-03-03 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import ping, voyage

CELL_DEG = 1.0
T0 = datetime(2018, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=10)
HOLE = (datetime(2018, 3, 2, 12, tzinfo=UTC), datetime(2018, 3, 2, 19, tzinfo=UTC))
KN_DEG = 1 / 60  # one knot for one hour: a minute of latitude


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _track(mmsi: int, lat0: float, lon0: float, dlat_h: float, dlon_h: float, sog: float, cog: float,
           start: datetime, end: datetime, silent: list[tuple[datetime, datetime]] = ()) -> list[tuple[datetime, str]]:
    out = []
    t = start
    while t < end:
        if not any(a <= t < b for a, b in [*silent, HOLE]):
            h = (t - start).total_seconds() / 3600
            out.append((t, ping(_iso(t), round(lat0 + dlat_h * h, 5), round(lon0 + dlon_h * h, 5), sog, cog,
                                mmsi=mmsi, station="rSTA01")))
        t += STEP
    return out


def border_corpus() -> list[str]:
    end = T0 + timedelta(days=2)
    drift = 0.5 * KN_DEG  # 0.5 kn
    meet1 = (T0 + timedelta(hours=21), T0 + timedelta(hours=27))
    meet2 = (T0 + timedelta(hours=23), T0 + timedelta(hours=28))
    rows: list[tuple[datetime, str]] = []
    # meeting 1: 235000001 just south of 35 N, 235000002 just north, drifting north over it
    for mmsi, lat in ((235000001, 34.9996), (235000002, 35.0004)):
        rows += _track(mmsi, lat - 2.0, 20.0, 2.0 / 21, 0.0, 6.0, 0.0, T0, meet1[0])  # sailing to the meeting
        rows += _track(mmsi, lat, 20.0, drift, 0.0, 0.5, 0.0, meet1[0], meet1[1])
        rows += _track(mmsi, lat + 6 * drift, 20.0, 0.0, 0.1, 6.0, 90.0, meet1[1], end)
    # meeting 2: 235000003 just west of 21 E, 538000004 just east, drifting east over it
    for mmsi, lon in ((235000003, 20.9995), (538000004, 21.0005)):
        rows += _track(mmsi, 35.5, lon - 2.3, 0.0, 0.1, 6.0, 90.0, T0, meet2[0])
        rows += _track(mmsi, 35.5, lon, 0.0, drift * 1.23, 0.5, 90.0, meet2[0], meet2[1])
        rows += _track(mmsi, 35.5, lon + 5 * drift * 1.23, -0.1, 0.0, 6.0, 180.0, meet2[1], end)
    # silent for 8 hours on the way east, and over midnight
    rows += _track(636000005, 35.2, 19.5, 0.0, 10 * KN_DEG * 1.22, 10.0, 90.0, T0, end,
                   silent=[(T0 + timedelta(hours=6), T0 + timedelta(hours=14))])
    rows += _track(244000010, 34.6, 20.3, 0.0, 4 * KN_DEG * 1.22, 4.0, 90.0, T0, end,
                   silent=[(T0 + timedelta(hours=20), T0 + timedelta(hours=29))])
    # the others heard around them all the time (three more shares)
    rows += _track(229000006, 35.3, 19.8, 0.0, 3 * KN_DEG * 1.22, 3.0, 90.0, T0, end,
                   silent=[(T0 + timedelta(hours=28), HOLE[0])])  # a gap into the archive hole
    rows += _track(241000007, 35.1, 21.6, 0.0, -3 * KN_DEG * 1.22, 3.0, 270.0, T0, end)
    rows += _track(256000008, 34.9, 20.4, 3 * KN_DEG, 0.0, 3.0, 0.0, T0, end)
    rows += _track(636000010, 34.5, 21.5, 0.0, 0.0, 0.0, 0.0, T0 + timedelta(days=1), end)
    # identities: IMO 9074729 moves from 235000001 to 636000010; destinations change
    statics: list[tuple[datetime, list[str]]] = []
    for k in range(3):
        t = T0 + timedelta(hours=2 + k)
        statics.append((t, voyage(_iso(t), 235000001, name="NORTH STAR", imo=9074729, destination="MALTA",
                                  station="rSTA01")))
        t2 = T0 + timedelta(days=1, hours=2 + k)
        statics.append((t2, voyage(_iso(t2), 636000010, name="NORTH STAR", imo=9074729, destination="TOBRUK",
                                   station="rSTA01")))
        t3 = T0 + timedelta(hours=30 + k)
        statics.append((t3, voyage(_iso(t3), 235000001, name="NORTH STAR", imo=9074729,
                                   destination="SFAX" if k else "MALTA", station="rSTA01")))
        t4 = T0 + timedelta(hours=4 + 20 * k)
        statics.append((t4, voyage(_iso(t4), 538000004, name="SOUTH SEA", imo=9000003,
                                   destination=("PIRAEUS", "BENGHAZI", "PIRAEUS")[k], station="rSTA01")))
    lines = [(t, line) for t, line in rows] + [(t, s) for t, parts in statics for s in parts]
    lines.sort(key=lambda r: r[0])
    return [line for _, line in lines]
