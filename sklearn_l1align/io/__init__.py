"""Reading and writing embeddings, bilingual dictionaries and fitted mappings.

Every reader here validates its input line by line and reports problems as an
:class:`EmbeddingFormatError` naming the file and the 1-based line number.
Every writer is atomic: it writes a temporary file in the destination folder
and moves it into place with :func:`os.replace` only once everything has been
written, so a failure never leaves a half-written file behind nor damages a
file that was already there.

Formats
-------
word2vec text (``.vec``, ``.txt``)
    A header line ``count dim``, then one line per word: the word, a space, and
    ``dim`` space-separated numbers. Most frequent words first by convention.
    Gzip-compressed files are recognised by their magic bytes, whatever their
    name.
word2vec binary (``.bin``, ``.bin.gz``)
    The same header line, then per word: the UTF-8 word, a space, ``dim``
    little-endian float32 values and (usually) a newline.
MUSE dictionary
    One ``source target`` pair per line; a source word may have several lines.
Mapping (``.npz``)
    A pickle-free NumPy archive holding an orthogonal matrix and JSON metadata,
    written by :func:`save_mapping` and read by :func:`load_mapping`.
"""

# The numbers in this module that look magic are format facts (the gzip magic
# bytes, the float32 record width of the word2vec binary format) or buffer
# sizes that only affect speed.

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import warnings
import zipfile
import zlib

import numpy as np

from ._atomic import atomic_save_npz, atomic_write, check_output_path, is_binary_name  # noqa: F401 (re-exported for the readers)

__all__ = [
    "EmbeddingFormatError",
    "atomic_save_npz",
    "atomic_write",
    "load_mapping",
    "read_dictionary",
    "read_word2vec",
    "save_mapping",
    "write_word2vec",
]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
# The word2vec binary format stores each vector as little-endian float32.
_BINARY_DTYPE = np.dtype("<f4")
# Significant digits that make a text round trip exact for each float width
# (the shortest count that identifies every value of that width uniquely).
_TEXT_DIGITS = {2: 5, 4: 9, 8: 17}
# Rows read before the first growth of the output buffer: keeps a lying
# header ("999999999 300") from allocating gigabytes up front.
_INITIAL_ROWS = 65_536
# Bytes read at a time when scanning a binary file.
_BINARY_CHUNK = 1 << 20
# Rows formatted per write call when writing text.
_WRITE_BATCH = 1024
# gzip's command-line default: level 9 is several times slower for ~1% less.
_GZIP_LEVEL = 6

_MAPPING_FORMAT = "sklearn_l1align.mapping"
_MAPPING_VERSION = 1
_MAPPING_KEYS = frozenset({"format", "format_version", "rotation", "metadata"})
_DEFAULT_ORTHO_TOL = 1e-4


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

    def __init__(self, filename, lineno, message):
        self.filename = os.fspath(filename)
        self.lineno = int(lineno)
        self.reason = message
        super().__init__(f"{self.filename}, line {self.lineno}: {message}")

    def __reduce__(self):
        return type(self), (self.filename, self.lineno, self.reason)


# --------------------------------------------------------------------------
# word2vec files
# --------------------------------------------------------------------------


