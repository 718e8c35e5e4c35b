"""``shiptrack --db LAKE/ detect``: the rules, run by DuckDB on the lake's views.

The rules run unchanged (shiptrack.rules.registry) on :func:`open_lake`'s connection,
whose ``events`` is an in-memory table holding the lake's events; when every rule has
run, that table replaces the lake's ``events/`` folder in one step. A run that fails or
is killed leaves the lake's events as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from shiptrack.lake.session import rewriting
from shiptrack.rules import registry


def detect_lake(
    path: str | os.PathLike[str],
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    params: Iterable[str] | dict[str, str] | None = None,
    extra_dirs: Iterable[Path] = (),
    wait_s: float = 30.0,
) -> registry.DetectSummary:
    """Run the selected rules (all by default) on the lake and replace its events."""
    with rewriting(path, ["events"], wait_s) as con:
        return registry.run(con, kinds, since, until, params, extra_dirs)
