"""End to end on the Ural fixture: identity_change, sts_encounter, position_on_land.

The scenario scripts no identity change, no ship-to-ship meeting and no position on
land (the Ural keeps its name and flag; the Benghazi tanker calls alone; every route is
checked to stay at sea), while the ordinary traffic includes ships at anchor, a
broken-down Ural drifting at 0-2 kn for 16 h, and moored ships at WPI ports whose
points lie on land (Mersa Sfax, Novorossiysk). So the exact expectation is: none of
these kinds, unless scenario.json later scripts some (keys ``identity_changes``,
``sts_encounters``, ``positions_on_land``: lists of {"mmsi": ...}).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, query, run_cli

URAL = FIXTURES / "ural"
KINDS = {"identity_change": "identity_changes", "sts_encounter": "sts_encounters",
         "position_on_land": "positions_on_land"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (URAL / "ural.nmea").exists() or not (URAL / "scenario.json").exists(),
                       reason="fixtures/ural not generated yet (python fixtures/ural/generate.py)"),
]


def test_ural_has_exactly_the_scripted_identity_sts_and_land_events(db: Path) -> None:
    scenario = json.loads((URAL / "scenario.json").read_text())
    assert run_cli(["ingest", URAL / "ural.nmea"], db).exit_code == 0
    assert query(db, "SELECT count(DISTINCT mmsi) >= 10, count(*) > 10000 FROM positions") == [(True, True)]
    result = run_cli(["detect", "--rules", ",".join(KINDS)], db)
    assert result.exit_code == 0, result.output
    for kind, key in KINDS.items():
        found = sorted(r[0] for r in query(db, "SELECT mmsi FROM events WHERE kind = ?", [kind]))
        expected = sorted(e["mmsi"] for e in scenario.get(key, []))
        assert found == expected, f"{kind}: {found} != scripted {expected}"
    # the Ural itself: same name, call sign, IMO and MMSI all month
    ural = scenario["ural"]
    assert query(db, "SELECT count(*) FROM events WHERE mmsi = ? AND kind IN ('identity_change', "
                     "'position_on_land', 'sts_encounter')", [ural["mmsi"]]) == [(0,)]