def _open_maybe_gzip(path):
    """Open ``path`` for binary reading, decompressing if it starts like gzip."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: '{path}'.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Expected a file. Got the folder '{path}' instead.")
    raw = open(path, "rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
    except BaseException:
        raw.close()
        raise
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


@contextlib.contextmanager
def _reading(path):
    """Yield a binary stream of the (decompressed) content of ``path``."""
    stream, raw = _open_maybe_gzip(path)
    try:
        yield stream
    finally:
        stream.close()
        raw.close()


def _decode(raw_line, path, lineno):
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


def _parse_header(raw_line, path):
    if not raw_line:
        raise EmbeddingFormatError(
            path, 1, "Expected a header line 'count dim'. Got an empty file instead."
        )
    text = _decode(raw_line, path, 1).lstrip("\ufeff").strip()
    fields = text.split()
    try:
        count, dim = (int(field) for field in fields)
        if count <= 0 or dim <= 0:
            raise ValueError
    except ValueError:
        shown = text if len(text) <= 60 else text[:57] + "..."
        hint = (
            " (a file without a header, such as GloVe's, needs a 'count dim' line first)"
            if len(fields) > 2
            else ""
        )
        raise EmbeddingFormatError(
            path,
            1,
            "The header must be two positive integers 'count dim'"
            f"{hint}. Got {shown!r} instead.",
        ) from None
    return count, dim


class _RowBuffer:
    """A growable (rows, dim) array, so a lying header cannot exhaust memory."""

    def __init__(self, max_rows, dim, dtype):
        self.max_rows = max_rows
        self.data = np.empty((min(max_rows, _INITIAL_ROWS), dim), dtype=dtype)
        self.lines = np.empty(self.data.shape[0], dtype=np.int64)
        self.size = 0

    def append(self, values, lineno):
        if self.size == self.data.shape[0]:
            rows = min(2 * self.data.shape[0], self.max_rows)
            data = np.empty((rows, self.data.shape[1]), dtype=self.data.dtype)
            data[: self.size] = self.data
            lines = np.empty(rows, dtype=np.int64)
            lines[: self.size] = self.lines
            self.data, self.lines = data, lines
        # Casting may overflow to inf (e.g. 1e39 into float32); the finiteness
        # check after reading reports it with its line.
        with np.errstate(over="ignore", invalid="ignore"):
            self.data[self.size] = values
        self.lines[self.size] = lineno
        self.size += 1

    def result(self):
        if self.size == self.data.shape[0]:
            return self.data, self.lines
        return self.data[: self.size].copy(), self.lines[: self.size]


class _Progress:
    """Where a reader is: the last line read and the rows read so far."""

    def __init__(self):
        self.lineno = 1
        self.n_rows = 0


class _VocabularyFilter:
    """Apply lowercasing and duplicate rules to the words as they are read."""

    def __init__(self, path, lowercase):
        self.path = path
        self.lowercase = lowercase
        self.first_line = {}
        self.n_dropped = 0

    def accept(self, word, lineno):
        """Return the word to keep, or None to drop the row."""
        if not word:
            raise EmbeddingFormatError(
                self.path,
                lineno,
                "Each row must start with a word followed by a space. Got an empty "
                "line or a row starting with whitespace instead.",
            )
        if self.lowercase:
            word = word.lower()
        first = self.first_line.get(word)
        if first is None:
            self.first_line[word] = lineno
            return word
        if self.lowercase:
            self.n_dropped += 1
            return None
        raise EmbeddingFormatError(
            self.path,
            lineno,
            f"Words must be unique. Got {word!r} again, first seen on line {first}, "
            "instead (pass lowercase=True to keep the first of case variants).",
        )

    @property
    def words(self):
        return list(self.first_line)


def _wrong_length(path, lineno, word, n_values, dim, first_row):
    if first_row:
        detail = (
            f"The header declares dimension {dim}, so each row needs {dim} values "
            f"after the word. Got {n_values} values for {word!r} in the first row instead."
        )
    else:
        detail = (
            f"Each row needs {dim} values after the word, as the header declares. "
            f"Got {n_values} values for {word!r} instead."
        )
    return EmbeddingFormatError(path, lineno, detail)


def _bad_row_error(path, lineno, word, values_text, dim, first_row):
    """Explain why ``values_text`` did not parse into ``dim`` numbers."""
    tokens = values_text.split()
    for token in tokens:
        try:
            float(token)
        except ValueError:
            return EmbeddingFormatError(
                path,
                lineno,
                f"Vector values must be numbers. Got {token!r} in the row for "
                f"{word!r} instead.",
            )
    return _wrong_length(path, lineno, word, len(tokens), dim, first_row)


def _not_finite_error(path, lineno, word, dtype):
    return EmbeddingFormatError(
        path,
        lineno,
        f"Vector values must be finite numbers that fit in {dtype}. Got a NaN, an "
        f"infinity or an overflowing value in the row for {word!r} instead.",
    )


def _extra_rows_error(path, lineno, count):
    return EmbeddingFormatError(
        path,
        lineno,
        f"The header declares {count} rows, so the file must end after them. Got "
        "more data instead.",
    )


def _fromstring_raises():
    """Whether np.fromstring raises on unparsable text (NumPy 2) or only warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            np.fromstring("1 x", dtype=np.float64, sep=" ")
        except ValueError:
            return True
    return False


