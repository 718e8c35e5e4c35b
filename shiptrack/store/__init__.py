"""shiptrack.store."""
