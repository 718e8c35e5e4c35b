"""Port gazetteer: the NGA World Port Index (3798 ports) plus curated English aliases.

Names are compared after *folding*: accents removed, case ignored, punctuation
and spaces dropped, so "Gölcük", "GOLCUK" and "golcuk" are the same key, and
"LY BEN", "ly-ben" and "LYBEN" are the same LOCODE. Each name also has a
*core* key without port-ish noise words ("Port of", "Mersa", "Mina", "Al"/"El",
trailing "Harbor", "Terminal", "Ko", "Gang", ...), so "Sfax" finds "Mersa Sfax"
and "Port of Benghazi" finds Banghazi. Names written "A (B)" or "A/B" are also
indexed under "A" and "B".

`resolve_port` accepts only exact matches and tries, in this order:

1. the full folded key against the aliases, main and alternate names;
2. the key as a UN/LOCODE (5 characters);
3. the core key against the core keys of all names;
4. a country qualifier: "Tripoli, Lebanon", "Tripoli (LB)", "Alexandria, US"
   filter steps 1-3 by country name or ISO code.

When a step matches several ports the winner is, in order: a curated alias
(`data/port_aliases.csv` decides on purpose, e.g. "Tripoli" is Libya's Mina
Tarabulus, the only port the WPI itself calls "Tripoli"; Lebanon's is
"Tripoli, Lebanon", "Tarabulus" or LBKYE), then the larger WPI harbour size,
then a main name over an alternate over a part of a name, then the lower WPI
number. No match raises `PortNotFound` with the closest names as suggestions.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import polars as pl
from rapidfuzz import fuzz, process

from shiptrack.errors import PortNotFound

__all__ = ["Port", "load_ports", "ports_frame", "resolve_port", "search_ports", "suggestions"]

_HARBOR_RANK = {"Large": 4, "Medium": 3, "Small": 2, "Very Small": 1}
_ALIAS, _MAIN, _ALT, _PART = -1, 0, 1, 2  # where a name comes from; lower wins ties
# Fuzzy matching scores a name against the query by rapidfuzz's ratio (0-100: the share of
# characters the two have in common, in order), on the folded names and on their cores.
# A fuzzy match scores at least _FUZZY_CUTOFF and no more than _FUZZY_WINDOW below the
# closest name: "Bengazi" finds Banghazi (93), not Bengkalis (75). (WRatio, used before,
# scored a short name inside a long one highly: "Benghazi" listed Lazi, Philippines.)
_FUZZY_CUTOFF = 75.0
_FUZZY_WINDOW = 12.0
# When nothing matches, the closest names down to this score are offered as suggestions.
_SUGGEST_CUTOFF = 50.0

_LEADING_NOISE = frozenset(
    "port porto puerto portu mina minat mersa marsa bandar bandare of the "
    "al el as az ad at ar an ash de del di do da le la".split()
)
_TRAILING_NOISE = frozenset(
    "port harbor harbour harbors harbours terminal terminals oil marine ko gang limani burnu "
    "roads anchorage jetty wharf".split()
)
_COUNTRY_SYNONYMS = {"usa": "US", "uk": "GB", "britain": "GB", "turkiye": "TR", "russianfederation": "RU"}
_FOLD_TABLE = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "þ": "th", "ð": "d"}
)


@dataclass(frozen=True, slots=True)
class Port:
    port_id: int  # World Port Index number
    name: str  # WPI main name, e.g. "Banghazi"
    alt_names: tuple[str, ...]  # WPI alternate names, e.g. ("Bengasi",)
    country: str  # WPI country name, e.g. "Libya"
    locode: str | None  # UN/LOCODE without the space, e.g. "LYBEN"
    lat: float  # degrees, WPI precision (about 0.01 degree)
    lon: float
    harbor_size: str | None  # "Large", "Medium", "Small", "Very Small" or None


@dataclass(frozen=True, slots=True)
class _Entry:
    full: str  # folded key without spaces
    core: str  # the same without noise words
    spaced: str  # folded words joined by spaces, for fuzzy matching
    port: int  # index into _Index.ports
    source: int  # _ALIAS, _MAIN, _ALT or _PART


@dataclass(frozen=True, slots=True)
class _Index:
    ports: tuple[Port, ...]
    entries: tuple[_Entry, ...]
    by_full: dict[str, list[_Entry]]
    by_core: dict[str, list[_Entry]]
    by_locode: dict[str, list[int]]
    iso2: dict[str, str]  # country name -> ISO 3166 alpha-2 from its LOCODEs


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: "Bur Sa'id" -> "bur said"."""
    t = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD_TABLE))
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"['\u2019\u02bc`\u00b4]", "", t)
    return " ".join(re.findall(r"[a-z0-9]+", t))