_FROMSTRING_RAISES = _fromstring_raises()


@contextlib.contextmanager
def _strict_fromstring():
    """Context in which np.fromstring raises on text it cannot parse."""
    if _FROMSTRING_RAISES:
        # Leave the global warning filters alone: safe to use from threads.
        yield
        return
    # Old NumPy warns (DeprecationWarning) and returns what it parsed so far;
    # make the warning an exception so that "1 2x" is not read as [1, 2].
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        yield


def _read_text_rows(stream, path, count, dim, stop_at, buffer, vocab, progress):
    """Parse the rows of a word2vec text file into ``buffer``."""
    with _strict_fromstring():
        for raw_line in stream:
            progress.lineno += 1
            lineno = progress.lineno
            if progress.n_rows == count:
                if raw_line.strip():
                    raise _extra_rows_error(path, lineno, count)
                continue
            line = _decode(raw_line, path, lineno).rstrip()
            word, _, values_text = line.partition(" ")
            kept = vocab.accept(word, lineno)
            try:
                values = np.fromstring(values_text, dtype=np.float64, sep=" ")
            except (ValueError, DeprecationWarning):
                values = None
            if values is None or values.shape[0] != dim:
                first_row = progress.n_rows == 0
                raise _bad_row_error(path, lineno, word, values_text, dim, first_row)
            progress.n_rows += 1
            if kept is None:
                if not np.isfinite(values).all():
                    raise _not_finite_error(path, lineno, word, buffer.data.dtype)
                continue
            buffer.append(values, lineno)
            if buffer.size == stop_at:
                return


class _BinaryStream:
    """Buffered scanning of word2vec binary records."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = b""
        self.pos = 0

    def _fill(self):
        chunk = self.stream.read(_BINARY_CHUNK)
        if not chunk:
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def at_end(self):
        """Skip newlines between records; return True at the end of the file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in b"\n\r":
                self.pos += 1
            if self.pos < len(self.buffer):
                return False
            if not self._fill():
                return True

    def read_word(self):
        """Return the bytes up to the next space, or None at the end of the file."""
        while True:
            end = self.buffer.find(b" ", self.pos)
            if end >= 0:
                word = self.buffer[self.pos : end]
                self.pos = end + 1
                return word
            if not self._fill():
                return None

    def read_exact(self, n_bytes):
        """Return the next ``n_bytes`` bytes, or None if the file ends first."""
        while len(self.buffer) - self.pos < n_bytes:
            if not self._fill():
                return None
        data = self.buffer[self.pos : self.pos + n_bytes]
        self.pos += n_bytes
        return data


def _read_binary_rows(stream, path, count, dim, stop_at, buffer, vocab, progress):
    """Parse the records of a word2vec binary file into ``buffer``."""
    scanner = _BinaryStream(stream)
    record_bytes = dim * _BINARY_DTYPE.itemsize
    while not scanner.at_end():
        lineno = progress.lineno + 1
        if progress.n_rows == count:
            raise _extra_rows_error(path, lineno, count)
        progress.lineno = lineno
        raw_word = scanner.read_word()
        if raw_word is None or b"\n" in raw_word:
            raise EmbeddingFormatError(
                path,
                lineno,
                "Each binary record must be a word, a space and "
                f"{record_bytes} bytes of float32 values. Got a record without a "
                "space after the word instead (a text file? pass binary=False).",
            )
        word = _decode(raw_word, path, lineno)
        kept = vocab.accept(word, lineno)
        values = scanner.read_exact(record_bytes)
        if values is None:
            raise EmbeddingFormatError(
                path,
                lineno,
                f"Each record needs {record_bytes} bytes of float32 values after "
                f"the word. Got the end of the file inside the record for {word!r} "
                "instead (is the file truncated?).",
            )
        progress.n_rows += 1
        values = np.frombuffer(values, dtype=_BINARY_DTYPE)
        if kept is None:
            if not np.isfinite(values).all():
                raise _not_finite_error(path, lineno, word, buffer.data.dtype)
            continue
        buffer.append(values, lineno)
        if buffer.size == stop_at:
            return


