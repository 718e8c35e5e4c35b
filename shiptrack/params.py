"""Parameters of rules and reports: one typed header grammar, one parser, one ``--param`` syntax.

A rule (``shiptrack/rules/*.sql``) or a report (``queries/*.sql``) declares each parameter in
its header::

    -- param: min_duration_h = 4.0            -- shortest stay reported (hours)
    -- param: bucket_min (integer) = 10       -- time bucket (minutes)
    -- param: ports (ports) = Benghazi, Tobruk -- watchlist
    -- param: since (time) = 30 days ago      -- start of the window (UTC)
    -- param: offset_h = -2                   -- a negative default

Types: ``number`` (a decimal or whole number: every continuous quantity), ``integer``
(counts), ``text``, ``time`` (ISO-8601, a date, ``now``, ``today``, ``N days ago``),
``port`` (a name, alias or UN/LOCODE, bound as its port_id) and ``ports`` (a comma-separated
list of them). Without a type, a default that reads as a number makes a ``number``, anything
else ``text``. The documentation starts at `` -- `` (a space before the dashes).

On the command line a parameter belongs to its rule: ``--param port_call.min_duration_h=12``.
An unqualified ``--param min_gap_h=3`` is accepted when exactly one of the rules run declares
that name; when several do it is refused with the list of qualified names to choose from.
Values are always bound (``$name``), never formatted into the SQL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shiptrack.errors import RuleError

TYPES = ("number", "integer", "text", "time", "port", "ports")
_LINE_RE = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s*(?:\((?P<type>[a-z]+)\))?\s*=\s*(?P<default>.*?)\s*(?:(?<=\s)--\s*(?P<doc>.*)|--\s*(?P<doc0>.*))?$"
)
_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Param:
    """One declared parameter: its name, type, default (as written) and documentation."""

    name: str
    type: str
    default: str
    doc: str = ""

    def parse(self, text: str, owner: str = "", now: datetime | None = None) -> Any:  # noqa: ANN401
        """The value the SQL receives for ``text`` (RuleError naming the flag if it is not one):
        a number, text, time, port id or list of them. ``now``: what 'now' and 'N days ago' count
        from (the wall clock if None)."""
        t = text.strip()
        flag = f"--param {owner + '.' if owner else ''}{self.name}={text!r}"
        if self.type in ("number", "integer"):
            if not _NUMBER_RE.fullmatch(t):
                want = "a whole number like 5" if self.type == "integer" else "a number like 5 or 5.5"
                raise RuleError(f"{flag}: expected {want}")
            value = float(t)
            if not math.isfinite(value):
                raise RuleError(f"{flag}: expected a finite number")
            if self.type == "integer":
                if value != int(value):
                    raise RuleError(f"{flag}: expected a whole number like 5 ({self.doc or self.name} counts)")
                return int(value)
            return int(value) if re.fullmatch(r"[+-]?\d+", t) else value
        if self.type == "time":
            if t == "":
                return None
            from shiptrack.times import parse_utc, parse_when

            try:
                return parse_when(t, now)
            except ValueError:
                try:
                    return parse_utc(t)
                except ValueError as err:
                    raise RuleError(f"{flag}: expected a time like 2018-02-01 or '7 days ago'") from err
        if self.type in ("port", "ports"):
            from shiptrack.reference.ports import resolve_port

            names = [n.strip() for n in t.split(",") if n.strip()] if self.type == "ports" else [t]
            ids = [resolve_port(n).port_id for n in names]
            return ids if self.type == "ports" else ids[0]
        return t

    def value(self, text: str | None = None, owner: str = "", default_now: datetime | None = None) -> Any:  # noqa: ANN401
        """The value for ``text``, or for the default when None (a relative default, '30 days
        ago', counted from ``default_now`` when given: the newest data of an archive)."""
        if text is None:
            return self.parse(self.default, owner, default_now)
        return self.parse(text, owner)


def _implied_type(default: str) -> str:
    return "number" if _NUMBER_RE.fullmatch(default.strip()) else "text"


def parse_param_line(text: str, where: str) -> Param:
    """``name (type) = default -- doc`` (the text after ``-- param:``) -> a :class:`Param`."""
    m = _LINE_RE.match(text.strip())
    if not m:
        raise RuleError(f"{where}: bad param line {text!r}; write `-- param: name (type) = default -- doc`")
    kind = m.group("type") or _implied_type(m.group("default"))
    if kind not in TYPES:
        raise RuleError(f"{where}: param {m.group('name')}: unknown type {kind!r}; types are {', '.join(TYPES)}")
    p = Param(m.group("name"), kind, m.group("default"), (m.group("doc") or m.group("doc0") or "").strip())
    if kind in ("number", "integer"):
        p.parse(p.default, where)  # a default of the wrong type is the header's mistake, said now
    return p


@dataclass
class Header:
    """What a rule's or report's header declares: its keys (the last of each) and its params."""

    meta: dict[str, str]
    description: str
    params: dict[str, Param]


def parse_header(text: str, where: str, keys: Iterable[str]) -> Header:
    """Read the ``-- key: value`` lines that open a rule or report file. A line that is not a
    known key continues the description (``-- description:``) if it follows it."""
    known = frozenset(keys) | {"description", "param"}
    meta: dict[str, str] = {}
    params: dict[str, Param] = {}
    desc: list[str] = []
    in_desc = False
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        body = line[2:].strip()
        key, sep, value = body.partition(":")
        key = key.strip()
        if sep and re.fullmatch(r"[a-z_]+", key) and key in known:
            value = value.strip()
            in_desc = key == "description"
            if key == "param":
                p = parse_param_line(value, where)
                params[p.name] = p
            elif key == "description":
                desc = [value]
            else:
                meta[key] = value
        elif in_desc and body:
            desc.append(body)
    return Header(meta, " ".join(desc), params)


def parse_assignments(pairs: Iterable[str]) -> list[tuple[str | None, str, str]]:
    """``--param`` values -> (owner or None, name, value text)."""
    out: list[tuple[str | None, str, str]] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        owner, dot, short = name.rpartition(".")
        if not sep or not short or (dot and not owner) or not re.fullmatch(r"[a-z_][a-z0-9_]*", short):
            raise RuleError(f"--param {pair!r}: write RULE.NAME=VALUE or NAME=VALUE, "
                            "e.g. --param port_call.min_duration_h=12")
        out.append((owner or None, short, value.strip()))
    return out


def assign(pairs: Iterable[str], owners: Mapping[str, Mapping[str, Param]], what: str = "rule",
           listing: str = "shiptrack detect --list",
           others: Mapping[str, Mapping[str, Param]] | None = None) -> dict[str, dict[str, str]]:
    """Give each ``--param`` to the rule (or report) it belongs to: {owner: {name: text}}.

    ``owners`` are the rules run (with their parameters); ``others`` the rules that exist but
    are not run (a parameter of theirs is not used, and not an error)."""
    out: dict[str, dict[str, str]] = {o: {} for o in owners}
    others = others or {}
    for owner, name, value in parse_assignments(pairs):
        if owner is not None:
            if owner not in owners:
                if owner in others:
                    continue
                raise RuleError(f"--param {owner}.{name}: no {what} {owner!r}; see `{listing}`")
            if name not in owners[owner]:
                have = ", ".join(owners[owner]) or "none"
                raise RuleError(f"--param {owner}.{name}: {what} {owner} has no parameter {name!r}; it takes: {have}")
            target = owner
        else:
            declared = [o for o, ps in owners.items() if name in ps]
            if not declared and any(name in ps for ps in others.values()):
                continue  # a parameter of a rule not run
            if not declared and len(owners) == 1:
                (only, ps), = owners.items()
                raise RuleError(f"{what} {only} has no parameter {name}; it takes: {', '.join(ps) or 'none'}")
            if not declared:
                raise RuleError(f"unknown --param {name}; see `{listing}`")
            if len(declared) > 1:
                names = ", ".join(f"{o}.{name}" for o in declared)
                raise RuleError(f"--param {name} is declared by {len(declared)} {what}s: say which one, "
                                f"--param {declared[0]}.{name}={value} (one of {names})")
            target = declared[0]
        if name in out[target] and out[target][name] != value:
            raise RuleError(f"--param {target}.{name} given twice ({out[target][name]!r} and {value!r})")
        out[target][name] = value
    return out


def values(params: Mapping[str, Param], given: Mapping[str, str], owner: str = "",
           default_now: datetime | None = None) -> dict[str, Any]:
    """Every parameter's value: the given text, else the default, parsed by its type (relative
    time defaults counted from ``default_now`` when given)."""
    return {n: p.value(given.get(n), owner, default_now) for n, p in params.items()}
