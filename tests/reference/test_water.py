"""The bundled inland-water map: what build_water.py makes of Natural Earth, and distances to it."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from shiptrack.reference import build_water
from shiptrack.reference.water import MAP_ERROR_KM, _water, inland_water_km, water_feature
from tests.audit import distance_to_water_km
from tests.conftest import FIXTURES


def test_bundled_map_is_natural_earth_to_8_metres() -> None:
    """The Natural Earth part of the bundled file is what build_water makes of the copies in
    fixtures/water (the searoute lanes follow it), every vertex within MAP_ERROR_KM."""
    features = build_water.natural_earth_features(FIXTURES / "water")
    fresh = build_water.encode(features)
    with np.load(build_water.DATA_DIR / build_water.OUTPUT_NAME) as z:
        bundled = {k: z[k] for k in z.files}
    n_parts = len(fresh["part_len"])
    n_vertices = int(fresh["part_len"].sum())
    assert np.array_equal(bundled["part_len"][:n_parts], fresh["part_len"])
    assert np.array_equal(bundled["xy"][:n_vertices], fresh["xy"])
    assert list(bundled["feature_name"][:len(features)]) == list(fresh["feature_name"])
    assert set(bundled["feature_kind"][len(features):]) == {2}  # then the searoute waterways
    assert build_water.max_error_km(features, fresh) <= MAP_ERROR_KM


@pytest.mark.parametrize(("lat", "lon", "kind", "name"), [
    (57.3, -4.45, "lake", "Loch Ness"),  # inside the loch
    (61.876, 28.877, "lake", "Lake Saimaa"),
    (59.8085, 30.6608, "river", "Neva"),
    (32.2268, -90.9827, "river", "Mississippi"),  # a tug heard by AMSA's receiver, 2012
    (30.7206, 32.3443, "river", "Suez Canal"),
    (48.6250, 44.0640, "waterway", ""),  # the Volga-Don canal: a vertex of searoute's lane
])
def test_distance_to_inland_water(lat: float, lon: float, kind: str, name: str) -> None:
    near = inland_water_km(lat, lon)
    assert water_feature(int(near.feature)) == (kind, name)
    assert float(near.km) <= 3.0
    # the audit measures to the Natural Earth files themselves: the same to a few metres
    if kind != "waterway":
        assert float(near.km) == pytest.approx(distance_to_water_km(lat, lon), abs=0.02)


def test_far_from_inland_water() -> None:
    km = inland_water_km(np.array([27.0, 54.238317]), np.array([20.0, 9.609815])).km
    assert km[0] > 1000  # the Libyan desert
    assert 40 < km[1] < 55  # the Kiel Canal at Rendsburg: on no map we bundle
    assert np.isnan(inland_water_km(np.nan, 0.0).km)


def test_lake_islands_are_not_water() -> None:
    """Holes of lake polygons are islands: a point on the largest (Manitoulin Island, in Lake
    Huron) is measured to the shore, not 0."""
    w = _water()
    islands = [shapely.Polygon(r) for p in w.lakes if isinstance(p, shapely.Polygon) for r in p.interiors]
    point = max(islands, key=lambda g: g.area).point_on_surface()
    assert 45.5 < point.y < 46.1 and -83.0 < point.x < -81.6
    assert float(inland_water_km(point.y, point.x).km) > 2.0