def read_word2vec(path, *, max_vocab=None, lowercase=False, binary=None, dtype=np.float32):
    """Read word embeddings in the word2vec text or binary format.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Text (``.vec``, ``.txt``) or binary (``.bin``), optionally
        gzip-compressed; compression is detected from the content, not the name.
    max_vocab : int or None, default=None
        Keep only the first ``max_vocab`` words (the most frequent, by the
        format's convention) and stop reading there. MUSE uses 200,000.
        With ``lowercase=True`` this counts the words kept.
    lowercase : bool, default=False
        Lowercase the words and keep the first (most frequent) row of each
        lowercased word, dropping the later case variants, as MUSE does.
    binary : bool or None, default=None
        Whether the file is in the binary format. None decides from the name:
        ``.bin`` and ``.bin.gz`` are binary, anything else is text.
    dtype : floating dtype, default=np.float32
        The dtype of the returned vectors.

    Returns
    -------
    words : list of str
        The words, in file order; ``words[i]`` names ``vectors[i]``.
    vectors : ndarray of shape (n_words, dim)
        The vectors.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    EmbeddingFormatError
        If the file is malformed: a header that is not two positive integers,
        a row whose number of values differs from the header's dimension, a
        value that is not a number, NaN or infinity (or a value too large for
        ``dtype``), a repeated word (without ``lowercase``), text that is not
        UTF-8, fewer rows than the header declares (unless ``max_vocab`` words
        were read first), more rows than it declares, or a corrupt gzip stream.
        The message names the file and the line.
    ValueError
        If ``max_vocab`` is not a positive integer or ``dtype`` is not floating.

    See Also
    --------
    write_word2vec : The inverse operation.
    read_dictionary : Reads the bilingual dictionaries used with embeddings.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import read_word2vec, write_word2vec
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.vec.gz")
    >>> write_word2vec(path, ["Roi", "roi", "reine"], np.eye(3))
    >>> words, vectors = read_word2vec(path)
    >>> words, vectors.shape, vectors.dtype
    (['Roi', 'roi', 'reine'], (3, 3), dtype('float32'))
    >>> read_word2vec(path, lowercase=True)[0]
    ['roi', 'reine']
    >>> read_word2vec(path, max_vocab=1)[0]
    ['Roi']
    """
    path_str = os.fspath(path)
    if max_vocab is not None:
        is_integer = isinstance(max_vocab, (int, np.integer)) and not isinstance(max_vocab, bool)
        if not is_integer or max_vocab < 1:
            raise ValueError(
                f"max_vocab must be a positive integer or None. Got {max_vocab!r} instead."
            )
        max_vocab = int(max_vocab)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype. Got {dtype} instead.")
    if binary is None:
        binary = is_binary_name(path_str)

    vocab = _VocabularyFilter(path_str, lowercase)
    progress = _Progress()
    try:
        with _reading(path_str) as stream:
            count, dim = _parse_header(stream.readline(), path_str)
            # Stop early only when max_vocab cuts the file short.
            stop_at = max_vocab if max_vocab is not None and max_vocab < count else None
            buffer = _RowBuffer(stop_at or count, dim, dtype)
            read_rows = _read_binary_rows if binary else _read_text_rows
            read_rows(stream, path_str, count, dim, stop_at, buffer, vocab, progress)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise EmbeddingFormatError(
            path_str,
            progress.lineno + 1,
            "The gzip stream must be complete and valid. Got a corrupt or cut "
            f"stream ({exc}) instead.",
        ) from None

    if progress.n_rows < count and buffer.size != stop_at:
        raise EmbeddingFormatError(
            path_str,
            progress.lineno + 1,
            f"The header declares {count} rows. Got the end of the file after "
            f"{progress.n_rows} rows instead (is the file truncated?).",
        )

    vectors, lines = buffer.result()
    words = vocab.words
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise _not_finite_error(path_str, int(lines[bad]), words[bad], dtype)
    if vocab.n_dropped:
        logger.info(
            "Lowercasing %s dropped %d later case variants of words already read.",
            path_str,
            vocab.n_dropped,
        )
    logger.info(
        "Read %d vectors of dimension %d from %s (%s format).",
        len(words),
        dim,
        path_str,
        "binary" if binary else "text",
    )
    return words, vectors