def name_key(text: str) -> str:
    """Folded key without spaces: "LY BEN" -> "lyben", "Gölcük" -> "golcuk"."""
    return fold(text).replace(" ", "")


def core_key(text: str) -> str:
    """Key without port-ish noise words: "Port of Le Havre" -> "havre", "Mersa Sfax" -> "sfax"."""
    words = fold(text).split()
    while len(words) > 1 and words[0] in _LEADING_NOISE:
        words.pop(0)
    while len(words) > 1 and words[-1] in _TRAILING_NOISE:
        words.pop()
    return "".join(words)


def _name_parts(name: str) -> list[str]:
    """ "Mina Tarabulus (Tripoli)" -> ["Mina Tarabulus", "Tripoli"]; "Sidon/zahrani Terminal" -> 2 parts."""
    parts = [p for p in re.split(r"[()/]", name) if p.strip()]
    return [p.strip(" -") for p in parts] if len(parts) > 1 else []


def _data_text(name: str) -> str:
    return resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _ports() -> tuple[Port, ...]:
    rows = csv.DictReader(_data_text("ports.csv").splitlines())
    return tuple(
        Port(
            port_id=int(r["port_id"]),
            name=r["name"],
            alt_names=tuple(a for a in r["alt_names"].split(";") if a),
            country=r["country"],
            locode=r["locode"] or None,
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            harbor_size=r["harbor_size"] or None,
        )
        for r in rows
    )


def load_ports() -> list[Port]:
    """Every port in the bundled gazetteer, sorted by WPI number (loaded once, then cached)."""
    return list(_ports())


def ports_frame() -> pl.DataFrame:
    """The gazetteer as a table (port_id, name, country, locode, lat, lon), e.g. for DuckDB."""
    ports = _ports()
    return pl.DataFrame(
        {
            "port_id": [p.port_id for p in ports],
            "name": [p.name for p in ports],
            "country": [p.country for p in ports],
            "locode": [p.locode for p in ports],
            "lat": [p.lat for p in ports],
            "lon": [p.lon for p in ports],
        },
        schema={
            "port_id": pl.Int64,
            "name": pl.String,
            "country": pl.String,
            "locode": pl.String,
            "lat": pl.Float64,
            "lon": pl.Float64,
        },
    )


def _entry(name: str, port: int, source: int) -> _Entry | None:
    full = name_key(name)
    return _Entry(full, core_key(name), fold(name), port, source) if full else None


@lru_cache(maxsize=1)
def _index() -> _Index:
    ports = _ports()
    row_of = {p.port_id: i for i, p in enumerate(ports)}
    entries: list[_Entry | None] = []
    for i, p in enumerate(ports):
        entries.append(_entry(p.name, i, _MAIN))
        entries.extend(_entry(a, i, _ALT) for a in p.alt_names)
        for name in (p.name, *p.alt_names):
            entries.extend(_entry(part, i, _PART) for part in _name_parts(name))
    for r in csv.DictReader(_data_text("port_aliases.csv").splitlines()):
        port = row_of[int(r["port_id"])]
        entries.append(_entry(r["alias"], port, _ALIAS))
        qualified = _split_qualifier(r["alias"])  # "Tripoli, Lebanon" also counts as a name "Tripoli"
        if qualified is not None:
            entries.append(_entry(qualified[0], port, _ALT))
    kept = tuple(e for e in entries if e is not None)
    by_full: dict[str, list[_Entry]] = {}
    by_core: dict[str, list[_Entry]] = {}
    for e in kept:
        by_full.setdefault(e.full, []).append(e)
        by_core.setdefault(e.core, []).append(e)
    by_locode: dict[str, list[int]] = {}
    prefixes: dict[str, Counter[str]] = {}
    for i, p in enumerate(ports):
        if p.locode:
            by_locode.setdefault(p.locode.lower(), []).append(i)
            prefixes.setdefault(p.country, Counter())[p.locode[:2]] += 1
    iso2 = {country: c.most_common(1)[0][0] for country, c in prefixes.items()}
    return _Index(ports, kept, by_full, by_core, by_locode, iso2)


def _rank(idx: _Index, port: int, source: int) -> tuple[int, int, int, int]:
    p = idx.ports[port]
    return (0 if source == _ALIAS else 1, -_HARBOR_RANK.get(p.harbor_size or "", 0), source, p.port_id)


def _best(idx: _Index, hits: list[tuple[int, int]]) -> list[int]:
    """(port, source) pairs -> distinct ports, best first."""
    best: dict[int, tuple[int, int, int, int]] = {}
    for port, source in hits:
        r = _rank(idx, port, source)
        if port not in best or r < best[port]:
            best[port] = r
    return sorted(best, key=best.__getitem__)


