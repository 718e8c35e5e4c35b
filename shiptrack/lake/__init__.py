"""A lake: the store's tables as hive-partitioned Parquet in a folder, for stores past one
DuckDB file and for other engines (Spark). See shiptrack.lake.layout for the layout."""

from shiptrack.lake.layout import is_lake, names_lake
from shiptrack.lake.read import open_lake
from shiptrack.lake.write import (
    allocate_source_ids,
    create_lake,
    lake_lock,
    replace_dir,
    replace_table,
    write_source,
)

__all__ = ["allocate_source_ids", "create_lake", "is_lake", "lake_lock", "names_lake", "open_lake",
           "replace_dir", "replace_table", "write_source"]