def _check_words_and_vectors(words, vectors):
    words = list(words)
    vectors = np.asarray(vectors)
    if vectors.dtype.kind not in "iuf":
        raise ValueError(f"vectors must hold real numbers. Got dtype {vectors.dtype} instead.")
    if vectors.ndim != 2:
        raise ValueError(
            f"vectors must be a 2-D array (n_words, dim). Got an array with "
            f"{vectors.ndim} dimension(s) instead."
        )
    if vectors.shape[1] == 0:
        raise ValueError("vectors must have at least one column. Got 0 instead.")
    if len(words) != vectors.shape[0]:
        raise ValueError(
            f"words and vectors must have the same length. Got {len(words)} words "
            f"and {vectors.shape[0]} vectors instead."
        )
    seen = {}
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word or word.split() != [word]:
            raise ValueError(
                "Each word must be a non-empty string without whitespace. Got "
                f"{word!r} at position {i} instead."
            )
        if word in seen:
            raise ValueError(
                f"Words must be unique. Got {word!r} at positions {seen[word]} and "
                f"{i} instead."
            )
        seen[word] = i
    if vectors.dtype.kind == "f":
        finite = np.isfinite(vectors).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise ValueError(
                f"vectors must be finite. Got NaN or infinity in row {bad} "
                f"({words[bad]!r}) instead."
            )
    return words, vectors


def _text_rows(words, vectors):
    """Yield the text lines of ``vectors``, a batch at a time."""
    digits = _TEXT_DIGITS.get(vectors.dtype.itemsize, 17) if vectors.dtype.kind == "f" else 17
    row_format = " ".join([f"%.{digits}g"] * vectors.shape[1])
    for start in range(0, len(words), _WRITE_BATCH):
        stop = start + _WRITE_BATCH
        yield "".join(
            f"{word} {row_format % tuple(row)}\n"
            for word, row in zip(words[start:stop], vectors[start:stop].tolist())
        )


def _binary_rows(words, vectors):
    """Yield the binary records of ``vectors``, a batch at a time."""
    data = vectors.astype(_BINARY_DTYPE, copy=False)
    for start in range(0, len(words), _WRITE_BATCH):
        stop = start + _WRITE_BATCH
        yield b"".join(
            word.encode("utf-8") + b" " + row.tobytes() + b"\n"
            for word, row in zip(words[start:stop], data[start:stop])
        )


