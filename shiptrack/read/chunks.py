"""Lines in bulk: a block of input bytes with the offsets of its lines.

``Source.lines()`` gives one Python string per line, which is more than the whole budget of
a fast ingest. :class:`LineChunk` keeps a block of the file as bytes, plus where each line
starts and ends, so the vectorized framer (``shiptrack.decode.accel.vframe``) can work on all
lines at once with numpy; a line it leaves to the reference framer is turned into text
only then (:meth:`LineChunk.text`). ``Source.lines()`` is made from the same chunks.

**What a line is** (the lines ``sed -n 'Np'`` numbers): a line ends at ``\\n`` and only
there; its text drops the ``\\r`` bytes just before the ``\\n`` (``\\r\\n``, ``\\r\\r\\n``),
while a ``\\r`` anywhere else stays in it (sed does not end a line there; the framer
rejects such a line as garbage). The last line need not end with ``\\n``; an empty input
has no line. A BOM at the start of line 1 is dropped; undecodable bytes become U+FFFD.

**Bounded lines.** A line longer than :data:`MAX_LINE_BYTES` (its bytes before the
``\\n``) is never held whole: the reader keeps its first :data:`LONG_LINE_HEAD` bytes,
counts the rest while it skips to the line's end, and the line is given as a
:class:`TooLong` text (the head, with the length), which the decoders keep as a
``line_too_long`` reject. The memory of a read is then bounded by about two blocks
(``block_bytes`` each), whatever the file holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

_BOM = "\ufeff"
PAD = bytes(64)
_BOM_BYTES = _BOM.encode("utf-8")

# The longest line read as a line (its bytes before the \n): 1 MiB, a thousand times the
# longest real AIS line (a relay line joining several sentences is a few hundred bytes).
MAX_LINE_BYTES = 1 << 20
# What is kept of a longer line: its first bytes, as the raw text of its reject.
LONG_LINE_HEAD = 1024

IntArray = npt.NDArray[np.int64]


class TooLong(str):
    """The text of a line longer than :data:`MAX_LINE_BYTES`: its first
    :data:`LONG_LINE_HEAD` bytes (decoded), with ``length``, the line's length in bytes."""

    length: int

    def __new__(cls, head: str, length: int) -> TooLong:
        self = super().__new__(cls, head)
        self.length = length
        return self

    def detail(self) -> str:
        return (f"a line of {self.length:,} bytes, longer than the {MAX_LINE_BYTES:,}-byte limit; "
                f"its first {LONG_LINE_HEAD:,} bytes are kept")


