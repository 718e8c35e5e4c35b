"""The thin click skin: parse, make one library call, print. Errors are turned
into one line and an exit code here, and nowhere else."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# numpy's OpenBLAS starts a thread per core that polls for work; shiptrack does no linear
# algebra, and on 2 cores that thread took 2.5% of an ingest's CPU samples (perf). Set
# before numpy is first imported (the command line imports it after this module).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from shiptrack.errors import AmbiguousVessel, ShiptrackError  # noqa: E402
from shiptrack.safe_text import terminal  # noqa: E402


class Context:
    def __init__(self, db: Path | None, wait_s: float) -> None:
        self.db = db
        self.wait_s = wait_s

    def connect(self, read_only: bool = False, confined: bool = False):  # noqa: ANN201 - duckdb connection
        """The store; ``confined`` for user SQL (query, reports): read-only, no files."""
        from shiptrack.store.db import connect

        return connect(self.db, read_only=read_only, wait_s=self.wait_s, confined=confined)


class ShiptrackGroup(click.Group):
    """Translate ShiptrackError into a one-line message and its exit code."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except AmbiguousVessel as err:
            click.echo(f"shiptrack: {terminal(err)}", err=True)
            for c in err.candidates:
                click.echo("  " + "  ".join(f"{k}={terminal(v)}" for k, v in c.items() if v is not None), err=True)
            sys.exit(err.exit_code)
        except ShiptrackError as err:
            click.echo(f"shiptrack: {terminal(err)}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=ShiptrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), envvar="SHIPTRACK_DB",
    help="DuckDB store to use [default: ./shiptrack.duckdb, or $SHIPTRACK_DB].",
)
@click.option(
    "--wait", "wait_s", type=float, default=30.0, show_default=True,
    help="Seconds to wait for a database that another process is writing.",
)
@click.version_option(package_name="shiptrack")
@click.pass_context
def main(ctx: click.Context, db: Path | None, wait_s: float) -> None:
    """shiptrack: turn raw AIS radio traffic into evidence.

    \b
    Decode AIS archives into a DuckDB store with provenance, detect the
    behaviours that reveal hidden voyages, and investigate one vessel.

    \b
      shiptrack ingest fixtures/ural/ural.nmea
      shiptrack decode fixtures/ural/ural.nmea --format jsonl | head
    """
    ctx.obj = Context(db, wait_s)


from shiptrack.cli import detect as _detect  # noqa: E402,F401  (registers commands)
from shiptrack.cli import ingest as _ingest  # noqa: E402,F401
from shiptrack.cli import investigate as _investigate  # noqa: E402,F401
from shiptrack.cli import reference as _reference  # noqa: E402,F401
from shiptrack.cli import reports as _reports  # noqa: E402,F401


def run() -> None:
    """The ``shiptrack`` command (and ``python -m shiptrack``): :func:`main`, then a quick exit.

    Every command has closed its store and written its output when ``main`` returns; what
    is left is the interpreter's teardown, which takes about 0.2-0.3 s when numba has
    compiled the decoding kernels just in time (LLVM's and numba's finalisers; not with the
    module built ahead of time, see shiptrack.kernels). Flushing the output and leaving
    with ``os._exit`` skips it. (Only here: a test calling ``main`` in-process
    gets the normal ``SystemExit``.)
    """
    try:
        main()
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `shiptrack decode ... | head`: the reader has gone
        pass
    except OSError:
        code = code or 1
    os._exit(code or 0)