def write_word2vec(path, words, vectors, *, binary=False):
    """Write word embeddings in the word2vec text or binary format, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. A name ending in ``.gz`` is gzip-compressed. The folder
        must exist.
    words : sequence of str
        The words; unique, non-empty, without whitespace. ``words[i]`` names
        ``vectors[i]``.
    vectors : array-like of shape (n_words, dim)
        Finite real vectors.
    binary : bool, default=False
        Write the binary format (float32 values) instead of text.

    Raises
    ------
    ValueError
        If the words and vectors do not match, a word is empty, contains
        whitespace or repeats, or a value is NaN or infinite (or too large for
        float32 in the binary format).
    FileNotFoundError
        If the folder of ``path`` does not exist; nothing is written.

    See Also
    --------
    read_word2vec : The inverse operation.
    atomic_write : How the file is written.

    Notes
    -----
    Text values are written with as many significant digits as their dtype
    needs to be read back exactly (9 for float32, 17 for float64), so a round
    trip through :func:`read_word2vec` with the same dtype is lossless. The
    binary format stores float32, which rounds float64 input. Gzip output
    is reproducible (no timestamp in the header).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import read_word2vec, write_word2vec
    >>> folder = tempfile.mkdtemp()
    >>> vectors = np.array([[0.1, -2.5], [3.0, 1e-7]], dtype=np.float32)
    >>> write_word2vec(os.path.join(folder, "v.vec"), ["chat", "chien"], vectors)
    >>> with open(os.path.join(folder, "v.vec")) as f:
    ...     print(f.read(), end="")
    2 2
    chat 0.100000001 -2.5
    chien 3 1.00000001e-07
    >>> write_word2vec(os.path.join(folder, "v.bin"), ["chat", "chien"], vectors, binary=True)
    >>> words, back = read_word2vec(os.path.join(folder, "v.bin"))
    >>> words, bool(np.array_equal(back, vectors))
    (['chat', 'chien'], True)
    """
    words, vectors = _check_words_and_vectors(words, vectors)
    if binary and vectors.size:
        largest = float(np.max(np.abs(vectors)))
        float32_max = float(np.finfo(_BINARY_DTYPE).max)
        if largest > float32_max:
            raise ValueError(
                "The binary format stores float32, so values must be at most "
                f"{float32_max:.4g} in absolute value. Got {largest:.4g} instead."
            )
    path_str = os.fspath(path)
    if is_binary_name(path_str) and not binary:
        logger.warning(
            "Writing the text format to %s, whose name suggests the binary format; "
            "read it back with binary=False.",
            path_str,
        )
    compress = path_str.lower().endswith(".gz")
    header = f"{vectors.shape[0]} {vectors.shape[1]}\n".encode("ascii")
    with atomic_write(path_str, "wb") as raw:
        if compress:
            name = os.path.basename(path_str)[: -len(".gz")]
            out = gzip.GzipFile(
                filename=name, mode="wb", fileobj=raw, compresslevel=_GZIP_LEVEL, mtime=0
            )
        else:
            out = contextlib.nullcontext(raw)
        with out as f:
            f.write(header)
            if binary:
                for chunk in _binary_rows(words, vectors):
                    f.write(chunk)
            else:
                for chunk in _text_rows(words, vectors):
                    f.write(chunk.encode("utf-8"))
    logger.info(
        "Wrote %d vectors of dimension %d to %s (%s format).",
        vectors.shape[0],
        vectors.shape[1],
        path_str,
        "binary" if binary else "text",
    )


# --------------------------------------------------------------------------
# Dictionaries
# --------------------------------------------------------------------------


def read_dictionary(path, *, lowercase=False):
    """Read a bilingual dictionary in the MUSE format.

    Each non-blank line holds a source word and a target word separated by
    whitespace. A source word may appear on several lines, one per gold
    translation. Gzip-compressed files are recognised by their content.

    Parameters
    ----------
    path : str or os.PathLike
        The dictionary file.
    lowercase : bool, default=False
        Lowercase both words of every pair.

    Returns
    -------
    pairs : list of tuple of (str, str)
        The ``(source, target)`` pairs in file order, with exact duplicates
        (after lowercasing, if requested) removed.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    EmbeddingFormatError
        If a line does not have exactly two columns, the file is binary (NUL
        bytes) or not UTF-8, or it holds no pairs at all. The message names
        the file and the line.

    See Also
    --------
    read_word2vec : Reads the embeddings the dictionary refers to.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_l1align.io import read_dictionary
    >>> path = os.path.join(tempfile.mkdtemp(), "fr-ru.txt")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("roi король\\nroi царь\\n\\nroi король\\nReine королева\\n")
    >>> read_dictionary(path)
    [('roi', 'король'), ('roi', 'царь'), ('Reine', 'королева')]
    >>> read_dictionary(path, lowercase=True)[-1]
    ('reine', 'королева')
    """
    path_str = os.fspath(path)
    pairs = {}
    lineno = 0
    try:
        with _reading(path_str) as stream:
            for lineno, raw_line in enumerate(stream, start=1):
                nul = raw_line.find(b"\x00")
                if nul >= 0:
                    raise EmbeddingFormatError(
                        path_str,
                        lineno,
                        "A dictionary must be a text file. Got a NUL byte at byte "
                        f"{nul} of the line (a binary file?) instead.",
                    )
                line = _decode(raw_line, path_str, lineno)
                if lineno == 1:
                    line = line.lstrip("\ufeff")
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 2:
                    shown = line.strip()
                    shown = shown if len(shown) <= 60 else shown[:57] + "..."
                    raise EmbeddingFormatError(
                        path_str,
                        lineno,
                        "Expected two whitespace-separated columns 'source target'. "
                        f"Got {len(fields)} column{'s' if len(fields) != 1 else ''} "
                        f"({shown!r}) instead.",
                    )
                if lowercase:
                    fields = [field.lower() for field in fields]
                pairs.setdefault(tuple(fields), None)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise EmbeddingFormatError(
            path_str,
            lineno + 1,
            f"The gzip stream must be complete and valid. Got a corrupt or cut "
            f"stream ({exc}) instead.",
        ) from None
    if not pairs:
        raise EmbeddingFormatError(
            path_str,
            max(lineno, 1),
            "A dictionary must hold at least one 'source target' pair. Got "
            f"{'an empty file' if lineno == 0 else 'only blank lines'} instead.",
        )
    logger.info(
        "Read %d pairs for %d source words from %s.",
        len(pairs),
        len({source for source, _ in pairs}),
        path_str,
    )
    return list(pairs)


