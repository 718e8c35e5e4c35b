"""shiptrack: turn raw AIS radio traffic into evidence."""

from __future__ import annotations

__version__ = "0.1.0"
