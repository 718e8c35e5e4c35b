"""shiptrack's build backend: setuptools', and what compiling the decoding loops into a wheel needs.

A wheel (``pip install .``, ``pip wheel .``, ``pipx install .``, ``python -m build``) is built
with the loops of ``shiptrack.decode.accel.kernels`` compiled ahead of time into ``shiptrack/decode/accel/_kernels``
(see ``setup.py``): that needs numba, and the modules that hold the loops need shiptrack's
other dependencies, so building a wheel asks for them too. An editable install (``make``)
does not: ``make kernels`` compiles the loops into the source tree.

``SHIPTRACK_BUILD_KERNELS=0`` builds a wheel without them (numba then compiles the loops just
in time, the first time on each machine).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every hook setuptools defines, unchanged but one

__all__ = [*_setuptools.__all__]


def build_kernels() -> bool:
    """Whether a wheel gets the compiled loops (``SHIPTRACK_BUILD_KERNELS=0``: no)."""
    return os.environ.get("SHIPTRACK_BUILD_KERNELS", "1").strip() not in ("0", "no", "false", "")


def get_requires_for_build_wheel(config_settings: dict | None = None) -> list[str]:
    requires = _setuptools.get_requires_for_build_wheel(config_settings)
    if build_kernels():
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
            requires += tomllib.load(f)["project"]["dependencies"]
    return requires