@dataclass
class LineChunk:
    """Consecutive lines: ``data[starts[i]:ends[i]]`` is line ``line_nos[i]`` without its ending.

    ``data`` ends with :data:`PAD` (zero bytes after the last line), so that code reading
    a few bytes at fixed offsets past a line never leaves the buffer.

    ``texts`` holds the lines when the chunk was made from text (then ``data`` has a
    NUL byte in place of any line that is not plain ASCII, so that the fast framer
    never takes it). ``long`` holds the lines longer than :data:`MAX_LINE_BYTES` (index
    in the chunk -> :class:`TooLong`); in ``data`` they are empty.
    """

    data: bytes
    starts: IntArray
    ends: IntArray
    line_nos: IntArray
    texts: list[str] | None = None
    bom_first: bool = False  # the chunk's first line starts with a BOM (line 1 of the input)
    long: dict[int, TooLong] | None = None

    def __len__(self) -> int:
        return int(self.starts.size)

    def text(self, i: int) -> str:
        """Line ``i`` of the chunk as text (a :class:`TooLong` for an over-long line)."""
        if self.long is not None and i in self.long:
            return self.long[i]
        if self.texts is not None:
            return self.texts[i]
        t = self.data[self.starts[i] : self.ends[i]].decode("utf-8", errors="replace")
        if i == 0 and self.bom_first and t.startswith(_BOM):
            t = t[1:]
        return t

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every line of the chunk."""
        if self.texts is not None:
            texts = list(self.texts)
        else:
            d = self.data
            texts = [d[s:e].decode("utf-8", errors="replace")
                     for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]
            if texts and self.bom_first and texts[0].startswith(_BOM):
                texts[0] = texts[0][1:]
        if self.long:
            for i, t in self.long.items():
                texts[i] = t
        return zip(self.line_nos.tolist(), texts, strict=True)


def _plain(t: str) -> bool:
    return t.isascii() and "\r" not in t and "\n" not in t


def chunk_from_texts(line_nos: list[int], texts: list[str]) -> LineChunk:
    """A chunk of lines given as text (the ``decode_nmea(lines)`` interface)."""
    plain = texts
    joined = "\n".join(texts)
    if not (joined.isascii() and "\r" not in joined and joined.count("\n") == len(texts) - 1):
        plain = [t if _plain(t) else "\0" for t in texts]
        joined = "\n".join(plain)
    long = {i: t for i, t in enumerate(texts) if isinstance(t, TooLong)} or None
    if long:
        plain = ["" if i in long else t for i, t in enumerate(plain)]
        joined = "\n".join(plain)
    lens = np.fromiter(map(len, plain), dtype=np.int64, count=len(plain))
    starts = np.zeros(len(plain), dtype=np.int64)
    if len(plain) > 1:
        np.cumsum(lens[:-1] + 1, out=starts[1:])
    return LineChunk(joined.encode("ascii") + PAD, starts, starts + lens, np.asarray(line_nos, dtype=np.int64),
                     texts, long=long)


def chunks_from_lines(lines: Iterable[tuple[int, str]], size: int) -> Iterator[LineChunk]:
    """Group (line_no, text) pairs into chunks of ``size`` lines."""
    nos: list[int] = []
    texts: list[str] = []
    for line_no, text in lines:
        nos.append(line_no)
        texts.append(text)
        if len(nos) >= size:
            yield chunk_from_texts(nos, texts)
            nos, texts = [], []
    if nos:
        yield chunk_from_texts(nos, texts)


def _head_text(head: bytes, first: bool) -> str:
    t = head.decode("utf-8", errors="replace")
    return t[1:] if first and t.startswith(_BOM) else t


def split_lines(data: bytes, size: int, first_line: int, first: bool,
                max_line: int = MAX_LINE_BYTES) -> LineChunk:
    """The lines of ``data[:size]``; ``data`` ends with PAD after them. ``first``: the
    block is the start of the input (its first line is line 1)."""
    buf = np.frombuffer(data, dtype=np.uint8, count=size)
    nl = _newlines(buf)
    if size and data[size - 1] == 10:
        ends = nl
        starts = np.empty(nl.size, dtype=np.int64)
        starts[:1] = 0
        starts[1:] = nl[:-1] + 1
    else:
        ends = np.append(nl, size)
        starts = np.empty(ends.size, dtype=np.int64)
        starts[:1] = 0
        starts[1:] = nl + 1
    ends = ends.astype(np.int64)
    raw_len = ends - starts  # the bytes before the \n
    if size and data.count(b"\r", 0, size):  # \r just before the \n belongs to the ending
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        ends = ends - cr
        more = np.flatnonzero(cr & (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13))
        for i in more.tolist():  # \r\r\n and longer runs: rare
            ends[i] = starts[i] + len(data[starts[i] : ends[i]].rstrip(b"\r"))
    long = None
    over = np.flatnonzero(raw_len > max_line)
    if over.size:
        long = {}
        for i in over.tolist():
            long[i] = TooLong(_head_text(data[starts[i] : starts[i] + LONG_LINE_HEAD], first and i == 0),
                              int(raw_len[i]))
            ends[i] = starts[i]
    line_nos = np.arange(first_line, first_line + starts.size, dtype=np.int64)
    return LineChunk(data, starts, ends, line_nos, None, first and data.startswith(_BOM_BYTES), long)


def _long_line_chunk(head: bytes, length: int, line_no: int, first: bool) -> LineChunk:
    """A chunk of one over-long line."""
    zero = np.zeros(1, dtype=np.int64)
    return LineChunk(PAD, zero, zero.copy(), np.array([line_no], dtype=np.int64), None, False,
                     {0: TooLong(_head_text(head, first), length)})


def read_chunks(stream: BinaryIO, block_bytes: int = 1 << 22, max_line: int = MAX_LINE_BYTES) -> Iterator[LineChunk]:
    """Chunks of whole lines from a byte stream, about ``block_bytes`` each (see the module
    docstring for what a line is, and for the lines longer than ``max_line``)."""
    carry = b""  # the start of a line whose end is not read yet
    pending = b""  # bytes read after the end of a skipped line
    line_no = 1
    first = True
    while True:
        block = pending or stream.read(block_bytes)
        pending = b""
        if not block:
            if carry:
                yield split_lines(carry + PAD, len(carry), line_no, first, max_line)
            return
        cut = block.rfind(b"\n") + 1
        if cut == 0:  # no line ends in this block
            if len(carry) + len(block) <= max_line:
                carry += block
                continue
            # an over-long line: keep its head, skip to its end
            head = (carry[:LONG_LINE_HEAD] + block[:LONG_LINE_HEAD])[:LONG_LINE_HEAD]
            length = len(carry) + len(block)
            carry = b""
            while True:
                block = stream.read(block_bytes)
                if not block:
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    length += nl
                    pending = block[nl + 1 :]
                    break
                length += len(block)
            yield _long_line_chunk(head, length, line_no, first)
            first = False
            line_no += 1
            if not block:  # the input ended inside it
                return
            continue
        data = b"".join((carry, memoryview(block)[:cut], PAD))  # one copy, with the padding
        carry = block[cut:]
        chunk = split_lines(data, len(data) - len(PAD), line_no, first, max_line)
        first = False
        line_no += len(chunk)
        yield chunk


# Bytes per step of :func:`_newlines`: its temporary mask stays in the CPU's cache instead of
# being a fresh 4 MB array (1,000 page faults) for every chunk.
_SCAN = 1 << 18


def _newlines(buf: npt.NDArray[np.uint8]) -> IntArray:
    """Offsets of the ``\n`` bytes in ``buf``, ascending."""
    if buf.size <= _SCAN:
        return np.flatnonzero(buf == 10)
    return np.concatenate([np.flatnonzero(buf[k : k + _SCAN] == 10) + k for k in range(0, buf.size, _SCAN)])
