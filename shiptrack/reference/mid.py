"""Flag state from an MMSI, through the ITU Maritime Identification Digits (MID).

An MMSI is 9 digits; where the 3 MID digits sit depends on the kind of station
(ITU-R M.585). Written as a 9-digit string, with M the MID digits:

    MMMxxxxxx   ship station (the common case)             352123456 -> 352
    0MMMxxxxx   group of ships                             035212345 -> 352
    00MMMxxxx   coast station                              002730000 -> 273
    111MMMxxx   SAR aircraft                               111273123 -> 273
    98MMMxxxx   craft associated with a parent ship        982731234 -> 273
    99MMMxxxx   aid to navigation                          992731234 -> 273

As an integer the leading zeros vanish (002730000 is 2730000), so the kind is
told by the size of the number. 970xxxxxx (AIS-SART), 972xxxxxx (man overboard),
974xxxxxx (EPIRB-AIS), 8MMMxxxxx (handheld VHF), numbers outside 0..999999999 and
anything whose first MID digit is not 2-7 have no MID and give None.

`mid_of_mmsi` only reads the structure: a well-placed but unallocated MID (for
example 200) is returned as is, and `flag_of_mmsi` then returns None. The MID
says which administration issued the number, not that the vessel is registered
there today: MMSIs are often kept after a re-flagging, and some are simply false.
"""

from __future__ import annotations

import csv
import operator
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


__all__ = ["flag_of_mmsi", "mid_frame", "mid_of_mmsi", "mid_sql", "station_kind"]


def mid_of_mmsi(mmsi: int) -> int | None:
    """The 3 MID digits of an MMSI (see the module docstring), or None if it has none."""
    try:
        n = operator.index(mmsi)  # int or numpy integer; floats and strings are refused
    except TypeError:
        return None
    if 200_000_000 <= n <= 799_999_999:  # MMMxxxxxx  ship
        mid = n // 1_000_000
    elif n // 1_000_000 == 111:  # 111MMMxxx  SAR aircraft
        mid = n // 1_000 % 1_000
    elif n // 10_000_000 in (98, 99):  # 98MMMxxxx craft of a parent ship, 99MMMxxxx AtoN
        mid = n // 10_000 % 1_000
    elif 10_000_000 <= n <= 99_999_999:  # 0MMMxxxxx  group
        mid = n // 100_000
    elif 1_000_000 <= n <= 9_999_999:  # 00MMMxxxx  coast station
        mid = n // 10_000
    else:
        return None
    return mid if 200 <= mid <= 799 else None


def station_kind(mmsi: int) -> str:
    """What kind of station the number is for, by its structure (ITU-R M.585): "ship" (9
    digits, a MID some country holds), "ship_placeholder" (a MID and six zeros, such as
    416000000: GFW's archive shows several ships on it), "ship_unallocated_mid" (a ship's
    form, a MID no country holds), "group", "coast_station", "sar_aircraft", "parent_craft",
    "aid_to_navigation", "sart", "man_overboard", "epirb", "handheld", or "none" (no
    station's form: a default such as 1193046 or 0, a test number)."""
    try:
        n = operator.index(mmsi)
    except TypeError:
        return "none"
    if 200_000_000 <= n <= 799_999_999:
        if n // 1_000_000 not in _table():
            return "ship_unallocated_mid"
        return "ship_placeholder" if n % 1_000_000 == 0 else "ship"
    special = {970: "sart", 972: "man_overboard", 974: "epirb"}.get(n // 1_000_000)
    if special:
        return special
    if 800_000_000 <= n <= 899_999_999 and 200 <= n // 100_000 % 1_000 <= 799:
        return "handheld"
    if mid_of_mmsi(n) is None:
        return "none"
    if n // 1_000_000 == 111:
        return "sar_aircraft"
    if n // 10_000_000 == 98:
        return "parent_craft"
    if n // 10_000_000 == 99:
        return "aid_to_navigation"
    return "group" if n >= 10_000_000 else "coast_station"


@lru_cache(maxsize=1)
def _table() -> dict[int, tuple[str, str]]:
    text = resources.files(__package__).joinpath("data", "mid.csv").read_text(encoding="utf-8")
    return {int(r["mid"]): (r["country"], r["iso2"]) for r in csv.DictReader(text.splitlines())}


def flag_of_mmsi(mmsi: int) -> tuple[str, str] | None:
    """(country, ISO 3166 alpha-2) of the administration that issued the MMSI, or None."""
    mid = mid_of_mmsi(mmsi)
    return None if mid is None else _table().get(mid)


def mid_frame() -> pl.DataFrame:
    """The ITU MID table (mid, country, iso2), e.g. to join in DuckDB with `mid_sql`."""
    import polars as pl

    table = _table()
    return pl.DataFrame(
        {
            "mid": list(table),
            "country": [c for c, _ in table.values()],
            "iso2": [i for _, i in table.values()],
        },
        schema={"mid": pl.Int32, "country": pl.String, "iso2": pl.String},
    )


def mid_sql(column: str = "mmsi") -> str:
    """A SQL expression giving the same MID as `mid_of_mmsi` for an integer MMSI column.

    `column` is pasted into the SQL as is: pass a column name, never user input.
    """
    c = column
    return (
        "(CASE"
        f" WHEN {c} BETWEEN 200000000 AND 799999999 THEN {c} // 1000000"
        f" WHEN {c} BETWEEN 111200000 AND 111799999 THEN {c} // 1000 % 1000"
        f" WHEN {c} BETWEEN 982000000 AND 987999999 THEN {c} // 10000 % 1000"
        f" WHEN {c} BETWEEN 992000000 AND 997999999 THEN {c} // 10000 % 1000"
        f" WHEN {c} BETWEEN 20000000 AND 79999999 THEN {c} // 100000"
        f" WHEN {c} BETWEEN 2000000 AND 7999999 THEN {c} // 10000"
        " END)"
    )
