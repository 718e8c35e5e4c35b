"""Inputs: paths, folders, '-' (stdin) and .gz/.bz2/.zip files -> numbered text lines.

Each :class:`Source` is one stream of lines with a stable identity (the SHA-256 of
the bytes read, before decompression), so that ingesting the same file twice can
be recognised. The hash is computed while the file is read (:attr:`Source.known_sha256`
once a read has reached its end) or, when it is needed before, by a read of its own
(:attr:`Source.sha256`).

One bad input never stops the others: a file or folder that cannot be read, a zip
member that is encrypted or compressed by a method Python cannot read, or a corrupt
archive becomes a :class:`Source` with its ``error`` set (ingest reports it as failed and
goes on); a read that fails later raises one of :data:`READ_ERRORS`, which ingest turns
into the same one-line failure for that source only.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from shiptrack.errors import InputError, first_line
from shiptrack.read.chunks import LineChunk, read_chunks

_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"PK\x03\x04": "zip"}

# What reading a damaged or unreadable input raises (besides our own InputError): the OS
# (permission denied, I/O error, gzip's BadGzipFile, bz2's invalid data), a stream that ends
# early (EOFError), corrupt deflate data (zlib.error), a corrupt zip (BadZipFile: bad CRC,
# bad header) and a zip compression method Python cannot read (NotImplementedError).
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, zipfile.BadZipFile,
                                                NotImplementedError)


def read_error_text(err: BaseException) -> str:
    """A read failure in one line: 'cannot read: <what>'."""
    if isinstance(err, OSError) and err.strerror and not isinstance(err, gzip.BadGzipFile):
        what = err.strerror
    elif isinstance(err, zlib.error):
        what = f"corrupt compressed data (zlib: {first_line(err)})"
    else:
        what = f"{type(err).__name__}: {first_line(err)}"
    return f"cannot read: {what}"


@dataclass
class Source:
    """One input stream. ``member`` names the file inside a zip archive; ``error`` says why
    an input cannot be read at all (it is then reported as failed, never read)."""

    name: str
    path: Path
    member: str | None = None
    compression: str | None = None
    size_bytes: int = 0
    _sha256: str | None = None
    bytes_read: int = 0
    temporary: bool = False  # a copy of stdin, removed by :func:`remove_temporary`
    error: str | None = None

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
            return cast(BinaryIO, _Counting(zf.open(self.member), self))
        disk = _Counting(open(self.path, "rb"), self)
        if self.compression == "gz":
            return cast(BinaryIO, gzip.open(disk, "rb"))
        if self.compression == "bz2":
            return cast(BinaryIO, bz2.open(disk, "rb"))
        return cast(BinaryIO, disk)

    def _buffered(self, raw: BinaryIO) -> BinaryIO:
        """A decompressed stream as it is, a raw one behind a 1 MB buffer."""
        if self.compression in ("gz", "bz2"):
            return raw
        return cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, raw), 1 << 20))

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, text without its line ending), the lines of :meth:`chunks`
        (see ``shiptrack.read.chunks``: a line ends at ``\\n``, its trailing ``\\r`` are
        dropped, a BOM on line 1 is dropped, a line over 1 MiB is a ``TooLong`` head).

        Undecodable bytes become U+FFFD (the decoders reject such lines as garbage,
        keeping them), so a stray binary line never stops the file.
        """
        for chunk in self.chunks():
            yield from chunk.lines()

    def chunks(self, block_bytes: int = 1 << 22) -> Iterator[LineChunk]:
        """The lines as blocks of bytes with line offsets (see ``read.chunks``)."""
        with self.open() as raw:
            yield from read_chunks(self._buffered(raw), block_bytes)

    def head(self, n: int = 50) -> list[str]:
        """The first ``n`` lines (what cannot be read raises one of :data:`READ_ERRORS`)."""
        out: list[str] = []
        with self.open() as raw:
            for chunk in read_chunks(self._buffered(raw), 1 << 16):
                for _, line in chunk.lines():
                    out.append(line)
                    if len(out) >= n:
                        return out
        return out


class _Counting(io.RawIOBase):
    """A read-only file wrapper that tells its Source how far it has read and, once the
    read reaches the end of the file, the SHA-256 of the bytes read (when it is not known
    yet; a zip member's identity also covers its name, see :attr:`Source.sha256`)."""

    def __init__(self, inner: IO[bytes], owner: Source) -> None:
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


def _compression(path: Path) -> str | None:
    with open(path, "rb") as f:
        head = f.read(4)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _failed(path: Path, name: str, error: str) -> Source:
    return Source(name=name, path=path, error=error)


