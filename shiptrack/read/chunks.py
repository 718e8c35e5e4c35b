"""Lines in bulk: a block of input bytes with the offsets of its lines.

``Source.lines()`` yields one Python string per line (about 1M lines/s), which is
more than the whole budget of a fast ingest. :class:`LineChunk` keeps a block of
the file as bytes, plus where each line starts and ends, so the vectorized framer
(``shiptrack.decode.vframe``) can work on all lines at once with numpy; a line it
leaves to the reference framer is turned into text only then (:meth:`LineChunk.text`).

The line splitting and text are exactly those of ``Source.lines()``: ``\\n``,
``\\r\\n`` and a lone ``\\r`` end a line, undecodable bytes become U+FFFD and a BOM
on line 1 is dropped. (A block holding a lone ``\\r`` is split by Python's own
universal-newline reader.)
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

_BOM = "\ufeff"
PAD = bytes(64)
_BOM_BYTES = _BOM.encode("utf-8")

IntArray = npt.NDArray[np.int64]


@dataclass
class LineChunk:
    """Consecutive lines: ``data[starts[i]:ends[i]]`` is line ``line_nos[i]`` without its ending.

    ``data`` ends with :data:`PAD` (zero bytes after the last line), so that code reading
    a few bytes at fixed offsets past a line never leaves the buffer.

    ``texts`` holds the lines when the chunk was made from text (then ``data`` has a
    NUL byte in place of any line that is not plain ASCII, so that the fast framer
    never takes it).
    """

    data: bytes
    starts: IntArray
    ends: IntArray
    line_nos: IntArray
    texts: list[str] | None = None
    bom_first: bool = False  # the chunk's first line starts with a BOM (line 1 of the input)

    def __len__(self) -> int:
        return int(self.starts.size)

    def text(self, i: int) -> str:
        """Line ``i`` of the chunk as ``Source.lines()`` would have given it."""
        if self.texts is not None:
            return self.texts[i]
        t = self.data[self.starts[i] : self.ends[i]].decode("utf-8", errors="replace")
        if i == 0 and self.bom_first and t.startswith(_BOM):
            t = t[1:]
        return t


def _plain(t: str) -> bool:
    return t.isascii() and "\r" not in t and "\n" not in t


def chunk_from_texts(line_nos: list[int], texts: list[str]) -> LineChunk:
    """A chunk of lines given as text (the ``decode_nmea(lines)`` interface)."""
    plain = texts
    joined = "\n".join(texts)
    if not (joined.isascii() and "\r" not in joined and joined.count("\n") == len(texts) - 1):
        plain = [t if _plain(t) else "\0" for t in texts]
        joined = "\n".join(plain)
    lens = np.fromiter(map(len, plain), dtype=np.int64, count=len(plain))
    starts = np.zeros(len(plain), dtype=np.int64)
    if len(plain) > 1:
        np.cumsum(lens[:-1] + 1, out=starts[1:])
    return LineChunk(joined.encode("ascii") + PAD, starts, starts + lens, np.asarray(line_nos, dtype=np.int64),
                     texts)


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


def split_lines(data: bytes, size: int, first_line: int, first: bool) -> LineChunk:
    """The lines of ``data[:size]``; ``data`` ends with PAD after them."""
    buf = np.frombuffer(data, dtype=np.uint8, count=size)
    n_cr = data.count(b"\r", 0, size)
    if n_cr and n_cr != data.count(b"\r\n", 0, size):  # a lone \r ends a line too: let Python split
        text = data[:size].decode("utf-8", errors="replace")
        if first and text.startswith(_BOM):
            text = text[1:]
        texts = [ln.rstrip("\r\n") for ln in io.StringIO(text, newline="")]
        return chunk_from_texts(list(range(first_line, first_line + len(texts))), texts)
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
    if n_cr:  # \r\n: the \r belongs to the ending
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        ends = ends - cr
    line_nos = np.arange(first_line, first_line + starts.size, dtype=np.int64)
    return LineChunk(data, starts, ends, line_nos, None, first and data.startswith(_BOM_BYTES))


def read_chunks(stream: BinaryIO, block_bytes: int = 1 << 22) -> Iterator[LineChunk]:
    """Chunks of whole lines from a byte stream, about ``block_bytes`` each."""
    carry = b""
    line_no = 1
    first = True
    while True:
        block = stream.read(block_bytes)
        if not block:
            if carry:
                yield split_lines(carry + PAD, len(carry), line_no, first)
            return
        cut = block.rfind(b"\n") + 1
        if cut == 0:  # no line ends in this block: keep reading
            carry += block
            continue
        data = b"".join((carry, memoryview(block)[:cut], PAD))  # one copy, with the padding
        carry = block[cut:]
        chunk = split_lines(data, len(data) - len(PAD), line_no, first)
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
