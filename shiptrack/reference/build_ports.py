"""Derive the bundled port gazetteer (`data/ports.csv`) from the NGA World Port Index.

Run from the repository root:

    .venv/bin/python -m shiptrack.reference.build_ports /path/to/UpdatedPub150.csv

The input is the WPI (Pub 150) CSV export, UTF-8 with a BOM, one row per port.
The output keeps 8 of its 109 columns and is sorted by port_id, so that running
the script twice gives the same bytes. What is changed on the way, and why:

* `port_id` is the WPI number as an integer. Rows whose number is not a whole
  number (2 rows, e.g. 49454.5 Kattupalli) are left out, since an integer id
  cannot hold them without inventing one; they are reported on stderr.
* Two WPI numbers occur twice (400 Seydisfjordur, 49460 Machilipatnam). The
  first row is kept and the other row's names are added to its alt_names.
* Runs of spaces in names are collapsed ("Ras   Lanuf" -> "Ras Lanuf");
  alternate names equal to the main name or repeated are dropped.
* `locode` loses its space ("LY BEN" -> "LYBEN"); values that are not
  2 letters + 3 letters/digits after that ("LB", 'GB ME""') become empty.
* lat/lon are rounded to 6 decimals (the WPI gives 0.01 to 0.001 degrees).

The curated English aliases live in `data/port_aliases.csv` (hand-written);
this script checks that each alias points at a port that exists.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_SOURCE = Path("/work/shared/data/ports/UpdatedPub150.csv")
COLUMNS = ["port_id", "name", "alt_names", "country", "locode", "lat", "lon", "harbor_size"]
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")


def clean_name(text: str) -> str:
    """Strip and collapse whitespace."""
    return " ".join(text.split())


def clean_locode(text: str) -> str:
    """'LY BEN' -> 'LYBEN'; anything that is not a 5-character UN/LOCODE -> ''."""
    code = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    return code if _LOCODE.match(code) else ""


def split_alt_names(text: str, main: str) -> list[str]:
    """'Bengasi; Benghazi' -> ['Bengasi', 'Benghazi'], without the main name or repeats."""
    seen = {main.casefold()}
    out: list[str] = []
    for part in text.split(";"):
        name = clean_name(part)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def read_wpi(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """Rows for ports.csv, plus one note per WPI row that was dropped or merged."""
    rows: dict[int, dict[str, str]] = {}
    notes: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for rec in csv.DictReader(f):
            number = float(rec["World Port Index Number"])
            name = clean_name(rec["Main Port Name"])
            if not number.is_integer():
                notes.append(f"dropped: WPI number {number} ({name}) is not an integer")
                continue
            port_id = int(number)
            alts = split_alt_names(rec["Alternate Port Name"], name)
            if port_id in rows:
                kept = rows[port_id]
                merged = split_alt_names(";".join([kept["alt_names"], name, *alts]), kept["name"])
                kept["alt_names"] = ";".join(merged)
                notes.append(f"merged: WPI number {port_id} occurs twice ({kept['name']} / {name})")
                continue
            rows[port_id] = {
                "port_id": str(port_id),
                "name": name,
                "alt_names": ";".join(alts),
                "country": clean_name(rec["Country Code"]),
                "locode": clean_locode(rec["UN/LOCODE"]),
                "lat": f"{round(float(rec['Latitude']), 6):.6f}".rstrip("0").rstrip("."),
                "lon": f"{round(float(rec['Longitude']), 6):.6f}".rstrip("0").rstrip("."),
                "harbor_size": clean_name(rec["Harbor Size"]),
            }
    return [rows[k] for k in sorted(rows)], notes


def write_ports(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def check_aliases(rows: list[dict[str, str]], path: Path) -> list[str]:
    """Problems in port_aliases.csv: unknown port ids and repeated aliases."""
    ids = {r["port_id"] for r in rows}
    problems: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            if rec["port_id"] not in ids:
                problems.append(f"alias {rec['alias']!r} -> unknown port_id {rec['port_id']}")
            key = rec["alias"].casefold()
            if key in seen:
                problems.append(f"alias {rec['alias']!r} is listed twice")
            seen.add(key)
    return problems


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    rows, notes = read_wpi(source)
    write_ports(rows, DATA_DIR / "ports.csv")
    problems = check_aliases(rows, DATA_DIR / "port_aliases.csv")
    for line in [*notes, *problems]:
        sys.stderr.write(line + "\n")
    sys.stderr.write(f"wrote {len(rows)} ports to {DATA_DIR / 'ports.csv'}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