def _from_file(path: Path, name: str) -> list[Source]:
    """The sources of one regular file: itself, or each member of a zip archive; a file
    that cannot be read is one source with its ``error``."""
    try:
        kind = _compression(path)
        size = path.stat().st_size
    except OSError as err:
        return [_failed(path, name, read_error_text(err))]
    if kind != "zip":
        return [Source(name=name, path=path.resolve(), compression=kind, size_bytes=size)]
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return [_failed(path, name, f"not a readable zip archive: {err}")]
    out = []
    for m in sorted(members, key=lambda i: i.filename):
        src = Source(name=name, path=path.resolve(), member=m.filename, compression="zip", size_bytes=m.file_size)
        if m.flag_bits & 0x1:
            src.error = "the member is encrypted (no password is asked for)"
        elif m.compress_type not in _ZIP_METHODS:
            src.error = f"the member's compression method ({m.compress_type}) cannot be read"
        out.append(src)
    return out


_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _spool(stream: BinaryIO, name: str) -> list[Source]:
    """A copy of a stream (stdin, a pipe) in a temporary file, removed after the ingest."""
    tmp = tempfile.NamedTemporaryFile(prefix="shiptrack-stdin-", delete=False)
    with tmp:
        shutil.copyfileobj(stream, tmp)
    spooled = _from_file(Path(tmp.name), name)
    for src in spooled:
        src.temporary = True
    return spooled


_KIND = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
         stat.S_IFBLK: "a block device"}


def _is_link(path: Path) -> bool:
    try:
        return path.is_symlink()
    except OSError:
        return False


def _folder(root: Path) -> list[Source]:
    """The files under a folder, recursively, hidden files and folders skipped. What cannot
    be read (a folder or file without permission, a broken link, a FIFO or device, which
    could block or never end) is a failed source, never skipped in silence."""
    out: list[Source] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(err: OSError) -> None:
        where = Path(err.filename) if err.filename else root
        out.append(_failed(where, str(where), f"cannot read folder: {err.strerror or err}"))

    for top, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        here = Path(top)
        try:
            st = here.stat()
        except OSError as err:
            out.append(_failed(here, str(here), read_error_text(err)))
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already read
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(f for f in files if not f.startswith(".")):
            path = here / f
            try:
                mode = path.stat().st_mode
            except FileNotFoundError:
                out.append(_failed(path, str(path), "a broken symbolic link" if _is_link(path)
                                   else "no such file (removed while the folder was read?)"))
                continue
            except OSError as err:
                out.append(_failed(path, str(path), read_error_text(err)))
                continue
            if not stat.S_ISREG(mode):
                kind = _KIND.get(stat.S_IFMT(mode), "not a regular file")
                out.append(_failed(path, str(path), f"not a regular file ({kind}): not read"))
                continue
            out.extend(_from_file(path, str(path)))
    out.sort(key=lambda s: (Path(s.name).parts, s.member or ""))
    return out


def expand_inputs(paths: list[str], source_name: str | None = None) -> list[Source]:
    """Resolve the command line's PATHs into sources, failing early on a missing one. An
    input that exists but cannot be read is a source with its ``error`` (reported as
    failed; the others are read)."""
    sources: list[Source] = []
    for p in paths:
        if p == "-":
            sources.extend(_spool(sys.stdin.buffer, source_name or "<stdin>"))
            continue
        path = Path(p)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            if _is_link(path):
                sources.append(_failed(path, source_name or p, "a broken symbolic link"))
                continue
            raise InputError(f"{p}: no such file or directory") from None
        except OSError as err:  # a folder on the way that cannot be entered
            sources.append(_failed(path, source_name or p, read_error_text(err)))
            continue
        if stat.S_ISDIR(mode):
            files = _folder(path)
            if not files:
                raise InputError(f"{p}: folder holds no files")
            sources.extend(files)
            continue
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):  # /dev/zero would never end
            sources.append(_failed(path, source_name or p,
                                   f"not a regular file ({_KIND[stat.S_IFMT(mode)]}): not read"))
            continue
        if not stat.S_ISREG(mode):  # a pipe (`<(zcat day.gz)`), a FIFO: read once, as stdin
            try:
                with open(path, "rb") as stream:
                    sources.extend(_spool(stream, source_name or p))
            except OSError as err:
                sources.append(_failed(path, source_name or p, read_error_text(err)))
            continue
        sources.extend(_from_file(path, source_name or p))
    return sources


def remove_temporary(sources: list[Source]) -> None:
    """Delete the copies of stdin made by :func:`expand_inputs`."""
    for path in {src.path for src in sources if src.temporary}:
        path.unlink(missing_ok=True)
