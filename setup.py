"""The two build steps pyproject.toml cannot declare; everything else is in pyproject.toml.

A wheel gets, besides the package:

* the shipped reports: ``queries/*.sql`` at the top of the repository (where people read
  and edit them) become ``shiptrack/queries/*.sql`` in the wheel;
* the decoding loops compiled ahead of time (``python -m shiptrack.decode.accel.build``, as
  ``make kernels`` does, here for any CPU of the machine's architecture rather than this
  one's features, so the wheel runs wherever it is copied): an ingest then starts without
  numba, as in the ``make`` install. Without a C compiler (or with
  ``SHIPTRACK_BUILD_KERNELS=0``) the wheel is built without them and numba compiles the
  loops just in time instead, the first time on each machine (10-15 s, once).

An editable install (``pip install -e .``, what ``make`` does) skips both: shiptrack reads
``queries/`` from the repository and ``make kernels`` builds the loops into the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

sys.path.insert(0, str(Path(__file__).resolve().parent / "build_backend"))
from shiptrack_build import build_kernels  # noqa: E402

ROOT = Path(__file__).resolve().parent


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib).resolve() / "shiptrack"
        queries = package / "queries"
        queries.mkdir(parents=True, exist_ok=True)
        for sql in sorted((ROOT / "queries").glob("*.sql")):
            shutil.copyfile(sql, queries / sql.name)
        if build_kernels():
            self._compile_kernels(package)

    def _compile_kernels(self, package: Path) -> None:
        """``python -m shiptrack.decode.accel.build`` on the package as built (the module records
        a fingerprint of these very sources); a failure leaves a wheel without it."""
        with tempfile.TemporaryDirectory(prefix="shiptrack-kernels-") as tmp:
            # the package as built first; pip's isolated build environment is on PYTHONPATH too
            path = os.pathsep.join(p for p in (str(package.parent), os.environ.get("PYTHONPATH")) if p)
            env = {**os.environ, "PYTHONPATH": path, "NUMBA_CACHE_DIR": tmp, "SHIPTRACK_JIT": "1"}
            cmd = [sys.executable, "-m", "shiptrack.decode.accel.build", "--output-dir", str(package / "decode" / "accel"), "--cpu", "generic"]
            sys.stderr.write("shiptrack: compiling the decoding loops (about half a minute)\n")
            done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            sys.stderr.write("shiptrack: WARNING: the decoding loops were not compiled ahead of time; numba "
                             f"will compile them on first use instead (10-15 s, once per machine):\n{tail}\n")
        else:
            sys.stderr.write(f"shiptrack: {done.stderr.strip()}\n")


class KernelDistribution(Distribution):
    """A wheel holding the compiled loops is for one platform and Python version."""

    def has_ext_modules(self) -> bool:
        return build_kernels()


setup(cmdclass={"build_py": BuildPy}, distclass=KernelDistribution)
