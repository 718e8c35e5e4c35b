"""The compiled loops of the decoder and the loader: ahead-of-time when built, else JIT.

The loops (framing, bit-field extraction, text views, de-duplication keys) are
written once, in Python, for numba. They run in one of two ways:

* **ahead-of-time** (AOT): ``python -m shiptrack.decode.accel.build`` (run by ``make``)
  compiles them into the extension module ``shiptrack.decode.accel._kernels``. Loading it costs
  a few milliseconds; numba and LLVM are not imported at all. Numba's own start-up
  (its import, its lowering registries, loading the cached kernels) would be the
  largest fixed cost of a short ingest.
* **just-in-time** (JIT): without that module (a plain ``pip install``, a machine
  without a C compiler), with ``SHIPTRACK_JIT=1``, or when the module was built from
  other sources than these, numba compiles the same functions on first use (cached
  in ``__pycache__`` or ``NUMBA_CACHE_DIR``).

An AOT function trusts its caller with the types of its arguments: an array of
another dtype or layout would be misread, not refused. Every call therefore goes
through a check of its arguments against the signature it was built for (a few
microseconds; the loops are called once per batch, not per line), and an unexpected
argument takes the JIT path instead, so the answer is the same either way
(tests/decode/test_kernels.py compares the two paths on real files).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> (module, function, argument types). An array type is "<dtype>[...]": "[::1]"
# C-contiguous, "[:]" any strides, "[:, ::1]" a C-contiguous matrix; "ro " before it: the
# loop only reads it (the caller may pass a read-only or a writable array). A scalar is
# "i8" (an integer) or "bool".
KERNELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "frame_lines": ("shiptrack.decode.accel.vframe", "_frame_lines", ("ro u1[::1]", "ro i8[::1]", "ro i8[::1]", "bool")),
    "decode": ("shiptrack.decode.accel.fast", "_decode", (
        "ro u1[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "ro b1[::1]",
        "ro u1[::1]", "ro i8[::1]", "ro i2[::1]", "ro i1[::1]", "ro i1[::1]", "bool")),
    "matrix_views": ("shiptrack.decode.accel.fast", "_matrix_views", ("ro u1[:, ::1]", "ro i8[::1]")),
    "text_views": ("shiptrack.decode.accel.batch", "_text_views", (
        "ro u1[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "ro i8[::1]", "i8")),
    "eta_views": ("shiptrack.decode.accel.batch", "_eta_views", ("ro i1[::1]",) * 5),
    "station_times": ("shiptrack.decode.accel.batch", "_station_times", ("ro i2[::1]",) + ("ro i1[::1]",) * 5),
    "hash_spans": ("shiptrack.decode.accel.dedup", "_hash_spans", (
        "ro u1[::1]", "ro u8[:]", "ro i8[::1]", "ro i8[::1]", "ro b1[::1]", "u8[::1]")),
    "fill_slots": ("shiptrack.decode.accel.dedup", "_fill_slots", ("ro u8[::1]", "i8[::1]")),
    "seen_in": ("shiptrack.decode.accel.dedup", "_seen_in", (
        "ro i8[::1]", "ro u8[::1]", "ro i8[::1]", "ro i8[::1]", "ro u8[::1]", "ro i8[::1]", "ro i8[::1]", "i8",
        "b1[::1]")),
}

AOT_MODULE = "shiptrack.decode.accel._kernels"

# The files whose code the AOT module was built from: a module built from other
# versions of them is not used (see fingerprint()).
_SOURCES = ("kernels.py", "vframe.py", "fast.py", "batch.py", "dedup.py")


def fingerprint() -> int:
    """A 60-bit digest of the kernels' source files, compiled into the AOT module."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return int(h.hexdigest()[:15], 16)


# -- JIT: the functions become numba dispatchers on first use --------------------------

_lazy: dict[str, list[Callable[..., Any]]] = {}  # module -> its marked functions, in order
_dispatchers: dict[Callable[..., Any], Any] = {}  # marked function -> numba dispatcher
_lock = threading.Lock()


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a loop for numba (``njit(cache=True, nogil=True)``), without importing numba
    now: the module's marked functions are compiled together on the first call of any
    of them, because a loop calling a helper needs the helper compiled too."""
    _lazy.setdefault(fn.__module__, []).append(fn)
    return _Lazy(fn)


class _Lazy:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.py_func = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:  # noqa: ANN401
        return dispatcher(self.py_func)(*args)


def dispatcher(fn: Callable[..., Any]) -> Any:  # noqa: ANN401 - numba's CPUDispatcher
    """The numba dispatcher of a marked function. The first call makes every marked
    function of its module a dispatcher, in the module too (where numba looks up the
    helpers a loop calls); a name holding an AOT function keeps it."""
    if fn not in _dispatchers:
        with _lock:
            if fn not in _dispatchers:
                import numba

                names = sys.modules[fn.__module__].__dict__
                made = {f: numba.njit(cache=True, nogil=True)(f) for f in _lazy[fn.__module__]}
                for f, d in made.items():
                    if isinstance(names.get(f.__name__), _Lazy):
                        names[f.__name__] = d
                _dispatchers.update(made)  # last: another thread then finds the module ready
    return _dispatchers[fn]


# -- AOT: the built module, behind a check of each call's arguments ---------------------

@functools.cache
def _aot_module() -> Any:  # noqa: ANN401 - the extension module, or None
    if os.environ.get("SHIPTRACK_JIT"):
        return None
    try:
        mod = importlib.import_module(AOT_MODULE)
    except ImportError:
        return None
    if mod.fingerprint() != fingerprint():
        import warnings

        warnings.warn("shiptrack.decode.accel._kernels was built from other sources than these: numba compiles the "
                      "loops instead (slower to start); `make kernels` rebuilds it", RuntimeWarning, stacklevel=2)
        return None
    return mod


def mode() -> str:
    """'aot' when the built module is in use, else 'jit'."""
    return "jit" if _aot_module() is None else "aot"


def compiled(name: str, lazy: Callable[..., Any]) -> Callable[..., Any]:
    """The loop ``name`` of :data:`KERNELS`: its AOT build behind an argument check, or
    ``lazy`` (the :func:`jit`-marked function) when there is none."""
    mod = _aot_module()
    if mod is None:
        return lazy
    return _Checked(getattr(mod, name), tuple(_parse(a) for a in KERNELS[name][2]), lazy)


class _Checked:
    """Call the AOT function if every argument is of the type it was built for, else
    the JIT one (the same code: slower to start, but right for any type)."""

    def __init__(self, aot: Callable[..., Any], spec: tuple[tuple, ...], lazy: Callable[..., Any]) -> None:
        self.aot, self.spec, self.lazy = aot, spec, lazy
        self.py_func = getattr(lazy, "py_func", lazy)
        self.fallbacks = 0

    def __call__(self, *args: Any) -> Any:  # noqa: ANN401
        if len(args) == len(self.spec) and all(map(_fits, args, self.spec)):
            return self.aot(*args)
        self.fallbacks += 1
        return self.lazy(*args)


def readonly(a: Any) -> Any:  # noqa: ANN401 - a numpy array
    """The same array, read-only: the kernels' array arguments are all read-only ("ro" in
    :data:`KERNELS`), so that whatever the caller passes they see one type each and
    compile once."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _parse(text: str) -> tuple:
    """'ro u1[:, ::1]' -> ('array', dtype('uint8'), 2, contiguous, writable needed)."""
    import numpy as np

    readonly = text.startswith("ro ")
    text = text.removeprefix("ro ")
    if text == "bool":
        return ("bool",)
    if "[" not in text:
        return ("int",)
    code, shape = text.split("[", 1)
    dims = shape.rstrip("]").split(",")
    dtype = np.dtype("bool" if code == "b1" else code)
    return ("array", dtype, len(dims), dims[-1].strip() == "::1", not readonly)


def _fits(value: Any, spec: tuple) -> bool:  # noqa: ANN401
    import numpy as np

    kind = spec[0]
    if kind == "array":
        _, dtype, ndim, contiguous, writable = spec
        return (isinstance(value, np.ndarray) and value.dtype == dtype and value.ndim == ndim
                and (not contiguous or value.flags.c_contiguous) and (not writable or value.flags.writeable))
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and \
        -(2**63) <= int(value) < 2**63
