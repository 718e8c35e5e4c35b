from shiptrack.cli import run

run()
