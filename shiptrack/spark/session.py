"""The SparkSession shiptrack runs on: UTC, quiet, and sized for its tasks."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Each task holds one share of the vessels in an in-memory DuckDB (and Spark's Arrow
# batches of it): executor JVM memory stays small, the Python worker does the work.
EXECUTOR_MEMORY = "1g"
SHUFFLE_PARTITIONS = 16


def spark_session(master: str, *, executor_memory: str = EXECUTOR_MEMORY,
                  shuffle_partitions: int = SHUFFLE_PARTITIONS) -> SparkSession:
    """A session on ``master`` (``local[2]``, ``spark://host:7077``, ``yarn``, ...). Its
    executors run this interpreter unless PYSPARK_PYTHON says otherwise (on a real cluster:
    the Python environment shipped with spark-submit, see the README)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("shiptrack")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.executor.memory", executor_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark
