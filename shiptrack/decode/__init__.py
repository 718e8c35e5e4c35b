"""shiptrack.decode."""
