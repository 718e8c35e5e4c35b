"""The thin click skin: parse, make one library call, print. Errors are turned
into one line and an exit code here, and nowhere else."""

from __future__ import annotations

import os
import sys

# numpy's OpenBLAS starts a thread per core that polls for work; shiptrack does no linear
# algebra, and on 2 cores that thread took 2.5% of an ingest's CPU samples (perf). Set
# before numpy is first imported (the command line imports it after this module).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from shiptrack.cli import detect as _detect  # noqa: E402,F401  (registers commands)
from shiptrack.cli import ingest as _ingest  # noqa: E402,F401
from shiptrack.cli import investigate as _investigate  # noqa: E402,F401
from shiptrack.cli import lake as _lake  # noqa: E402,F401
from shiptrack.cli import reference as _reference  # noqa: E402,F401
from shiptrack.cli import reports as _reports  # noqa: E402,F401
from shiptrack.cli.group import main  # noqa: E402


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