def _country_matches(idx: _Index, port: Port, qualifier: str) -> bool:
    q = name_key(qualifier)
    code = _COUNTRY_SYNONYMS.get(q, q.upper() if len(q) == 2 else None)
    return q == name_key(port.country) or (code is not None and idx.iso2.get(port.country) == code)


def _exact(idx: _Index, text: str, country: str | None = None) -> list[int]:
    """Ports whose name, alias or LOCODE equals `text` exactly (after folding), best first."""
    full, core = name_key(text), core_key(text)
    if not full:
        return []
    tiers = [
        [(e.port, e.source) for e in idx.by_full.get(full, [])],
        [(i, _MAIN) for i in idx.by_locode.get(full, [])] if len(full) == 5 else [],
        [(e.port, e.source) for e in idx.by_core.get(core, [])],
    ]
    for hits in tiers:
        if country is not None:
            hits = [(i, s) for i, s in hits if _country_matches(idx, idx.ports[i], country)]
        if hits:
            return _best(idx, hits)
    return []


def _split_qualifier(query: str) -> tuple[str, str] | None:
    """ "Tripoli, Lebanon" / "Tripoli (Lebanon)" -> ("Tripoli", "Lebanon")."""
    m = re.match(r"^(.+?)\s*(?:,\s*(.+)|\((.+)\))\s*$", query)
    if not m:
        return None
    return m.group(1), (m.group(2) or m.group(3)).strip()


def search_ports(query: str, limit: int = 10) -> list[Port]:
    """Ports matching `query`, best first: exact, then prefix, then substring, then fuzzy.

    Matches main and alternate names, aliases and LOCODEs, ignoring case, accents,
    punctuation and port-ish noise words. Within a tier, larger harbours come first.
    """
    idx = _index()
    if limit <= 0:
        return []
    full, core, spaced = name_key(query), core_key(query), fold(query)
    found: dict[int, None] = {}  # insertion-ordered set

    def add(ports: list[int]) -> None:
        for p in ports:
            found.setdefault(p, None)

    add(_exact(idx, query))
    if len(found) < limit and full:
        prefix = [e for e in idx.entries if e.full.startswith(full) or e.core.startswith(core)]
        add(_best(idx, [(e.port, e.source) for e in prefix]))
    if len(found) < limit and len(full) >= 3:
        inside = [e for e in idx.entries if full in e.full]
        add(_best(idx, [(e.port, e.source) for e in inside]))
    if len(found) < limit and spaced:
        add(_fuzzy(idx, query, _FUZZY_CUTOFF, limit))
    return [idx.ports[i] for i in list(found)[:limit]]


@lru_cache(maxsize=1)
def _fuzzy_choices() -> tuple[list[str], list[str]]:
    idx = _index()
    return [e.spaced for e in idx.entries], [e.core for e in idx.entries]


def _fuzzy(idx: _Index, query: str, cutoff: float, limit: int) -> list[int]:
    """Ports whose name is close to ``query`` (see _FUZZY_CUTOFF), the closest first."""
    spaced, core = fold(query), core_key(query)
    by_port: dict[int, tuple[float, tuple[int, int, int, int]]] = {}
    for text, choices in zip((spaced, core), _fuzzy_choices(), strict=True):
        if not text:
            continue
        for _, score, i in process.extract(text, choices, scorer=fuzz.ratio, limit=8 * limit, score_cutoff=cutoff):
            e = idx.entries[i]
            key = (-score, _rank(idx, e.port, e.source))
            if e.port not in by_port or key < by_port[e.port]:
                by_port[e.port] = key
    if not by_port:
        return []
    best = -min(k[0] for k in by_port.values())
    return sorted((p for p, k in by_port.items() if -k[0] >= best - _FUZZY_WINDOW), key=by_port.__getitem__)


def suggestions(query: str, limit: int = 5) -> list[str]:
    """Names to offer when ``query`` names no port: the matches of :func:`search_ports`, else
    the closest names (down to _SUGGEST_CUTOFF), 'Name (Country)' where a name is shared."""
    ports = search_ports(query, limit=limit) or [_index().ports[i] for i in
                                                 _fuzzy(_index(), query, _SUGGEST_CUTOFF, limit)[:limit]]
    names = Counter(p.name for p in ports)
    return [f"{p.name} ({p.country})" if names[p.name] > 1 else p.name for p in ports]


def resolve_port(query: str) -> Port:
    """The one port `query` names: a name, alias or UN/LOCODE ("LYBEN", "LY BEN", "ly-ben").

    Raises PortNotFound, with the closest names as suggestions, when nothing matches
    exactly. See the module docstring for how ambiguous names are settled.
    """
    idx = _index()
    hits = _exact(idx, query)
    if not hits:
        split = _split_qualifier(query)
        if split is not None:
            hits = _exact(idx, split[0], country=split[1])
    if not hits:
        raise PortNotFound(query, suggestions=suggestions(query))
    return idx.ports[hits[0]]
