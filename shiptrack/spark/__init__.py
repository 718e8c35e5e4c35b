"""The Spark engine: shiptrack's own ingest and rules, run as Spark tasks over a lake.

Spark schedules and shuffles; every task runs the DuckDB code of the single-machine
engine (``shiptrack.ingest``, ``shiptrack.rules.registry``) on its share of the data, so
the two engines cannot drift apart. pyspark is the optional extra ``shiptrack[spark]``.
"""
