"""shiptrack.rules."""
