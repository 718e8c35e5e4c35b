"""One exception tree, translated once at the CLI edge into a one-line message
and an exit code (1 = input/usage problem, 2 = ambiguous or not found)."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """An error's message on one line (DuckDB adds hints on further lines)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class ShiptrackError(Exception):
    """Base of every error shiptrack raises on purpose."""

    exit_code = 1


class InputError(ShiptrackError):
    """A file that is missing, unreadable or in a format we cannot read."""


class StoreBusy(ShiptrackError):
    """Another process holds the database's write lock for longer than we wait."""


class VesselNotFound(ShiptrackError):
    exit_code = 2

    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = suggestions or []
        msg = f"no vessel matches {query!r}"
        if self.suggestions:
            msg += "; did you mean: " + ", ".join(self.suggestions) + "?"
        super().__init__(msg)


class AmbiguousVessel(ShiptrackError):
    exit_code = 2

    def __init__(self, query: str, candidates: list[dict]) -> None:
        self.query = query
        self.candidates = candidates
        super().__init__(f"{query!r} matches {len(candidates)} vessels; give an MMSI or IMO")


class PortNotFound(ShiptrackError):
    exit_code = 2

    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = suggestions or []
        msg = f"no port matches {query!r}"
        if self.suggestions:
            msg += "; did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            msg += " and no port name is close (search by part of a name or a UN/LOCODE: `shiptrack ports beng`)"
        super().__init__(msg)


class RuleError(ShiptrackError):
    """A detection rule or report that is malformed, or a bad --param."""
