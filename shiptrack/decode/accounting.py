"""Every line accounted for: what became of each physical line of an input.

Each line of a source ends in exactly one category (:data:`LINE_CATEGORIES`), and the
ingest summary and ``sources.line_counts`` give how many lines each holds, so that

    lines read = stored + duplicate + other_type + time + header + rejected

A line becomes part of whatever its text makes: a message (over one or more lines),
a fragment heard twice, a receiver clock or ``$PGHP``, a CSV header, a reject. Most
lines make one thing; a relay line holding several sentences can make several, and a
type 19 message (or an archive row) makes a position and a static report, which can fare
differently. A line counts once, under the best of what it made, in this order:
``stored`` (a row of it is in the store) > ``duplicate`` (a message already stored, or a
fragment heard again) > ``other_type`` (a message of a type that is only counted) >
``time`` > ``header`` > ``rejected`` (all it made is in ``rejects``, with its reasons).
Every line of a multi-sentence message shares the message's category.

How it is computed, without a Python step per line: each decoded :class:`Batch` carries
*entries* (line, category) for what was decided while decoding (a fragment heard twice, a
clock sentence, a message of another type, a header), *links* (line -> first line of its
message) for the other lines of multi-sentence messages, and ``final_below``: every line
before it has all its entries in this batch or an earlier one (the framer may still hold
the others: fragments waiting for their other parts, messages waiting for their time).
The loader adds the entries of the rows (stored, duplicate, rejected: keyed by their
``line_no``, the message's first line). :class:`LineTally` resolves the lines below
``final_below`` batch by batch, with numpy, and keeps only the rest (a few hundred
lines): its memory does not grow with the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
CatArray = npt.NDArray[np.int8]

# Category codes, in increasing order of precedence (0: no entry, a line not accounted for).
REJECTED, HEADER, TIME, OTHER_TYPE, DUPLICATE, STORED = 1, 2, 3, 4, 5, 6
LINE_CATEGORIES: dict[str, str] = {  # name -> meaning (the order of the summary)
    "stored": "part of a message stored in positions, static_reports or base_stations",
    "duplicate": "part of a message already stored (heard by two receivers, an overlapping file), "
                 "or a fragment heard again",
    "other_type": "part of a message of a type that is counted, not stored (types 6-17, 20-23, 25, 26)",
    "time": "a $PGHP, $--RMC or $--ZDA sentence, read for its time",
    "header": "the header line of a CSV archive",
    "rejected": "kept in rejects with its reason",
}
_NAMES = {STORED: "stored", DUPLICATE: "duplicate", OTHER_TYPE: "other_type", TIME: "time", HEADER: "header",
          REJECTED: "rejected"}
UNACCOUNTED = "unaccounted"  # a line with no entry at all: never expected (a bug), shown if it happens
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_C = np.zeros(0, dtype=np.int8)
NO_LIMIT = 1 << 62


def entries(lines: IntArray | list[int], cat: int) -> tuple[IntArray, CatArray]:
    """``lines`` all in category ``cat``, as entry arrays."""
    arr = np.asarray(lines, dtype=np.int64)
    return arr, np.full(arr.size, cat, dtype=np.int8)


@dataclass
class LineEntries:
    """Entries and links collected while decoding a batch (see the module docstring)."""

    lines: list[IntArray] = field(default_factory=list)
    cats: list[CatArray] = field(default_factory=list)
    link_from: list[IntArray] = field(default_factory=list)
    link_to: list[IntArray] = field(default_factory=list)
    one_lines: list[int] = field(default_factory=list)  # single entries, from the line framer
    one_cats: list[int] = field(default_factory=list)
    one_from: list[int] = field(default_factory=list)
    one_to: list[int] = field(default_factory=list)

    def add(self, lines: IntArray | list[int], cat: int) -> None:
        a, c = entries(lines, cat)
        if a.size:
            self.lines.append(a)
            self.cats.append(c)

    def one(self, line: int, cat: int) -> None:
        self.one_lines.append(line)
        self.one_cats.append(cat)

    def link(self, line: int, first: int) -> None:
        self.one_from.append(line)
        self.one_to.append(first)

    def links(self, lines: IntArray, firsts: IntArray) -> None:
        if lines.size:
            self.link_from.append(np.asarray(lines, dtype=np.int64))
            self.link_to.append(np.asarray(firsts, dtype=np.int64))

    def arrays(self) -> tuple[IntArray, CatArray, IntArray, IntArray]:
        """(entry lines, entry categories, link lines, link first lines)."""
        lines = [*self.lines, np.asarray(self.one_lines, dtype=np.int64)]
        cats = [*self.cats, np.asarray(self.one_cats, dtype=np.int8)]
        frm = [*self.link_from, np.asarray(self.one_from, dtype=np.int64)]
        to = [*self.link_to, np.asarray(self.one_to, dtype=np.int64)]
        return np.concatenate(lines), np.concatenate(cats), np.concatenate(frm), np.concatenate(to)


LedgerHook = Callable[[IntArray, CatArray], None]
_BY_CODE = np.array([UNACCOUNTED, *(_NAMES[c] for c in range(REJECTED, STORED + 1))])


def category_names(cats: CatArray) -> list[str]:
    """The names of category codes (0: unaccounted)."""
    return _BY_CODE[np.asarray(cats, dtype=np.intp)].tolist()


class LineTally:
    """The category of every line of one source, resolved batch by batch (see the module
    docstring); ``counts`` by category name, ``unaccounted`` for lines with no entry.

    ``hook(lines, categories)``, if given, receives every resolved line once (in windows
    of ascending lines): ``shiptrack ingest --ledger FILE`` writes them out, which is how the
    tests check the accounting line by line."""

    def __init__(self, first_line: int = 1, hook: LedgerHook | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.hook = hook
        self._done = first_line  # lines before it are resolved
        self._lines = _EMPTY_I
        self._cats = _EMPTY_C
        self._from = _EMPTY_I
        self._to = _EMPTY_I

    def add(self, lines: IntArray, cats: CatArray, link_from: IntArray, link_to: IntArray,
            final_below: int, last_line: int) -> None:
        """Entries and links of a batch; every line before ``final_below`` (and at most
        ``last_line``, the last line read) has all its entries now."""
        lines = np.concatenate([self._lines, lines]) if self._lines.size else lines
        cats = np.concatenate([self._cats, cats]) if self._cats.size else cats
        link_from = np.concatenate([self._from, link_from]) if self._from.size else link_from
        link_to = np.concatenate([self._to, link_to]) if self._to.size else link_to
        lo, hi = self._done, min(final_below, last_line + 1)
        while link_from.size:  # a line whose message's first line is not final yet waits for it
            waiting = (link_to >= hi) & (link_from < hi)  # (a part heard before the first part)
            if not waiting.any():
                break
            hi = int(link_from[waiting].min())
        if hi <= lo:
            self._lines, self._cats, self._from, self._to = lines, cats, link_from, link_to
            return
        later = lines >= hi
        now = ~later & (lines >= lo)  # (a line before lo: resolved already, never expected)
        best = np.zeros(hi - lo, dtype=np.int8)
        np.maximum.at(best, lines[now] - lo, cats[now])
        if link_from.size:  # the lines of a message take its first line's category
            ready = (link_to >= lo) & (link_to < hi)
            stale = link_to < lo  # (never expected: such a line stays unaccounted)
            if ready.any():
                frm, got = link_from[ready], best[link_to[ready] - lo]
                inside = frm < hi
                np.maximum.at(best, frm[inside] - lo, got[inside])
                if not inside.all():  # a later line: an entry of its own, kept for later
                    lines = np.concatenate([lines, frm[~inside]])
                    cats = np.concatenate([cats, got[~inside]])
                    later = np.concatenate([later, np.ones(int((~inside).sum()), dtype=bool)])
            keep = ~ready & ~stale
            link_from, link_to = link_from[keep], link_to[keep]
        counts = np.bincount(best, minlength=STORED + 1)
        for code, name in _NAMES.items():
            if counts[code]:
                self.counts[name] += int(counts[code])
        if counts[0]:
            self.counts[UNACCOUNTED] += int(counts[0])
        if self.hook is not None:
            self.hook(np.arange(lo, hi, dtype=np.int64), best)
        self._lines, self._cats = lines[later], cats[later]
        self._from, self._to = link_from, link_to
        self._done = hi

    def finish(self, last_line: int) -> None:
        """The end of the input: every line up to ``last_line`` is resolved."""
        self.add(_EMPTY_I, _EMPTY_C, _EMPTY_I, _EMPTY_I, NO_LIMIT, last_line)
