"""The voyage windows the unplanned_port_call rule reads (see shiptrack.routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from shiptrack.routes import create_voyage_windows


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """TEMP table ``voyage_windows``: each declared voyage from departure to its end."""
    create_voyage_windows(con, float(params["max_voyage_days"]), float(params["declared_port_radius_nm"]))
