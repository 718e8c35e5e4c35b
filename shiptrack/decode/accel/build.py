"""Compile the loops of :mod:`shiptrack.decode.accel.kernels` ahead of time into ``shiptrack.decode.accel._kernels``.

    python -m shiptrack.decode.accel.build [--output-dir DIR] [--cpu host|generic]

``make`` runs it after installing, and building a wheel runs it too (``setup.py``). It
needs numba and a C compiler (it uses numba's ``pycc``) and takes about half a minute.
``--cpu host`` (``make``) targets this machine's CPU, as the JIT does; ``--cpu generic``
(a wheel) any CPU of its architecture, so that a wheel copied to another machine does
not stop on an instruction that machine lacks (the loops are byte and integer work, which
the host's newer instructions do not make measurably faster).
Without the module, shiptrack compiles the same loops just in time; all give the same
results.

Two things numba's pycc does not do by itself are set here: the exported functions
release the GIL, as the JIT ones do with ``nogil=True`` (an ingest decodes in one
thread while DuckDB stores in another), and the module carries the fingerprint of
the sources it was built from, so that a module left over from other sources is
not used.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings
from pathlib import Path

from shiptrack.decode.accel.kernels import AOT_MODULE, KERNELS, _parse, dispatcher, fingerprint


def _numba_type(text: str):  # noqa: ANN202 - a numba type
    """The numba type of an argument written as in :data:`KERNELS` (read by the same
    parser as the runtime check, :func:`shiptrack.decode.accel.kernels._parse`)."""
    from numba import from_dtype, types

    spec = _parse(text)
    if spec[0] == "bool":
        return types.boolean
    if spec[0] == "int":
        return types.int64
    _, dtype, ndim, contiguous, writable = spec
    return types.Array(from_dtype(dtype), ndim, "C" if contiguous else "A", readonly=not writable)


def build(output_dir: Path, cpu: str = "host") -> Path:
    """Compile every kernel into ``output_dir`` for ``cpu`` ("host" or "generic"); returns
    the module's path."""
    os.environ["SHIPTRACK_JIT"] = "1"  # the modules below bind their JIT functions
    import numba
    import numba.pycc.compiler as pycc_compiler
    from numba.core.compiler import Flags
    from numba.pycc import CC

    class _NoGilFlags(Flags):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            self.release_gil = True  # type: ignore[assignment]  # numba's Option descriptor takes a bool

    pycc_compiler.Flags = _NoGilFlags  # type: ignore[misc]  # pycc builds its wrappers with these flags

    name = AOT_MODULE.rsplit(".", 1)[1]
    cc = CC(name)
    cc.output_dir = str(output_dir)
    cc.target_cpu = "host" if cpu == "host" else ""  # "": LLVM's generic CPU of the architecture
    cc.verbose = False
    for kernel, (module, function, args) in KERNELS.items():
        py_func = getattr(importlib.import_module(module), function).py_func
        argtypes = tuple(_numba_type(a) for a in args)
        jitted = dispatcher(py_func)
        jitted.compile(argtypes)  # for the return type, as numba infers it
        cc.export(kernel, jitted.overloads[argtypes].signature.return_type(*argtypes))(py_func)
    stamp = fingerprint()

    @numba.njit
    def _fingerprint() -> int:
        return stamp

    cc.export("fingerprint", "i8()")(_fingerprint.py_func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc is marked for deprecation upstream (it works in numba 0.68)
        cc.compile()
    return output_dir / cc.output_file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output-dir", type=Path, default=Path(__file__).parent,
                    help="where to write the module (default: the installed package)")
    ap.add_argument("--cpu", choices=("host", "generic"), default="host",
                    help="this machine's CPU (default), or any of its architecture (for a wheel)")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    path = build(args.output_dir, args.cpu)
    sys.stderr.write(f"compiled {len(KERNELS)} loops into {path} ({time.perf_counter() - t:.0f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
