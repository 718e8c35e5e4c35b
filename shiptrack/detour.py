"""Sea distances from ports to any position, and the detour a position adds to a voyage leg.

A ship on a declared voyage from port A to port B may take any reasonable passage,
not only the single shortest line a router returns. What it cannot do without
going out of its way is pass far from every such passage. So a position P is
measured by the **detour**: how much longer the leg becomes by passing through P,

    detour(P) = sea(A, P) + sea(P, B) - sea(A, B),

with ``sea`` the length of the shortest path at sea. A ship on a shortest route
has a detour of about 0; one on the other side of an island, or crossing a sea a
few tens of nm off the router's line, a few tens of nm; one that puts into a port
200 nm off its way, about 400.

**Sea distances** come from ``searoute``'s maritime network (the graph of
:func:`shiptrack.routes.sea_route`: the Corinth Canal and the Northwest Passage
closed), extended to any point. A point is joined to the network by straight
lines that stay at sea (sampled every :data:`LOS_STEP_KM` against the 1 km land
mask of :mod:`shiptrack.reference.land`): to the :data:`NEAR_NODES` nearest
nodes, to the :data:`FAR_NODES` nearest of a thinned set about a degree apart,
and to both ends of the :data:`NEAR_EDGES` nearest edges; and it is joined to
each of those edges at the foot of its perpendicular (the network's own lines
count as sea, as they do for searoute, even where they cut a cape by a km or
two). ``sea(A, P)`` is then the shortest of network distance + join, or the
straight line from A when that stays at sea. Far joins let the path leave the
lanes as a ship does: a ship sailing parallel to a 200 nm lane 30 nm off it is
barely out of its way. Distances from a port are one Dijkstra search over the
network's 9,708 nodes (about 0.03 s), cached per port and set of closed passages.

**Alternative routes.** Between two ports there may be other reasonable routes
through different passages: round the Cape of Good Hope or through Panama
instead of through Suez, the Sunda or Lombok straits instead of Malacca.
:func:`alternatives` closes, one after another, each named passage of searoute's
network that the routes found so far use (Suez, Panama, Malacca, Sunda,
Gibraltar, ...) and keeps each new route no longer than ``max_ratio`` times the
shortest. The detour is then measured against each kept route in its own
network (Suez closed for the Cape route), and the smallest counts.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely

from shiptrack.geo import EARTH_RADIUS_NM, KM_PER_NM, distance_nm
from shiptrack.reference.land import is_land

__all__ = [
    "BASE_CLOSED", "FAR_NODES", "LOS_STEP_KM", "NEAR_EDGES", "NEAR_NODES", "Joins", "Measured", "Route",
    "SeaGraph", "Sources", "Voyage", "alternatives", "graph", "leg_pairs", "sea_room_nm", "sees", "simplify",
]

NEAR_NODES = 8  # a point is joined to the nearest network nodes it can see over water...
FAR_NODES = 8  # ...to the nearest of a thinned set, about one node per degree cell...
NEAR_EDGES = 4  # ...and to the nearest edges: their two ends, and the foot of the perpendicular
THIN_DEG = 1.0  # cell of the thinned node set (degrees)
LOS_STEP_KM = 4.0  # a straight join is tested against the land mask this often...
LOS_END_KM = 3.0  # ...except this close to either end: WPI ports and searoute nodes in straits sit
# a km or two on the land side of the 1 km mask
_ARTIFICIAL = frozenset({"segment", "segment2", "pacific_ocean"})  # searoute's seams, not passages
BASE_CLOSED = frozenset({"northwest", "closed_to_merchant_ships"})  # as in shiptrack.routes.sea_route


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _wrap(lon: np.ndarray) -> np.ndarray:
    return (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0


def sees(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray,
         dist_nm: np.ndarray | None = None) -> np.ndarray:
    """Whether the straight line between each pair of points stays at sea: sampled every
    LOS_STEP_KM (interpolated in latitude and longitude), except within LOS_END_KM of the ends."""
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=float) for a in (lat1, lon1, lat2, lon2))
    if dist_nm is None:
        dist_nm = distance_nm(lat1, lon1, lat2, lon2)
    km = np.where(np.isfinite(dist_nm), dist_nm, 0.0) * KM_PER_NM
    inner = np.maximum(km - 2 * LOS_END_KM, 0.0)
    steps = np.where(inner > 0, np.ceil(inner / LOS_STEP_KM).astype(np.int64) + 1, 0)
    out = np.ones(len(lat1), dtype=bool)
    total = int(steps.sum())
    if total == 0:
        return out
    pair = np.repeat(np.arange(len(lat1)), steps)
    j = np.arange(total) - np.repeat(np.cumsum(steps) - steps, steps)
    t = (LOS_END_KM + inner[pair] * j / np.maximum(steps[pair] - 1, 1)) / np.maximum(km[pair], 1e-9)
    dlon = (lon2[pair] - lon1[pair] + 180.0) % 360.0 - 180.0
    wet = ~is_land(lat1[pair] + (lat2[pair] - lat1[pair]) * t, lon1[pair] + dlon * t)
    sampled = np.flatnonzero(steps > 0)
    out[sampled] = np.logical_and.reduceat(wet, (np.cumsum(steps) - steps)[sampled])
    return out


def sea_room_nm(lat: np.ndarray, lon: np.ndarray, max_nm: float, step_nm: float = 20.0,
                bearings: int = 36) -> np.ndarray:
    """Roughly how far each point is from land, up to max_nm: the 1 km land mask is sampled
    on circles every step_nm round the point (``bearings`` samples each), and the first circle
    touching land gives the distance (less half a step). Small islands between the samples
    of the outer circles can be missed: this measures open water, not a coastline."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    radii = np.arange(step_nm, max_nm + step_nm / 2, step_nm)
    if len(lat) == 0 or len(radii) == 0:
        return np.full(len(lat), float(max_nm))
    az = np.radians(np.arange(bearings) * 360.0 / bearings)
    d = radii / EARTH_RADIUS_NM
    p1, l1 = np.radians(lat)[:, None, None], np.radians(lon)[:, None, None]
    dd, aa = d[None, :, None], az[None, None, :]
    p2 = np.arcsin(np.sin(p1) * np.cos(dd) + np.cos(p1) * np.sin(dd) * np.cos(aa))
    l2 = l1 + np.arctan2(np.sin(aa) * np.sin(dd) * np.cos(p1), np.cos(dd) - np.sin(p1) * np.sin(p2))
    land = np.any(is_land(np.degrees(p2).ravel(), _wrap(np.degrees(l2).ravel())).reshape(p2.shape), axis=2)
    first = np.where(land.any(axis=1), land.argmax(axis=1), len(radii))
    here = is_land(lat, _wrap(lon))
    return np.where(here, 0.0, np.minimum(np.r_[radii - step_nm / 2, max_nm][first], max_nm))


