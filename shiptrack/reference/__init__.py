"""shiptrack.reference."""
