"""Geodesy in one place: the Earth's radius, units, great-circle distance and bearing.

The same constants and formulas serve Python (numpy, on scalars or arrays) and SQL: the
store's macros ``haversine_nm``, ``haversine_km``, ``haversine_m``, ``km_to_nm`` and
``bearing_deg`` are written from them (:data:`SQL_MACROS`, created with the schema).

Distances are haversine great-circle distances on a sphere. Two radii are used: nautical
miles (what AIS speeds and the rules' thresholds are in) take 3440.065 nm, and the maps
(land mask, coastline, inland water) take the mean Earth radius in km, as Natural Earth's
measurements do; the two differ by 0.001%.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EARTH_RADIUS_NM = 3440.065
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius
KM_PER_NM = 1.852
M_PER_NM = 1852.0
NM_PER_KM = 1 / KM_PER_NM
KM_PER_DEG = EARTH_RADIUS_KM * np.pi / 180.0  # great-circle km per degree of latitude


def _angle(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:  # noqa: ANN401 - floats or arrays
    """Half the central angle between the points (radians), as numpy computes it."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_nm(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:  # noqa: ANN401 - floats or arrays
    """Great-circle distance in nautical miles (numpy: scalars or arrays, broadcast)."""
    return 2 * EARTH_RADIUS_NM * _angle(lat1, lon1, lat2, lon2)


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:  # noqa: ANN401 - floats or arrays
    """Great-circle distance in km, on the mean Earth radius (the maps' distances)."""
    return 2 * EARTH_RADIUS_KM * _angle(lat1, lon1, lat2, lon2)


def bearing_deg(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:  # noqa: ANN401 - floats or arrays
    """Initial great-circle bearing from point 1 to point 2, degrees true 0..360."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return (np.degrees(np.arctan2(x, y)) + 360.0) % 360.0


Fix = tuple[float, float, float, float]  # time, lat (radians), lon (radians), cos(lat)


def fix_distance_nm(a: Fix, b: Fix) -> float:
    """:func:`distance_nm` between two fixes with their radians and cos(lat) computed once,
    in plain Python floats: the segmenter compares each position with a handful of others,
    where a numpy call costs more than the arithmetic."""
    h = math.sin((b[1] - a[1]) / 2) ** 2 + a[3] * b[3] * math.sin((b[2] - a[2]) / 2) ** 2
    return 2 * EARTH_RADIUS_NM * math.asin(min(1.0, math.sqrt(h)))


# The SQL forms, created in the store with its schema. haversine_nm is NULL if any input is
# NULL (least() ignores NULLs: without the guard a missing point would be 10,807 nm away).
SQL_MACROS = f"""
CREATE OR REPLACE MACRO haversine_nm(lat1, lon1, lat2, lon2) AS
    CASE WHEN lat1 IS NOT NULL AND lon1 IS NOT NULL AND lat2 IS NOT NULL AND lon2 IS NOT NULL THEN
    2 * {EARTH_RADIUS_NM!r} * asin(least(1.0, sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)))) END;
CREATE OR REPLACE MACRO haversine_km(lat1, lon1, lat2, lon2) AS haversine_nm(lat1, lon1, lat2, lon2) * {KM_PER_NM!r};
CREATE OR REPLACE MACRO haversine_m(lat1, lon1, lat2, lon2) AS haversine_nm(lat1, lon1, lat2, lon2) * {M_PER_NM!r};
CREATE OR REPLACE MACRO km_to_nm(km) AS km / {KM_PER_NM!r};
CREATE OR REPLACE MACRO bearing_deg(lat1, lon1, lat2, lon2) AS
    (degrees(atan2(sin(radians(lon2 - lon1)) * cos(radians(lat2)),
                   cos(radians(lat1)) * sin(radians(lat2))
                   - sin(radians(lat1)) * cos(radians(lat2)) * cos(radians(lon2 - lon1)))) + 360) % 360;
"""
