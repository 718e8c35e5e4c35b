"""shiptrack.read."""