# --------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------


def _check_rotation(rotation, ortho_tol, where):
    """Validate an orthogonal matrix; ``where`` names its origin in messages."""
    if rotation.dtype.kind != "f":
        raise ValueError(
            f"{where}: the rotation must be a floating-point array. Got dtype "
            f"{rotation.dtype} instead."
        )
    if rotation.ndim != 2 or rotation.shape[0] != rotation.shape[1] or rotation.shape[0] == 0:
        raise ValueError(
            f"{where}: the rotation must be a non-empty square 2-D array. Got "
            f"shape {rotation.shape} instead."
        )
    if not np.isfinite(rotation).all():
        raise ValueError(f"{where}: the rotation must be finite. Got NaN or infinity instead.")
    m = rotation.astype(np.float64, copy=False)
    deviation = float(np.max(np.abs(m.T @ m - np.eye(m.shape[0]))))
    if deviation > ortho_tol:
        raise ValueError(
            f"{where}: the rotation must be orthogonal, max|M^T M - I| <= {ortho_tol:g}. "
            f"Got {deviation:.3g} instead."
        )


def save_mapping(path, rotation, *, metadata=None):
    """Save an orthogonal mapping to a pickle-free ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; ``.npz`` is the conventional extension (none is added).
        The folder must exist.
    rotation : array-like of shape (dim, dim)
        An orthogonal matrix: ``max|MᵀM − I| <= 1e-4``.
    metadata : dict or None, default=None
        JSON-serialisable information kept with the matrix (languages,
        parameters, scores). Stored as a JSON string.

    Raises
    ------
    ValueError
        If ``rotation`` is not a finite, square, orthogonal real matrix.
    TypeError
        If ``metadata`` is not a dict or not JSON-serialisable.
    FileNotFoundError
        If the folder of ``path`` does not exist; nothing is written.

    See Also
    --------
    load_mapping : The inverse operation.

    Notes
    -----
    The archive holds plain arrays only: the matrix, a format name, a format
    version and the metadata as a unicode string. Unlike pickle or joblib
    files, which can run arbitrary code when loaded (never load one from an
    untrusted source), this format is read with ``allow_pickle=False`` and
    cannot execute anything.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import load_mapping, save_mapping
    >>> path = os.path.join(tempfile.mkdtemp(), "fr-ru.npz")
    >>> rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> save_mapping(path, rotation, metadata={"src_lang": "fr", "tgt_lang": "ru"})
    >>> loaded, metadata = load_mapping(path)
    >>> bool(np.array_equal(loaded, rotation)), metadata
    (True, {'src_lang': 'fr', 'tgt_lang': 'ru'})
    """
    rotation = np.asarray(rotation)
    if rotation.dtype.kind in "iub":
        rotation = rotation.astype(np.float64)
    _check_rotation(rotation, _DEFAULT_ORTHO_TOL, "save_mapping")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None. Got {type(metadata).__name__} instead.")
    try:
        metadata_json = json.dumps(metadata, allow_nan=False, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"metadata must be JSON-serialisable (no NaN). Got a value that is not ({exc}) instead."
        ) from None
    atomic_save_npz(
        path,
        {
            "format": np.str_(_MAPPING_FORMAT),
            "format_version": np.int64(_MAPPING_VERSION),
            "rotation": rotation,
            "metadata": np.str_(metadata_json),
        },
    )
    logger.info("Saved a %d x %d mapping to %s.", *rotation.shape, os.fspath(path))


