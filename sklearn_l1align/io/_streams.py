"""Opening input files as bounded streams, and the error every reader raises.

Every reader of :mod:`sklearn_l1align.io` opens its file here. The file is read front to
back, never sought, so a FIFO or a process substitution (``<(zcat fr.vec.gz)``) is read
like a file; gzip is recognised by its magic bytes, whatever the name; the first bytes are
kept so that a reader can sniff the format without seeking back; and a line is read with a
bound on its length, so ``/dev/zero`` or a binary file read as text fails at once instead
of filling the memory.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat

__all__ = ["EmbeddingFormatError", "MAX_LINE_BYTES", "decode", "read_line", "reading"]

_GZIP_MAGIC = b"\x1f\x8b"
#: Bytes kept from the start of a file for sniffing its format.
SNIFF_BYTES = 1 << 16
#: The longest line a reader accepts where the format puts no other bound on it (a
#: header, a dictionary line): 1 MiB. Rows of a word2vec text file are bounded by their
#: declared dimension instead (see ``read_word2vec``).
MAX_LINE_BYTES = 1 << 20


class EmbeddingFormatError(ValueError):
    """A file does not follow the format it is read as.

    The message names the file, the 1-based line number, what was wrong and
    what was expected. The same facts are available as attributes.

    Parameters
    ----------
    filename : str or os.PathLike
        The file being read.
    lineno : int
        1-based number of the offending line. For word2vec binary files the
        header is line 1 and vector record ``k`` is line ``k + 1``.
    message : str
        What was wrong and what was expected, ending with "Got ... instead.".

    Attributes
    ----------
    filename : str
        The file being read.
    lineno : int
        1-based number of the offending line.
    reason : str
        The message without the file and line prefix.

    See Also
    --------
    read_word2vec : Raises this error for malformed embedding files.
    read_dictionary : Raises this error for malformed dictionaries.

    Examples
    --------
    >>> from sklearn_l1align.io import EmbeddingFormatError
    >>> err = EmbeddingFormatError("fr.vec", 3, "Expected 300 values. Got 299 instead.")
    >>> print(err)
    fr.vec, line 3: Expected 300 values. Got 299 instead.
    >>> isinstance(err, ValueError), err.lineno
    (True, 3)
    """

    def __init__(self, filename: str | os.PathLike, lineno: int, message: str) -> None:
        self.filename = os.fspath(filename)
        self.lineno = int(lineno)
        self.reason = message
        super().__init__(f"{self.filename}, line {self.lineno}: {message}")

    def __reduce__(self):
        return type(self), (self.filename, self.lineno, self.reason)


class _Prefixed(io.RawIOBase):
    """The bytes ``head`` already read, then the rest of ``stream``: no seek needed."""

    def __init__(self, head, stream):
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_head(stream, n_bytes):
    """Up to ``n_bytes`` from the start of ``stream`` (fewer only at the end of the file)."""
    chunks, size = [], 0
    while size < n_bytes:
        chunk = stream.read(n_bytes - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def reading(path):
    """Yield ``(stream, head)``: the (decompressed) content of ``path`` and its first bytes.

    ``stream`` is a buffered binary stream from the first byte (``head`` included);
    ``head`` holds up to :data:`SNIFF_BYTES` of it. Regular files, FIFOs, character
    devices and process substitutions are all read front to back.
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"No such file: '{path}'.") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"Expected a file. Got the folder '{path}' instead.")
    if stat.S_ISSOCK(mode):
        raise ValueError(f"Expected a file, a FIFO or a device to read. Got the socket '{path}' "
                         "instead.")
    with open(path, "rb", buffering=0) as raw:
        magic = _read_head(raw, len(_GZIP_MAGIC))
        source = io.BufferedReader(_Prefixed(magic, raw), buffer_size=1 << 20)
        if magic == _GZIP_MAGIC:
            source = gzip.GzipFile(fileobj=source, mode="rb")
        with source:
            head = _read_head(source, SNIFF_BYTES)
            stream = io.BufferedReader(_Prefixed(head, source), buffer_size=1 << 20)
            yield stream, head


def decode(raw_line, path, lineno):
    """``raw_line`` as text; an EmbeddingFormatError naming the line if it is not UTF-8."""
    try:
        return raw_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw_line[exc.start : exc.start + 4]
        raise EmbeddingFormatError(
            path,
            lineno,
            f"The text must be UTF-8. Got the undecodable bytes {bad!r} at "
            f"byte {exc.start} of the line instead.",
        ) from None


def read_line(stream, path, lineno, limit=MAX_LINE_BYTES, what="A line"):
    """The next line of ``stream`` (b"" at the end), refusing one longer than ``limit`` bytes."""
    line = stream.readline(limit + 1)
    if len(line) > limit:
        raise EmbeddingFormatError(
            path,
            lineno,
            f"{what} must be at most {limit} bytes long. Got a longer one (a binary file, "
            "or a device such as /dev/zero?) instead.",
        )
    return line
