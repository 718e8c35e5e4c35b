"""shiptrack.export."""
