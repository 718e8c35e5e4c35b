"""Human time expressions for parameters and options: '7 days ago', 'now', 'today'."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_AGO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minute|hour|day|week)s?\s+ago\s*$", re.I)


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """'now', 'today' (00:00 UTC), 'N minutes|hours|days|weeks ago'; else ValueError."""
    now = now or datetime.now(UTC)
    t = text.strip().lower()
    if t == "now":
        return now
    if t == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    m = _AGO_RE.match(t)
    if m:
        n, unit = float(m.group(1)), m.group(2).lower()
        return now - timedelta(**{unit + "s": n})
    raise ValueError(text)
