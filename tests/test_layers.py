"""Imports run one way: base -> reference -> read -> decode -> store -> rules -> lake -> outputs -> cli.

The import graph of the ``shiptrack`` package, read from its source with ``ast`` (every
``import`` and ``from ... import``: at the top of a module, inside a function, or for type
checking only), must hold no cycle, and no module may import from a layer above its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "shiptrack"

# Each module's layer: the longest prefix of its name listed here. A module may import from
# its own layer and the layers before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("shiptrack", "shiptrack.errors", "shiptrack.geo", "shiptrack.times", "shiptrack.safe_text")),
    ("reference", ("shiptrack.reference",)),
    ("read", ("shiptrack.read",)),
    ("decode", ("shiptrack.decode",)),
    ("store", ("shiptrack.store", "shiptrack.ingest")),
    ("rules", ("shiptrack.rules", "shiptrack.params", "shiptrack.areas", "shiptrack.routes", "shiptrack.detour")),
    ("lake", ("shiptrack.lake",)),  # the store's tables as Parquet: ingest and rules write it
    ("outputs", ("shiptrack.reports", "shiptrack.dossier", "shiptrack.findings", "shiptrack.events",
                 "shiptrack.vessels", "shiptrack.track", "shiptrack.export")),
    ("engines", ("shiptrack.spark",)),
    ("cli", ("shiptrack.cli", "shiptrack.__main__")),
]


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that the module at ``path`` imports (a name imported from a
    package counts as its submodule when there is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: a relative import"
    return {m for m in found if m in known}


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for k, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), k
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS"
    return rank


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports(p, known) - {m} for m, p in known.items()}


def test_no_import_runs_back_up() -> None:
    upward = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
              for m, deps in sorted(graph().items()) for d in sorted(deps) if layer_of(d) > layer_of(m)]
    assert upward == []


def test_only_the_decoder_knows_its_accelerated_path() -> None:
    """shiptrack.decode.accel (bulk framing, batch decoding, compiled loops) sits behind the
    decoder's public modules: no module outside shiptrack.decode imports it."""
    outside = [f"{m} imports {d}" for m, deps in sorted(graph().items()) for d in sorted(deps)
               if d.startswith("shiptrack.decode.accel") and not m.startswith("shiptrack.decode")]
    assert outside == []
    assert any(d.startswith("shiptrack.decode.accel") for d in graph()["shiptrack.decode.keys"])


def test_no_import_cycle() -> None:
    g = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(g[m]):
            if state.get(d) == 1:
                cycles.append([*path[path.index(d):], d])
            elif d not in state:
                visit(d, [*path, d])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_checks_see_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    """A function's import and a type-checking import count as much as a module's own."""
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shiptrack.decode import nmea\n"
                   "def f():\n    import shiptrack.store.load\n    from shiptrack.rules import registry\n")
    known = modules()
    assert imports(src, known) == {"shiptrack.decode.nmea", "shiptrack.store.load", "shiptrack.rules.registry"}
    assert layer_of("shiptrack.decode.accel.fast") == 3 and layer_of("shiptrack.ingest") == 4
