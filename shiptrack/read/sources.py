"""Inputs: paths, folders, '-' (stdin) and .gz/.bz2/.zip files -> numbered text lines.

Each :class:`Source` is one stream of lines with a stable identity (the SHA-256 of
the bytes read, before decompression), so that ingesting the same file twice can
be recognised. The hash is computed while the file is read (:attr:`Source.known_sha256`
once a read has reached its end) or, when it is needed before, by a read of its own
(:attr:`Source.sha256`).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shiptrack.errors import InputError
from shiptrack.read.chunks import LineChunk, read_chunks

_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"PK\x03\x04": "zip"}
_BOM = "\ufeff"


@dataclass
class Source:
    """One input stream. ``member`` names the file inside a zip archive."""

    name: str
    path: Path
    member: str | None = None
    compression: str | None = None
    size_bytes: int = 0
    _sha256: str | None = None
    bytes_read: int = 0
    temporary: bool = False  # a copy of stdin, removed by :func:`remove_temporary`

    @property
    def display(self) -> str:
        return f"{self.name}!{self.member}" if self.member else self.name

    @property
    def known_sha256(self) -> str | None:
        """The SHA-256, if it is known without reading the file again (else None): a read
        through :meth:`open` that reached the end of a file hashed it on the way."""
        return self._sha256

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            h = hashlib.sha256()
            if self.member is not None:
                with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as f:
                    h.update(self.member.encode())
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            else:
                with open(self.path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            self._sha256 = h.hexdigest()
        assert self._sha256 is not None
        return self._sha256

    def open(self) -> BinaryIO:
        """The decompressed bytes. ``bytes_read`` counts the bytes taken from disk."""
        self.bytes_read = 0
        if self.member is not None:
            zf = zipfile.ZipFile(self.path)
            return _Counting(zf.open(self.member), self)  # type: ignore[return-value]
        disk = _Counting(open(self.path, "rb"), self)
        if self.compression == "gz":
            return gzip.open(disk, "rb")  # type: ignore[return-value]
        if self.compression == "bz2":
            return bz2.open(disk, "rb")  # type: ignore[return-value]
        return disk  # type: ignore[return-value]

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, text without line ending); a BOM on line 1 is dropped.

        Undecodable bytes become U+FFFD (the decoders reject such lines as garbage,
        keeping them), so a stray binary line never stops the file.
        """
        with self.open() as raw:
            buffered = raw if self.compression in ("gz", "bz2") else io.BufferedReader(raw, 1 << 20)  # type: ignore[arg-type]
            text = io.TextIOWrapper(buffered, encoding="utf-8", errors="replace", newline="")
            for line_no, line in enumerate(_split_lines(text), start=1):
                if line_no == 1 and line.startswith(_BOM):
                    line = line[1:]
                yield line_no, line

    def chunks(self, block_bytes: int = 1 << 22) -> Iterator[LineChunk]:
        """The same lines as :meth:`lines`, as blocks of bytes with line offsets (see ``read.chunks``)."""
        with self.open() as raw:
            stream = raw if self.compression in ("gz", "bz2") else io.BufferedReader(raw, 1 << 20)  # type: ignore[arg-type]
            yield from read_chunks(stream, block_bytes)  # type: ignore[arg-type]

    def head(self, n: int = 50) -> list[str]:
        out: list[str] = []
        try:
            for _, line in self.lines():
                out.append(line)
                if len(out) >= n:
                    break
        except (OSError, EOFError, zipfile.BadZipFile) as err:
            raise InputError(f"{self.display}: cannot read: {err}") from err
        return out


class _Counting(io.RawIOBase):
    """A read-only file wrapper that tells its Source how far it has read and, once the
    read reaches the end of the file, the SHA-256 of the bytes read (when it is not known
    yet; a zip member's identity also covers its name, see :attr:`Source.sha256`)."""

    def __init__(self, inner: BinaryIO, owner: Source) -> None:
        self.inner = inner
        self.owner = owner
        unknown = owner._sha256 is None and owner.member is None
        self.hash: hashlib._Hash | None = hashlib.sha256() if unknown else None

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = self.inner.readinto(b)  # type: ignore[attr-defined]
        self.owner.bytes_read += n or 0
        if self.hash is not None:
            if n:
                self.hash.update(memoryview(b)[:n])  # releases the GIL for large blocks
            elif n == 0 and len(b):  # end of file: every byte was hashed, in order
                self.owner._sha256 = self.hash.hexdigest()
                self.hash = None
        return n

    def close(self) -> None:
        self.inner.close()
        super().close()


def _split_lines(text: io.TextIOWrapper) -> Iterator[str]:
    # newline="" keeps \r\n and lone \r intact; strip them ourselves.
    for line in text:
        yield line.rstrip("\r\n")


def _compression(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from err
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _from_file(path: Path, name: str) -> list[Source]:
    kind = _compression(path)
    size = path.stat().st_size
    if kind != "zip":
        return [Source(name=name, path=path.resolve(), compression=kind, size_bytes=size)]
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
    except zipfile.BadZipFile as err:
        raise InputError(f"{path}: not a readable zip archive: {err}") from err
    return [
        Source(name=name, path=path.resolve(), member=m.filename, compression="zip", size_bytes=m.file_size)
        for m in sorted(members, key=lambda i: i.filename)
    ]


def expand_inputs(paths: list[str], source_name: str | None = None) -> list[Source]:
    """Resolve the command line's PATHs into sources, failing early on a missing one."""
    sources: list[Source] = []
    for p in paths:
        if p == "-":
            tmp = tempfile.NamedTemporaryFile(prefix="shiptrack-stdin-", delete=False)
            with tmp:
                shutil.copyfileobj(sys.stdin.buffer, tmp)
            spooled = _from_file(Path(tmp.name), source_name or "<stdin>")
            for src in spooled:
                src.temporary = True
            sources.extend(spooled)
            continue
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or directory")
        if path.is_dir():
            files = sorted(
                f for f in path.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(path).parts)
            )
            if not files:
                raise InputError(f"{p}: folder holds no files")
            for f in files:
                sources.extend(_from_file(f, str(f)))
            continue
        sources.extend(_from_file(path, source_name or p))
    return sources


def remove_temporary(sources: list[Source]) -> None:
    """Delete the copies of stdin made by :func:`expand_inputs`."""
    for path in {src.path for src in sources if src.temporary}:
        path.unlink(missing_ok=True)
