"""Detection rules: self-describing SQL files, bound parameters, deterministic events.

A rule is ``shiptrack/rules/<name>.sql``: one SELECT statement over the store,
opened by a header that the registry reads (and ``shiptrack detect --list`` prints)::

    -- kind: dark_period, ais_gap
    -- title: Dark periods near ports
    -- description: consecutive positions of one vessel at least min_gap_h apart ...
    -- after: port_call
    -- param: min_gap_h = 6          -- hours between consecutive positions
    -- param: port_radius_nm = 50    -- a gap end this close to a port makes it dark_period

The header grammar and the ``--param`` syntax (``--param gaps.min_gap_h=12``) are those of
:mod:`shiptrack.params`, shared with the reports.

Parameters are bound (``$min_gap_h``), never formatted into the SQL; ``$since`` and
``$until`` (TIMESTAMPTZ or NULL) are always available. The statement returns the
columns of :data:`RULE_COLUMNS`; the registry adds ``event_id`` (a hash of
kind|mmsi|other_mmsi|start_utc|port, and the ``event_key`` of ``details`` if the rule
sets one to tell apart several events of one vessel at one time; re-running gives the same ids),
``duration_h`` and ``detected_at``, and replaces that kind's events in the window.

Where SQL is awkward (sea distances and detours, the land mask, segmenting a track that
two transmitters share), a module ``shiptrack.rules.<name>`` defines
``prepare(con, params, since, until)`` that creates TEMP tables the SQL reads, and
:func:`prepare_step` names it.

Before any rule runs, :func:`prepare_inputs` creates the TEMP table ``pos``: the
positions with a place, in the detection window, with ``seg`` (track segment), ``rn``
(order in the segment) and ``n_ts`` (the time of the segment's next position), see
``shiptrack.rules.segments``. Order by ``ts, dup_key``: the content-based tiebreak
``dup_key`` keeps results independent of the order in which files were ingested.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from shiptrack.errors import RuleError, first_line
from shiptrack.params import Param, assign, parse_header
from shiptrack.params import values as param_values
from shiptrack.store.db import check_select, confine

RULE_COLUMNS = (
    "kind", "mmsi", "other_mmsi", "start_utc", "end_utc", "lat", "lon",
    "port", "port_id", "port_distance_nm", "details", "evidence",
)
_HEADER_KEYS = frozenset({"kind", "title", "description", "after", "param"})
_BIND_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass
class Rule:
    name: str
    kinds: list[str]
    title: str
    description: str
    params: dict[str, Param]
    sql: str
    path: Path
    after: list[str] = field(default_factory=list)

    def header_lines(self) -> list[str]:
        """Each parameter as it is set on the command line, with its default, type and meaning."""
        return [f"--param {self.name}.{p.name}={p.default}  ({p.type})" + (f"  {p.doc}" if p.doc else "")
                for p in self.params.values()]


def parse_rule(path: Path, text: str | None = None) -> Rule:
    """Read a rule file's header (the grammar of :mod:`shiptrack.params`) and SQL; raise
    RuleError if the header is incomplete."""
    text = text if text is not None else path.read_text(encoding="utf-8")
    head = parse_header(text, path.name, _HEADER_KEYS)
    meta = head.meta
    if "kind" not in meta or "title" not in meta or not head.description:
        raise RuleError(f"{path.name}: header needs `-- kind:`, `-- title:` and `-- description:` lines")
    return Rule(
        name=path.stem,
        kinds=[k.strip() for k in meta["kind"].split(",") if k.strip()],
        title=meta["title"],
        description=head.description,
        params=head.params,
        sql=text,
        path=path,
        after=[a.strip() for a in meta.get("after", "").split(",") if a.strip()],
    )


def load_rules(extra_dirs: Iterable[Path] = ()) -> dict[str, Rule]:
    """The shipped rules plus any in ``extra_dirs``, by name, in dependency order."""
    rules: dict[str, Rule] = {}
    shipped = resources.files("shiptrack.rules")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            rules[entry.name[:-4]] = parse_rule(Path(str(entry)), entry.read_text(encoding="utf-8"))
    for d in extra_dirs:
        for p in sorted(Path(d).glob("*.sql")):
            rules[p.stem] = parse_rule(p)
    return _ordered(rules)


def _ordered(rules: dict[str, Rule]) -> dict[str, Rule]:
    done: dict[str, Rule] = {}

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in stack:
            raise RuleError(f"rules depend on each other in a cycle: {' > '.join((*stack, name))}")
        rule = rules[name]
        for dep in rule.after:
            if dep in rules:
                visit(dep, (*stack, name))
        done[name] = rule

    for name in sorted(rules):
        visit(name, ())
    return done


def kinds_index(rules: dict[str, Rule]) -> dict[str, Rule]:
    return {k: r for r in rules.values() for k in r.kinds}


def parse_params(pairs: Iterable[str]) -> list[str]:
    """The ``--param`` texts, as given (:func:`run` gives each to its rule)."""
    return list(pairs)


@dataclass
class DetectSummary:
    counts: dict[str, int] = field(default_factory=dict)  # kind -> events now in the window
    rules_run: list[str] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule -> effective params
    since: datetime | None = None
    until: datetime | None = None


def _pairs(params: Iterable[str] | dict[str, str] | None) -> list[str]:
    """``--param`` texts; a dict {name: value} is taken as NAME=VALUE pairs."""
    if params is None:
        return []
    if isinstance(params, dict):
        return [f"{k}={v}" for k, v in params.items()]
    return list(params)


def prepare_inputs(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> None:
    """TEMP table ``pos``: placed positions in the window, segmented, with their neighbours."""
    from shiptrack.rules import segments

    segments.prepare(con, since, until)


def select(
    kinds: Iterable[str] | None = None,
    params: Iterable[str] | dict[str, str] | None = None,
    extra_dirs: Iterable[Path] = (),
) -> tuple[list[Rule], dict[str, dict[str, Any]]]:
    """The rules to run (all by default, in dependency order) and each one's parameter values,
    from ``--param`` texts: what :func:`run` runs, and what a partitioned engine runs per task."""
    rules = load_rules(extra_dirs)
    by_kind = kinds_index(rules)
    selected: list[Rule]
    if kinds:
        wanted = set()
        for k in kinds:
            if k in rules:
                wanted.add(k)
            elif k in by_kind:
                wanted.add(by_kind[k].name)
            else:
                raise RuleError(f"no rule or event kind {k!r}; see `shiptrack detect --list`")
        selected = [r for r in rules.values() if r.name in wanted]
    else:
        selected = list(rules.values())
    run_names = {r.name for r in selected}
    given = assign(_pairs(params), {r.name: r.params for r in selected},
                   others={r.name: r.params for r in rules.values() if r.name not in run_names})
    return selected, {r.name: param_values(r.params, given[r.name], r.name) for r in selected}


def run(
    con: duckdb.DuckDBPyConnection,
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    params: Iterable[str] | dict[str, str] | None = None,
    extra_dirs: Iterable[Path] = (),
    *,
    prepared: bool = False,
) -> DetectSummary:
    """Run the selected rules (all by default) and replace their events in the window.
    ``params``: ``--param`` texts, ``RULE.NAME=VALUE`` or ``NAME=VALUE`` (see shiptrack.params).
    ``prepared``: the caller made TEMP table ``pos`` (the Spark engine segments each vessel's
    whole track once, then hands each task its share)."""
    selected, values_of = select(kinds, params, extra_dirs)
    summary = DetectSummary(since=since, until=until)
    for rule in selected:
        check_select(rule.sql.strip().rstrip(";"), f"rule {rule.path.name}")
    # rules read the store and write findings only through this module: no files, no
    # extensions, on this connection from now on (prepare steps pass data with con.register)
    confine(con, lock=False)
    # one transaction for the whole run: killed at any point, the store keeps the events
    # it had; it never shows some rules' new events beside others' old ones
    con.execute("BEGIN TRANSACTION")
    try:
        if not prepared:
            prepare_inputs(con, since, until)
        now = datetime.now(UTC)
        for rule in selected:
            summary.params[rule.name] = values_of[rule.name]
            _run_rule(con, rule, values_of[rule.name], since, until, now)
            summary.rules_run.append(rule.name)
            for kind in rule.kinds:
                summary.counts[kind] = con.execute(
                    "SELECT count(*) FROM events WHERE kind = $k AND ($since IS NULL OR start_utc >= $since) "
                    "AND ($until IS NULL OR start_utc < $until)",
                    {"k": kind, "since": since, "until": until},
                ).fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return summary


PrepareStep = Callable[[duckdb.DuckDBPyConnection, dict[str, Any], datetime | None, datetime | None], None]


def prepare_step(name: str) -> PrepareStep | None:
    """The Python step that rule ``name`` runs before its SQL (the TEMP tables the SQL reads),
    or None: one table of the shipped rules that have one, each imported when its rule runs."""
    if name == "gaps":
        from shiptrack.rules.gaps import prepare as gaps
        return gaps
    if name == "port_call":
        from shiptrack.rules.port_call import prepare as port_call
        return port_call
    if name == "position_on_land":
        from shiptrack.rules.position_on_land import prepare as position_on_land
        return position_on_land
    if name == "route_deviation":
        from shiptrack.rules.route_deviation import prepare as route_deviation
        return route_deviation
    if name == "unplanned_port_call":
        from shiptrack.rules.unplanned_port_call import prepare as unplanned_port_call
        return unplanned_port_call
    return None


def _run_rule(
    con: duckdb.DuckDBPyConnection, rule: Rule, values: dict[str, Any],
    since: datetime | None, until: datetime | None, now: datetime,
) -> None:
    step = prepare_step(rule.name)
    if step is not None:
        step(con, values, since, until)
    bind = {**values, "since": since, "until": until}
    used = {name: bind[name] for name in set(_BIND_RE.findall(rule.sql)) if name in bind}
    missing = set(_BIND_RE.findall(rule.sql)) - set(bind)
    if missing:
        raise RuleError(f"{rule.path.name}: uses ${', $'.join(sorted(missing))} without a `-- param:` line")
    body = rule.sql.strip().rstrip(";")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _found AS {body}", used)
        cols = [r[0] for r in con.execute("DESCRIBE _found").fetchall()]
        if cols not in (list(RULE_COLUMNS), [*RULE_COLUMNS, "segment"]):
            raise RuleError(f"{rule.path.name}: returns {cols}, expected {list(RULE_COLUMNS)} "
                            "(and optionally segment)")
        segment = "segment" if cols[-1] == "segment" else "CAST(NULL AS INTEGER)"
        bad = con.execute(
            "SELECT DISTINCT kind FROM _found WHERE kind NOT IN (SELECT unnest($kinds))", {"kinds": rule.kinds}
        ).fetchall()
        if bad:
            raise RuleError(f"{rule.path.name}: returns kind {bad[0][0]!r} not listed in its header")
        con.execute(
            "DELETE FROM events WHERE kind IN (SELECT unnest($kinds)) "
            "AND ($since IS NULL OR start_utc >= $since) AND ($until IS NULL OR start_utc < $until)",
            {"kinds": rule.kinds, "since": since, "until": until},
        )
        con.execute(
            f"""
            INSERT OR REPLACE INTO events BY NAME
            SELECT substr(md5(concat_ws('|', kind, mmsi, coalesce(CAST(other_mmsi AS VARCHAR), ''),
                                        strftime(start_utc AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S'),
                                        coalesce(port, ''))
                             || coalesce('|' || json_extract_string(CAST(details AS JSON), '$.event_key'), '')
                             || CASE WHEN coalesce(seg, 0) <> 0 THEN '|seg' || CAST(seg AS VARCHAR) ELSE '' END),
                          1, 16) AS event_id,
                   kind, mmsi, other_mmsi, start_utc, end_utc,
                   round(seconds_between(start_utc, end_utc) / 3600.0, 2) AS duration_h,
                   lat, lon, port, port_id, round(port_distance_nm, 2) AS port_distance_nm,
                   CAST(details AS JSON) AS details, evidence, $now AS detected_at, seg AS segment
            FROM (SELECT *, CAST({segment} AS INTEGER) AS seg FROM _found)
            WHERE ($since IS NULL OR start_utc >= $since) AND ($until IS NULL OR start_utc < $until)
            """,  # noqa: S608 - the segment expression is one of two constants
            {"since": since, "until": until, "now": now},
        )
        con.execute("DROP TABLE _found")
    except duckdb.Error as err:
        raise RuleError(f"rule {rule.name} failed: {first_line(err)}") from err

