"""The benchmark script runs (on tiny sizes): timings are measured by `make bench`, not tested."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_benchmark_script_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "## Ingest" in text and "× pyais" in text and "## Detection and dossier" in text
    assert "| 2,000 |" in text and "| 20,000 |" in text
    assert "the first time on a machine" in text  # start-up with a cold, then a warm JIT cache
    assert "| imports | read | decode | prepare | store | commit | total |" in text
    assert text in result.stdout  # the same table is printed