def load_mapping(path, *, ortho_tol=_DEFAULT_ORTHO_TOL):
    """Load an orthogonal mapping saved by :func:`save_mapping`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    ortho_tol : float, default=1e-4
        Largest accepted ``max|MᵀM − I|``.

    Returns
    -------
    rotation : ndarray of shape (dim, dim)
        The orthogonal matrix, in the floating dtype it was saved with.
    metadata : dict
        The metadata saved with it (empty if none).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not such an archive: not an ``.npz``, missing keys,
        another format or a newer version, pickled (object) arrays, or a
        rotation that is not a finite, square, orthogonal float matrix. The
        message names the file.

    See Also
    --------
    save_mapping : The inverse operation.

    Notes
    -----
    The file is read with ``np.load(path, allow_pickle=False)``: an archive
    holding pickled objects is refused, never unpickled, so loading a mapping
    from an untrusted source cannot run code (unlike pickle or joblib files).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import load_mapping, save_mapping
    >>> path = os.path.join(tempfile.mkdtemp(), "identity.npz")
    >>> save_mapping(path, np.eye(3))
    >>> rotation, metadata = load_mapping(path)
    >>> rotation.shape, metadata
    ((3, 3), {})
    """
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise FileNotFoundError(f"No such file: '{path_str}'.")
    where = f"{path_str} is not a mapping saved by save_mapping"
    try:
        archive = np.load(path_str, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(
            f"{where}: expected a pickle-free .npz archive. Got a file NumPy cannot "
            f"load without pickle ({exc}) instead."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{where}: expected an .npz archive. Got a single {type(archive).__name__} instead."
        )
    with archive:
        keys = set(archive.files)
        if not _MAPPING_KEYS <= keys:
            raise ValueError(
                f"{where}: expected the keys {sorted(_MAPPING_KEYS)}. Got "
                f"{sorted(keys)} instead."
            )
        try:
            arrays = {key: archive[key] for key in _MAPPING_KEYS}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(
                f"{where}: its arrays must load without pickle. Got an array that "
                f"needs pickle ({exc}) instead."
            ) from None
    fmt, version = arrays["format"], arrays["format_version"]
    if fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != _MAPPING_FORMAT:
        raise ValueError(f"{where}: expected format {_MAPPING_FORMAT!r}. Got {fmt!r} instead.")
    if version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"{where}: expected an integer format_version. Got {version!r} instead.")
    if int(version) > _MAPPING_VERSION:
        raise ValueError(
            f"{path_str}: this release of sklearn_l1align reads mapping format "
            f"version {_MAPPING_VERSION} or older. Got version {int(version)} "
            "instead; upgrade sklearn_l1align to load it."
        )
    metadata_array = arrays["metadata"]
    try:
        if metadata_array.shape != () or metadata_array.dtype.kind != "U":
            raise ValueError("not a unicode scalar")
        metadata = json.loads(str(metadata_array))
        if not isinstance(metadata, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise ValueError(
            f"{where}: the metadata must be a JSON object string. Got an unreadable "
            f"value ({exc}) instead."
        ) from None
    rotation = arrays["rotation"]
    _check_rotation(rotation, ortho_tol, f"{path_str}")
    logger.info("Loaded a %d x %d mapping from %s.", *rotation.shape, path_str)
    return rotation, metadata