@dataclass(frozen=True, eq=False)
class Joins:
    """How each of n points is joined to the network (see the module docstring)."""

    node: np.ndarray  # (n, kn) nodes joined by a straight line
    node_nm: np.ndarray  # (n, kn) its length; +inf where it crosses land
    edge: np.ndarray  # (n, ke) nearest edges
    u_nm: np.ndarray  # (n, ke) along the edge from its first end to the foot of the perpendicular
    v_nm: np.ndarray  # (n, ke) along the edge from its second end to the foot
    foot_nm: np.ndarray  # (n, ke) from the point to the foot; +inf where it crosses land
    foot_lat: np.ndarray
    foot_lon: np.ndarray

    @property
    def reach_nm(self) -> np.ndarray:
        """Each point's longest usable join: a port is tried directly up to this distance."""
        d = np.concatenate([self.node_nm, self.foot_nm], axis=1)
        return np.where(np.isfinite(d), d, 0.0).max(axis=1)


@dataclass(frozen=True, eq=False)
class SeaGraph:
    """searoute's maritime network as arrays: nodes, undirected edges, and CSR adjacency."""

    lat: np.ndarray
    lon: np.ndarray  # in [-180, 180)
    xyz: np.ndarray  # unit vectors of the nodes
    thin: np.ndarray  # indices of the thinned node set
    eu: np.ndarray  # edges: first end, second end, length (nm), passage (or None)
    ev: np.ndarray
    ew: np.ndarray
    epassage: list[str | None]
    indptr: list[int]  # adjacency, both directions: neighbour and edge index
    nbr: list[int]
    nedge: list[int]
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.lat)

    def closed_edges(self, closed: frozenset[str]) -> np.ndarray:
        key = ("closed", closed)
        if key not in self._cache:
            self._cache[key] = np.array([p is not None and p in closed for p in self.epassage], dtype=bool)
        return self._cache[key]

    def dijkstra(self, seeds: Sequence[tuple[int, float]], closed: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """Network distance (nm) from the seeds (node, initial distance) to every node, and each
        node's predecessor (-1 at a seed, -2 unreached); edges of a closed passage are not used."""
        n = self.n
        dist = [float("inf")] * n
        pred = [-2] * n
        heap: list[tuple[float, int]] = []
        for node, d in seeds:
            if d < dist[node]:
                dist[node], pred[node] = d, -1
                heap.append((d, node))
        heapq.heapify(heap)
        shut = self.closed_edges(closed).tolist()
        indptr, nbr, nedge, weight = self.indptr, self.nbr, self.nedge, self.ew.tolist()
        done = [False] * n
        while heap:
            d, u = heapq.heappop(heap)
            if done[u]:
                continue
            done[u] = True
            for k in range(indptr[u], indptr[u + 1]):
                e = nedge[k]
                if shut[e]:
                    continue
                v = nbr[k]
                nd = d + weight[e]
                if nd < dist[v]:
                    dist[v], pred[v] = nd, u
                    heapq.heappush(heap, (nd, v))
        return np.asarray(dist), np.asarray(pred, dtype=np.int64)

    def path(self, pred: np.ndarray, node: int) -> list[int]:
        """Nodes from the seed to ``node`` along the predecessors."""
        out = []
        while node >= 0:
            out.append(int(node))
            node = int(pred[node])
        return out[::-1]

    def passages_on(self, nodes: Sequence[int]) -> list[str]:
        """Named passages (searoute's tags) of the edges along a path of nodes, in order."""
        found: list[str] = []
        for u, v in zip(nodes[:-1], nodes[1:], strict=True):
            for k in range(self.indptr[u], self.indptr[u + 1]):
                if self.nbr[k] == v:
                    p = self.epassage[self.nedge[k]]
                    if p is not None and p not in _ARTIFICIAL and p not in found:
                        found.append(p)
                    break
        return found

    # -- joining points to the network ---------------------------------------------------------

    def _tiles(self, nodes: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        key = ("tiles", len(nodes))
        if key not in self._cache:
            ty = np.floor(self.lat[nodes]).astype(np.int64)
            tx = np.floor(self.lon[nodes]).astype(np.int64) % 360
            order = np.lexsort((tx, ty))
            ty, tx, srt = ty[order], tx[order], nodes[order]
            cut = np.flatnonzero(np.diff(ty * 360 + tx)) + 1
            self._cache[key] = {(int(a[0]), int(b[0])): c for a, b, c in
                                zip(np.split(ty, cut), np.split(tx, cut), np.split(srt, cut), strict=True)}
        return self._cache[key]

    def _nearest(self, pts: np.ndarray, lat: np.ndarray, lon: np.ndarray, nodes: np.ndarray, k: int) -> np.ndarray:
        """For each point, the k of ``nodes`` nearest to it, searched in the square of degree
        tiles round the point's own, widened until it holds 4k nodes."""
        tiles = self._tiles(nodes)
        ty = np.floor(lat).astype(np.int64)
        tx = np.floor(lon).astype(np.int64) % 360
        out = np.empty((len(lat), k), dtype=np.int64)
        key = ty * 360 + tx
        order = np.argsort(key, kind="stable")
        for group in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
            y0, x0 = int(ty[group[0]]), int(tx[group[0]])
            cand = nodes
            for r in (1, 2, 4, 8, 16, 32):
                found = [tiles[(y, x % 360)] for y in range(y0 - r, y0 + r + 1) for x in range(x0 - r, x0 + r + 1)
                         if (y, x % 360) in tiles]
                if sum(len(f) for f in found) >= 4 * k:
                    cand = np.concatenate(found)
                    break
            dot = pts[group] @ self.xyz[cand].T
            kk = min(k, len(cand))
            best = np.argpartition(-dot, kk - 1, axis=1)[:, :kk]
            pick = cand[best]
            if kk < k:
                pick = np.concatenate([pick, np.repeat(pick[:, :1], k - kk, axis=1)], axis=1)
            out[group] = pick
        return out

    def _edge_tree(self) -> tuple[shapely.STRtree, np.ndarray]:
        """The edges as lon/lat lines (copies shifted by 360 degrees where they cross the
        antimeridian) in a search tree, and the edge each line stands for."""
        if "edge_tree" not in self._cache:
            lon_u = self.lon[self.eu]
            lon_v = lon_u + (self.lon[self.ev] - lon_u + 180.0) % 360.0 - 180.0
            coords = np.stack([np.column_stack([lon_u, self.lat[self.eu]]),
                               np.column_stack([lon_v, self.lat[self.ev]])], axis=1)
            which = np.arange(len(self.eu))
            over = np.flatnonzero((lon_v > 180.0) | (lon_v < -180.0))
            shifted = coords[over].copy()
            shifted[:, :, 0] -= np.sign(lon_v[over])[:, None] * 360.0
            lines = shapely.linestrings(np.concatenate([coords, shifted]))
            self._cache["edge_tree"] = (shapely.STRtree(lines), np.concatenate([which, over]))
        return self._cache["edge_tree"]

    def _nearest_edges(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
        """The NEAR_EDGES edges nearest to each point (in nm, in the point's local flat frame),
        with the foot of the perpendicular: (edge, t along it, distance, foot lat, foot lon)."""
        n = len(lat)
        tree, which = self._edge_tree()
        pts = shapely.points(lon, lat)
        (pi, _), d0 = tree.query_nearest(pts, return_distance=True, all_matches=False)
        reach = np.zeros(n)
        reach[pi] = d0
        # an edge nearer in nm is no farther in degrees than reach / cos(lat)
        k = np.maximum(np.cos(np.radians(lat)), 0.2)
        pi, ti = tree.query(pts, predicate="dwithin", distance=reach / k + 1e-9)
        e = which[ti]
        la, lo = lat[pi], lon[pi]
        c = np.cos(np.radians(la))
        ux, uy = ((self.lon[self.eu[e]] - lo + 180.0) % 360.0 - 180.0) * c * 60.0, (self.lat[self.eu[e]] - la) * 60.0
        vx, vy = ((self.lon[self.ev[e]] - lo + 180.0) % 360.0 - 180.0) * c * 60.0, (self.lat[self.ev[e]] - la) * 60.0
        dx, dy = vx - ux, vy - uy
        len2 = dx * dx + dy * dy
        t = np.clip(-(ux * dx + uy * dy) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)
        fx, fy = ux + t * dx, uy + t * dy
        dist = np.hypot(fx, fy)
        order = np.lexsort((e, dist, pi))  # per point, nearest first (ties: lower edge index)
        pi, e, t, dist, fx, fy = pi[order], e[order], t[order], dist[order], fx[order], fy[order]
        first = np.r_[0, np.flatnonzero(np.diff(pi)) + 1]
        rank = np.arange(len(pi)) - np.repeat(first, np.diff(np.r_[first, len(pi)]))
        keep = rank < NEAR_EDGES
        out = [np.full((n, NEAR_EDGES), fill) for fill in (0, 0.0, np.inf, np.nan, np.nan)]
        out[0] = out[0].astype(np.int64)
        rows, cols = pi[keep], rank[keep]
        out[0][rows, cols] = e[keep]
        out[1][rows, cols] = t[keep]
        out[2][rows, cols] = dist[keep]
        out[3][rows, cols] = lat[rows] + fy[keep] / 60.0
        out[4][rows, cols] = _wrap(lon[rows] + fx[keep] / (60.0 * np.cos(np.radians(lat[rows]))))
        return tuple(out)

    def attach(self, lat: np.ndarray, lon: np.ndarray) -> Joins:
        """How each point is joined to the network. A point that sees no node nor edge at all
        over water (in a harbour basin, up a river, on land) keeps every join."""
        lat = np.asarray(lat, dtype=float)
        lon = _wrap(lon)
        n = len(lat)
        edge, t, foot_nm, foot_lat, foot_lon = self._nearest_edges(lat, lon)
        missing = ~np.isfinite(foot_nm)
        pts = _unit(lat, lon)
        node = np.concatenate([self._nearest(pts, lat, lon, np.arange(self.n), NEAR_NODES),
                               self._nearest(pts, lat, lon, self.thin, FAR_NODES),
                               self.eu[edge], self.ev[edge]], axis=1)
        k = node.shape[1]
        rows = np.repeat(np.arange(n), k)
        flat = node.ravel()
        node_nm = distance_nm(lat[rows], lon[rows], self.lat[flat], self.lon[flat]).reshape(n, k)
        node_nm[:, k - 2 * NEAR_EDGES:] = np.where(np.tile(missing, 2), np.inf, node_nm[:, k - 2 * NEAR_EDGES:])
        clear: np.ndarray = np.zeros(n * k, dtype=bool)
        ok = np.isfinite(node_nm.ravel())
        clear[ok] = sees(lat[rows[ok]], lon[rows[ok]], self.lat[flat[ok]], self.lon[flat[ok]], node_nm.ravel()[ok])
        clear = clear.reshape(n, k)
        rows = np.repeat(np.arange(n), NEAR_EDGES)
        fl, fo = foot_lat.ravel(), foot_lon.ravel()
        ok = np.isfinite(fl)
        foot_clear: np.ndarray = np.zeros(n * NEAR_EDGES, dtype=bool)
        foot_clear[ok] = sees(lat[rows[ok]], lon[rows[ok]], fl[ok], fo[ok], foot_nm.ravel()[ok])
        foot_clear = foot_clear.reshape(n, NEAR_EDGES)
        blind = ~(clear.any(axis=1) | foot_clear.any(axis=1))
        clear[blind] = True
        foot_clear[blind] = True
        w = self.ew[edge]
        return Joins(node=node, node_nm=np.where(clear, node_nm, np.inf), edge=edge, u_nm=t * w,
                     v_nm=(1.0 - t) * w, foot_nm=np.where(foot_clear & ~missing, foot_nm, np.inf),
                     foot_lat=foot_lat, foot_lon=foot_lon)


@lru_cache(maxsize=1)
def graph() -> SeaGraph:
    """The network of :func:`shiptrack.routes.sea_route` (searoute's, the edges closed to
    merchant ships marked), as a :class:`SeaGraph`; read straight from searoute's data."""
    from searoute.data.marnet_dict import edge_list

    from shiptrack.routes import _CLOSED, _CLOSED_EDGES

    closed = {frozenset(e) for e in _CLOSED_EDGES}
    keys = list(edge_list)
    index = {k: i for i, k in enumerate(keys)}
    lonlat = np.asarray(keys, dtype=float)
    lon, lat = _wrap(lonlat[:, 0]), lonlat[:, 1]
    eu: list[int] = []
    ev: list[int] = []
    ew: list[float] = []
    ep: list[str | None] = []
    adj: list[list[tuple[int, int]]] = [[] for _ in keys]
    for u, nbrs in edge_list.items():
        a = index[u]
        for v, data in nbrs.items():
            b = index[v]
            if b < a:
                continue  # each edge once (the adjacency is symmetric)
            adj[a].append((b, len(eu)))
            adj[b].append((a, len(eu)))
            eu.append(a)
            ev.append(b)
            ew.append(float(data.get("weight", 0.0)) / KM_PER_NM)
            ep.append(_CLOSED if frozenset((u, v)) in closed else data.get("passage"))
    indptr, nbr, nedge = [0], [], []
    for row in adj:
        for b, e in sorted(row):
            nbr.append(b)
            nedge.append(e)
        indptr.append(len(nbr))
    cell = np.floor(lat / THIN_DEG).astype(np.int64) * 1000 + np.floor(lon / THIN_DEG).astype(np.int64)
    _, thin = np.unique(cell, return_index=True)
    return SeaGraph(lat=lat, lon=lon, xyz=_unit(lat, lon), thin=np.sort(thin), eu=np.asarray(eu),
                    ev=np.asarray(ev), ew=np.asarray(ew), epassage=ep, indptr=indptr, nbr=nbr, nedge=nedge)


def _direct_nm(lat: float, lon: float, plat: np.ndarray, plon: np.ndarray, reach_nm: np.ndarray) -> np.ndarray:
    """Straight distance from a place to each point, where the line stays at sea and is no
    longer than the point's ``reach_nm``; +inf elsewhere."""
    d = distance_nm(np.full(len(plat), lat), np.full(len(plat), lon), plat, plon)
    out = np.full(len(plat), np.inf)
    near = np.flatnonzero(d <= reach_nm)
    if len(near):
        ok = sees(np.full(len(near), lat), np.full(len(near), lon), plat[near], plon[near], d[near])
        out[near[ok]] = d[near[ok]]
    return out


@dataclass(frozen=True, eq=False)
class Sources:
    """Sea distances from one place (a port) in one network (some passages closed)."""

    lat: float
    lon: float
    closed: frozenset[str]
    dist: np.ndarray  # network distance to every node (nm)
    pred: np.ndarray

    @classmethod
    def of(cls, lat: float, lon: float, closed: frozenset[str] = BASE_CLOSED) -> Sources:
        g = graph()
        key = ("sources", round(lat, 6), round(lon, 6), closed)
        if key not in g._cache:
            j = g.attach(np.array([lat]), np.array([lon]))
            shut = g.closed_edges(closed)[j.edge[0]]
            seeds = [(int(i), float(x)) for i, x in zip(j.node[0], j.node_nm[0], strict=True) if np.isfinite(x)]
            for e, ok, u_nm, v_nm, f in zip(j.edge[0], ~shut, j.u_nm[0], j.v_nm[0], j.foot_nm[0], strict=True):
                if ok and np.isfinite(f):
                    seeds += [(int(g.eu[e]), float(f + u_nm)), (int(g.ev[e]), float(f + v_nm))]
            dist, pred = g.dijkstra(seeds, closed)
            g._cache[key] = cls(lat, lon, closed, dist, pred)
        return g._cache[key]

    def _candidates(self, j: Joins) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = graph()
        by_node = self.dist[j.node] + j.node_nm
        from_u = self.dist[g.eu[j.edge]] + j.u_nm
        from_v = self.dist[g.ev[j.edge]] + j.v_nm
        by_foot = np.minimum(from_u, from_v) + j.foot_nm
        by_foot[g.closed_edges(self.closed)[j.edge]] = np.inf
        return by_node, by_foot, from_u <= from_v

    def to(self, lat: np.ndarray, lon: np.ndarray, j: Joins, direct: np.ndarray | None = None) -> np.ndarray:
        """Sea distance (nm) from this place to each point; ``j`` is :meth:`SeaGraph.attach` of
        the points, ``direct`` the straight line from here where it stays at sea (else +inf)."""
        by_node, by_foot, _ = self._candidates(j)
        out = np.minimum(by_node.min(axis=1), by_foot.min(axis=1))
        return out if direct is None else np.minimum(out, direct)

    def waypoints_to(self, lat: float, lon: float) -> list[tuple[float, float]]:
        """(lat, lon) of the shortest path at sea from this place to one point."""
        g = graph()
        la, lo = np.array([lat]), np.array([lon])
        j = g.attach(la, lo)
        by_node, by_foot, from_u = self._candidates(j)
        direct = _direct_nm(self.lat, self.lon, la, lo, j.reach_nm)[0]
        start = [(self.lat, self.lon)]
        if direct <= min(by_node.min(), by_foot.min()):
            return [*start, (lat, lon)]
        if by_node.min() <= by_foot.min():
            nodes = g.path(self.pred, int(j.node[0, np.argmin(by_node[0])]))
            return [*start, *((float(g.lat[i]), float(g.lon[i])) for i in nodes), (lat, lon)]
        c = int(np.argmin(by_foot[0]))
        e = int(j.edge[0, c])
        nodes = g.path(self.pred, int(g.eu[e] if from_u[0, c] else g.ev[e]))
        foot = (float(j.foot_lat[0, c]), float(j.foot_lon[0, c]))
        return [*start, *((float(g.lat[i]), float(g.lon[i])) for i in nodes), foot, (lat, lon)]


@dataclass(frozen=True)
class Route:
    """One reasonable route of a leg: the network it runs in, its length and its passages."""

    closed: frozenset[str]  # passages closed (BASE_CLOSED and those it avoids)
    length_nm: float
    passages: tuple[str, ...]  # named passages it goes through, in order

    @property
    def avoiding(self) -> tuple[str, ...]:
        return tuple(sorted(self.closed - BASE_CLOSED))


def _length(a: tuple[float, float], b: tuple[float, float], closed: frozenset[str]) -> tuple[float, list[int]]:
    """Sea distance from a to b in a network, and the nodes of the path."""
    g = graph()
    src = Sources.of(*a, closed)
    bl, bo = np.array([b[0]]), np.array([b[1]])
    j = g.attach(bl, bo)
    length = float(src.to(bl, bo, j, _direct_nm(a[0], a[1], bl, bo, j.reach_nm))[0])
    by_node, by_foot, from_u = src._candidates(j)
    if by_node.min() <= by_foot.min():
        last = int(j.node[0, np.argmin(by_node[0])])
    else:
        c = int(np.argmin(by_foot[0]))
        last = int(g.eu[j.edge[0, c]] if from_u[0, c] else g.ev[j.edge[0, c]])
    return length, g.path(src.pred, last) if np.isfinite(src.dist[last]) else []


def alternatives(a: tuple[float, float], b: tuple[float, float], max_ratio: float,
                 max_routes: int = 8) -> list[Route]:
    """The shortest sea route from a to b, then the routes found by closing, one after
    another, a named passage of the routes found so far, each kept when it is new and no
    longer than ``max_ratio`` times the shortest. Shortest first."""
    g = graph()
    length, nodes = _length(a, b, BASE_CLOSED)
    if not np.isfinite(length):
        return []
    first = Route(BASE_CLOSED, length, tuple(g.passages_on(nodes)))
    found, paths, seen, queue = [first], {tuple(nodes)}, {BASE_CLOSED}, [first]
    while queue and len(found) < max_routes:
        route = queue.pop(0)
        for p in route.passages:
            closed = route.closed | {p}
            if closed in seen:
                continue
            seen.add(closed)
            alt_len, alt_nodes = _length(a, b, closed)
            if not np.isfinite(alt_len) or alt_len > max_ratio * length or tuple(alt_nodes) in paths:
                continue  # no route, too long, or one already found (closing Bab-el-Mandeb = closing Suez)
            paths.add(tuple(alt_nodes))
            alt = Route(closed, alt_len, tuple(g.passages_on(alt_nodes)))
            found.append(alt)
            queue.append(alt)
    return sorted(found, key=lambda r: r.length_nm)[:max_routes]


def leg_pairs(optional: Sequence[bool]) -> list[tuple[int, int]]:
    """The legs a voyage may sail: from port k to port j > k, every port between them optional."""
    n = len(optional)
    return [(k, j) for k in range(n - 1) for j in range(k + 1, n) if all(optional[k + 1:j])]


@dataclass(frozen=True)
class VoyageLeg:
    k: int  # index of the port it leaves (in the declared order)
    j: int  # index of the port it makes for
    routes: tuple[Route, ...]  # shortest first

    @property
    def length_nm(self) -> float:
        return self.routes[0].length_nm


@dataclass
class Measured:
    """Per point, against the leg and route that leave it least out of the way."""

    detour_nm: np.ndarray  # how much longer that route becomes through the point
    limit_nm: np.ndarray  # the detour allowed there on that leg
    leg: np.ndarray  # index into Voyage.legs (-1: none)
    route: np.ndarray  # index into that leg's routes
    via_nm: np.ndarray  # length of that route through the point

    @property
    def outside(self) -> np.ndarray:
        return self.detour_nm > self.limit_nm


class Voyage:
    """A declared voyage's legs and their reasonable routes, measuring positions against them."""

    def __init__(self, ports: Sequence[tuple[float, float]], optional: Sequence[bool], max_ratio: float) -> None:
        self.ports = [(float(a), float(b)) for a, b in ports]
        self.legs: list[VoyageLeg] = []
        for k, j in leg_pairs(optional):
            routes = alternatives(self.ports[k], self.ports[j], max_ratio)
            if routes:
                self.legs.append(VoyageLeg(k, j, tuple(routes)))

    def measure_legs(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, legs) arrays: each point's smallest detour over each leg's routes, that route's
        index, and its length through the point."""
        lat = np.asarray(lat, dtype=float)
        lon = _wrap(lon)
        n, nl = len(lat), len(self.legs)
        detour, route, via = np.full((n, nl), np.inf), np.zeros((n, nl), dtype=np.int64), np.full((n, nl), np.inf)
        if n == 0 or nl == 0:
            return detour, route, via
        j = graph().attach(lat, lon)
        reach = j.reach_nm
        direct: dict[int, np.ndarray] = {}
        for li, leg in enumerate(self.legs):
            for i in (leg.k, leg.j):
                if i not in direct:
                    direct[i] = _direct_nm(*self.ports[i], lat, lon, reach)
            for ri, r in enumerate(leg.routes):
                through = (Sources.of(*self.ports[leg.k], r.closed).to(lat, lon, j, direct[leg.k])
                           + Sources.of(*self.ports[leg.j], r.closed).to(lat, lon, j, direct[leg.j]))
                d = np.maximum(through - r.length_nm, 0.0)
                better = d < detour[:, li]
                detour[better, li], route[better, li], via[better, li] = d[better], ri, through[better]
        return detour, route, via

    def choose(self, detour: np.ndarray, route: np.ndarray, via: np.ndarray, progress: np.ndarray,
               limit: np.ndarray) -> Measured:
        """Per point, among the legs leaving the last declared port it had called at (``progress``,
        an index into the ports) or a later one, the leg whose detour is furthest below its
        ``limit`` (an (n, legs) array)."""
        n = detour.shape[0]
        starts = np.array([leg.k for leg in self.legs], dtype=np.int64)
        may = starts[None, :] >= np.asarray(progress, dtype=np.int64)[:, None]
        excess = np.where(may, detour - limit, np.inf)
        if excess.shape[1] == 0:
            return Measured(np.full(n, np.nan), np.full(n, np.nan), np.full(n, -1), np.full(n, -1),
                            np.full(n, np.nan))
        best = np.argmin(excess, axis=1)
        rows = np.arange(n)
        ok = np.isfinite(excess[rows, best])
        pick = lambda a, fill: np.where(ok, a[rows, best], fill)  # noqa: E731
        return Measured(pick(detour, np.nan), pick(limit, np.nan), np.where(ok, best, -1), pick(route, -1),
                        pick(via, np.nan))

    def route_line(self, leg: int, route: int, spacing_nm: float = 10.0) -> list[tuple[float, float]]:
        """(lat, lon) of a leg's route from port to port, a point at least every spacing_nm."""
        from shiptrack.routes import _densify

        lg = self.legs[leg]
        pts = np.asarray(Sources.of(*self.ports[lg.k], lg.routes[route].closed).waypoints_to(*self.ports[lg.j]))
        lonlat = np.column_stack([np.unwrap(pts[:, 1], period=360.0), pts[:, 0]])
        line = _densify(lonlat, spacing_nm)
        return [(float(la), float(_wrap(lo))) for lo, la in line]

    def via_waypoints(self, leg: int, route: int, lat: float, lon: float) -> list[tuple[float, float]]:
        """(lat, lon) of the leg's route forced through a point: port, network, point, network, port."""
        r, lg = self.legs[leg].routes[route], self.legs[leg]
        there = Sources.of(*self.ports[lg.k], r.closed).waypoints_to(lat, lon)
        back = Sources.of(*self.ports[lg.j], r.closed).waypoints_to(lat, lon)
        return [*there, *back[::-1][1:]]


def simplify(points: Sequence[tuple[float, float]], tolerance_deg: float = 0.25) -> list[list[float]]:
    """A few waypoints of a (lat, lon) line: Douglas-Peucker in degrees, rounded to 0.01."""
    arr = np.asarray(points, dtype=float)
    if len(arr) >= 3:
        lon = np.unwrap(arr[:, 1], period=360.0)
        xy = shapely.get_coordinates(shapely.simplify(shapely.linestrings(np.column_stack([lon, arr[:, 0]])),
                                                      tolerance_deg))
        arr = np.column_stack([xy[:, 1], xy[:, 0]])
    return [[round(float(la), 2), round(float(_wrap(lo)), 2)] for la, lo in arr]
