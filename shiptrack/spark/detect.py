"""``shiptrack detect --engine spark``: every rule, as Spark tasks that run the DuckDB engine.

One source of truth: a task is an in-memory DuckDB store holding a share of the data, on
which ``shiptrack.rules.registry`` runs the rules' own SQL and Python steps unchanged
(shiptrack.spark.partition). Spark decides who gets which rows:

1. **Segments, per vessel.** Tasks split the vessels by ``mmsi % shares`` and segment each
   whole track (``pos``: the rows every rule reads). Spark keeps them (memory, else disk).
2. **Per-vessel rules, per share.** A share's task gets its vessels' ``pos`` rows, plus what
   the two rules that look beyond one vessel need from the others: the gaps rule counts
   the other vessels heard near its gaps (their rows in those coverage cells and hours
   travel to the task: a Spark join on cell and hour range), and identity_change compares
   the MMSIs that reported one IMO (their static reports are read too). Coverage and
   archive holes come from the ``coverage`` table, which every task reads whole, and
   whether the store heard more than one vessel is decided once for all.
3. **Rules about several vessels (sts_encounter), per space cell with a halo.** Each row
   goes to its ``cell_deg`` cell and to every cell whose halo (``halo_deg``) holds it; cells
   are dealt to ``shares`` tasks, each running the rule once over its cells' rows. A task
   keeps the meetings whose anchor (the lower MMSI's position at the start) is in one of its
   own cells: a meeting on a border is found whole by the cell it starts in, and by no
   other, as long as it stays within ``halo_deg`` of that cell.

Each task hands its events back as Arrow bytes; the driver gives them one ``detected_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shiptrack.rules import registry
from shiptrack.spark import partition

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_BLOB = "blob binary"
_KEYS = ("share", "cell_lat", "cell_lon", "h")  # what segment_share adds to pos's own columns


@dataclass(frozen=True)
class Layout:
    """How the work is cut: ``shares`` groups of vessels (0: two per executor core, so that a
    slow share does not leave a core idle); ``cell_deg`` cells with a ``halo_deg`` halo for
    the rules about several vessels."""
    shares: int = 0
    cell_deg: float = 5.0
    halo_deg: float = 0.5


def detect_events(spark: SparkSession, source: str, kinds: Iterable[str] | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  params: Iterable[str] = (), layout: Layout = Layout()) -> pa.Table:
    """The events the selected rules (all by default) find in ``source`` (a lake or a store
    file every executor can read), as the DuckDB engine's ``events`` rows."""
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    source = partition.absolute_source(source)  # an executor's working folder is not the driver's
    params = list(params)
    selected, values = registry.select(kinds, params)
    vessel_rules = [r.name for r in selected if r.name not in partition.CELL_RULES]
    cell_rules = [r.name for r in selected if r.name in partition.CELL_RULES]
    n = layout.shares or 2 * spark.sparkContext.defaultParallelism

    def segment(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for k in batch.column(0).to_pylist():
                yield from partition.segment_share(source, n, k, since, until).to_batches()

    pos_arrow = partition.pos_schema()
    pos = (spark.range(n, numPartitions=n)
           .mapInArrow(segment, from_arrow_schema(pos_arrow))
           .persist(StorageLevel.MEMORY_AND_DISK))
    try:
        others = pos.select("mmsi").distinct().limit(2).count() >= 2
        found = []
        if vessel_rules:
            found.append(_vessel_stage(spark, source, pos, others, vessel_rules, values, since, until,
                                       params, n))
        if cell_rules:
            found.append(_cell_stage(pos, source, cell_rules, since, until, params, layout, n))
        blobs = [row.blob for df in found for row in df.collect()]
    finally:
        pos.unpersist()
    events = partition.from_ipc(blobs)
    if events is None:
        return pa.table({})
    ids = events.column("event_id")
    if len(set(ids.to_pylist())) != len(ids):  # a partition bug would show here, not as a wrong count
        raise RuntimeError("two tasks found the same event: the partitioning lost an event's owner")
    now = pa.array([datetime.now(UTC)] * events.num_rows, events.schema.field("detected_at").type)
    return events.set_column(events.schema.get_field_index("detected_at"), "detected_at", now)


def _vessel_stage(spark: SparkSession, source: str, pos: DataFrame, others: bool, rules: list[str],
                  values: dict[str, dict[str, Any]], since: datetime | None, until: datetime | None,
                  params: list[str], n: int) -> DataFrame:
    from pyspark.sql import functions as F

    rows = pos
    if "gaps" in rules:
        gap_params = values["gaps"]

        def places(key: tuple[Any, ...], table: pa.Table) -> pa.Table:
            found = partition.gap_places(source, table.drop_columns(list(_KEYS)), others, gap_params)
            return found.append_column("share", pa.array([key[0].as_py()] * found.num_rows, pa.int32()))

        needs = pos.groupBy("share").applyInArrow(
            places, "cell_lat smallint, cell_lon smallint, h0 long, h1 long, share int")
        p, q = pos.alias("p"), needs.alias("q")
        heard = (p.join(q, (F.col("p.cell_lat") == F.col("q.cell_lat")) & (F.col("p.cell_lon") == F.col("q.cell_lon"))
                        & (F.col("p.h") >= F.col("q.h0")) & (F.col("p.h") <= F.col("q.h1"))
                        & (F.col("p.share") != F.col("q.share")))
                 .select(*[F.col(f"p.{c}") for c in pos.columns if c != "share"], F.col("q.share").alias("share"))
                 .distinct())
        rows = pos.unionByName(heard)
    # every share gets a group, also one whose vessels sent static reports only
    marks = spark.range(n).select(F.col("id").cast("int").alias("share"), F.lit(None).cast("int").alias("mmsi"))
    if "identity_change" in rules:
        marks = marks.unionByName(_imo_context(spark, source, n))

    def run(key: tuple[Any, ...], rows: pa.Table, context: pa.Table) -> pa.Table:
        k = key[0].as_py()
        mmsis = [m for m in context.column("mmsi").to_pylist() if m is not None]
        found = partition.vessel_events(source, n, k, rows.drop_columns(list(_KEYS)), mmsis, others,
                                        since, until, params, rules)
        return pa.table({"blob": [partition.to_ipc(found)]})

    return rows.groupBy("share").cogroup(marks.groupBy("share")).applyInArrow(run, _BLOB)


def _imo_context(spark: SparkSession, source: str, n: int) -> DataFrame:
    """(share, mmsi): the MMSIs of other shares that reported an IMO number one of the share's
    vessels reported: identity_change compares them (an IMO under a new MMSI)."""
    from pyspark.sql import functions as F

    def imos(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for k in batch.column(0).to_pylist():
                con = partition.open_source(source)
                try:
                    yield from con.sql(
                        "SELECT DISTINCT mmsi, imo, CAST($k AS INTEGER) AS share FROM static_reports "
                        "WHERE imo IS NOT NULL AND mmsi % $n = $k", params={"n": n, "k": k}).to_arrow_table().to_batches()
                finally:
                    con.close()

    ids = spark.range(n, numPartitions=n).mapInArrow(imos, "mmsi int, imo int, share int")
    a, b = ids.alias("a"), ids.alias("b")
    return (a.join(b, (F.col("a.imo") == F.col("b.imo")) & (F.col("a.share") != F.col("b.share")))
            .select(F.col("a.share").alias("share"), F.col("b.mmsi").alias("mmsi")).distinct())


def _cell_stage(pos: DataFrame, source: str, rules: list[str], since: datetime | None,
                until: datetime | None, params: list[str], layout: Layout, groups: int) -> DataFrame:
    from pyspark.sql import functions as F

    deg, halo = layout.cell_deg, layout.halo_deg

    def span(col: str) -> Any:  # noqa: ANN401 - a Spark column
        return F.explode(F.sequence(F.floor((F.col(col) - halo) / deg), F.floor((F.col(col) + halo) / deg)))

    # each row goes to the task of every cell whose halo holds it, once per task
    dealt = (pos.drop(*_KEYS)
             .withColumn("cy", span("lat")).withColumn("cx", span("lon"))
             .withColumn("task", F.pmod(F.col("cy") * partition.CELL_MIX + F.col("cx"), F.lit(groups)).cast("int"))
             .drop("cy", "cx")
             .dropDuplicates(["mmsi", "seg", "rn", "task"]))

    def run(key: tuple[Any, ...], rows: pa.Table) -> pa.Table:
        found = partition.cell_events(source, int(key[0].as_py()), groups, deg, rows.drop_columns(["task"]),
                                      since, until, params, rules)
        return pa.table({"blob": [partition.to_ipc(found)]})

    return dealt.groupBy("task").applyInArrow(run, _BLOB)


def detect_lake(lake: str, master: str, kinds: Iterable[str] | None = None, since: datetime | None = None,
                until: datetime | None = None, params: Iterable[str] = (), layout: Layout = Layout(),
                wait_s: float = 30.0) -> registry.DetectSummary:
    """``shiptrack --db LAKE detect --engine spark``: run the rules on Spark at ``master`` and
    replace the selected kinds' events in the window, in one step (the lake's ``events``
    folder is swapped whole; the other kinds' events stay)."""
    from shiptrack.lake import lake_lock, open_lake, replace_table
    from shiptrack.spark.session import spark_session

    params = list(params)
    selected, values = registry.select(kinds, params)
    run_kinds = [k for r in selected for k in r.kinds]
    summary = registry.DetectSummary(since=since, until=until, rules_run=[r.name for r in selected],
                                     params=values)
    with lake_lock(lake, wait_s):
        spark = spark_session(master)
        try:
            found = detect_events(spark, lake, [r.name for r in selected], since, until, params, layout)
        finally:
            spark.stop()
        con = open_lake(lake, confined=False)
        try:
            window = ("kind IN (SELECT unnest($kinds)) AND ($since IS NULL OR start_utc >= $since) "
                      "AND ($until IS NULL OR start_utc < $until)")
            bind = {"kinds": run_kinds, "since": since, "until": until}
            kept = con.sql(f"SELECT * FROM events WHERE NOT ({window})", params=bind).to_arrow_table()  # noqa: S608
            merged = pa.concat_tables([kept, found.select(kept.column_names).cast(kept.schema)]) \
                if found.num_columns else kept
            replace_table(lake, "events", merged)
            con.register("_merged", merged)
            counts = dict(con.sql(f"SELECT kind, count(*) FROM _merged WHERE {window} GROUP BY kind",  # noqa: S608
                                  params=bind).fetchall())
        finally:
            con.close()
    summary.counts = {k: int(counts.get(k, 0)) for k in run_kinds}
    return summary
