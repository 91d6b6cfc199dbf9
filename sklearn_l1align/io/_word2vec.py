"""word2vec files: the text (``.vec``) and binary (``.bin``) formats, and fastText models.

Formats
-------
word2vec text (``.vec``, ``.txt``)
    A header line ``count dim``, then one line per word: the word, a separator, and
    ``dim`` numbers. Fields are separated by ASCII whitespace (see
    :mod:`sklearn_l1align.io._words` for what a word is). Most frequent words first by
    convention.
word2vec binary (``.bin``, ``.bin.gz``)
    The same header line, then per word: the UTF-8 word, a space, ``dim``
    little-endian float32 values and (usually) a newline.
fastText model (``.bin`` from ``fasttext``)
    Recognised by its magic number and read through gensim's fastText loader
    (:func:`gensim.models.fasttext.load_facebook_vectors`): the vectors of its vocabulary.

Gzip-compressed files are recognised by their magic bytes, whatever their name, and
every file is read front to back (FIFOs and process substitutions work).

Bounds
------
A header is checked before anything is allocated: the dimension must be at most
:data:`MAX_DIM`, and the rows to keep times the dimension must fit in the memory
available (``MemAvailable`` of ``/proc/meminfo`` where there is one). Rows are read
with a bound on their length (:data:`MAX_WORD_BYTES` for the word plus
:data:`MAX_VALUE_BYTES` per value), so a lying header, ``/dev/zero`` or a binary file
read as text fails at once with the line it reached.
"""

# The numbers in this module that look magic are format facts (the float32
# record width of the word2vec binary format, fastText's magic number) or buffer
# sizes that only affect speed.

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import stat
import warnings
import zlib
from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from .._progress import Progress
from ._atomic import atomic_write, is_binary_name
from ._streams import EmbeddingFormatError, decode, read_line, reading
from ._words import ASCII_WHITESPACE, check_word, split_fields, strip_line

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike, NDArray


__all__ = ["MAX_DIM", "MAX_VALUE_BYTES", "MAX_WORD_BYTES", "read_word2vec", "write_word2vec"]

logger = logging.getLogger(__name__)

#: The largest dimension a header may declare.
MAX_DIM = 100_000
#: The longest word a row may start with, in UTF-8 bytes.
MAX_WORD_BYTES = 4096
#: The most bytes a text row may spend on one value and its separator ("-1.2345678901234567e-308 "
#: is 25; the rest is room for padding).
MAX_VALUE_BYTES = 64
# The word2vec binary format stores each vector as little-endian float32.
_BINARY_DTYPE = np.dtype("<f4")
# fastText's .bin models start with this int32 (FASTTEXT_FILEFORMAT_MAGIC_INT32).
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
# Significant digits that make a text round trip exact for each float width
# (the shortest count that identifies every value of that width uniquely).
_TEXT_DIGITS = {2: 5, 4: 9, 8: 17}
# Bytes of the output buffer before its first growth: keeps a lying header
# ("999999999 300") from allocating gigabytes up front.
_INITIAL_BYTES = 64 << 20
# Bytes read at a time when scanning a binary file.
_BINARY_CHUNK = 1 << 20
# Bytes of text rows parsed in one NumPy call.
_PARSE_BATCH_BYTES = 4 << 20
# Rows formatted per write call when writing text.
_WRITE_BATCH = 1024
# gzip's command-line default: level 9 is several times slower for ~1% less.
_GZIP_LEVEL = 6
# The characters of the numbers of a text row (digits, signs, exponents, nan, inf).
# The bytes of the numbers of a text row (digits, signs, exponents, nan, inf).
_NUMBER_BYTES = b"0123456789+-.eEinfatyINFATY" + ASCII_WHITESPACE.encode()
# Bytes a text row may hold: everything but the control bytes other than whitespace.
_TEXT_BYTES = bytes(b for b in range(256) if b >= 0x20 and b != 0x7F) + ASCII_WHITESPACE.encode()


# --------------------------------------------------------------------------
# Header, bounds, buffers
# --------------------------------------------------------------------------


def _available_memory():
    """Bytes of memory available to a new allocation, or None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _parse_header(raw_line, path):
    if not raw_line:
        raise EmbeddingFormatError(
            path, 1, "Expected a header line 'count dim'. Got an empty file instead."
        )
    text = strip_line(decode(raw_line, path, 1).lstrip("\ufeff"))
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
    if dim > MAX_DIM:
        raise EmbeddingFormatError(
            path, 1, f"The header's dimension must be at most {MAX_DIM}. Got {dim} instead."
        )
    return count, dim


def _check_memory(path, n_rows, dim, dtype, count):
    """Refuse a header whose rows to keep cannot fit in the memory available."""
    needed = n_rows * dim * dtype.itemsize
    available = _available_memory()
    if available is not None and needed > available:
        raise EmbeddingFormatError(
            path,
            1,
            f"The rows to read must fit in memory: the header declares {count} rows of "
            f"dimension {dim}, {needed / 2**30:.3g} GiB as {dtype}, and "
            f"{available / 2**30:.3g} GiB is available. Got a header too large for this "
            "machine instead (pass max_vocab to read only the first rows).",
        )


class _RowBuffer:
    """A growable (rows, dim) array, so a lying header cannot exhaust memory."""

    def __init__(self, max_rows, dim, dtype):
        self.max_rows = max_rows
        first = max(1, min(max_rows, _INITIAL_BYTES // (dim * dtype.itemsize)))
        self.data = np.empty((first, dim), dtype=dtype)
        self.lines = np.empty(first, dtype=np.int64)
        self.size = 0

    def _grow(self, n_rows):
        while self.size + n_rows > self.data.shape[0]:
            rows = min(2 * self.data.shape[0], self.max_rows)
            data = np.empty((rows, self.data.shape[1]), dtype=self.data.dtype)
            data[: self.size] = self.data[: self.size]
            lines = np.empty(rows, dtype=np.int64)
            lines[: self.size] = self.lines[: self.size]
            self.data, self.lines = data, lines

    def extend(self, values, linenos):
        """Append the rows ``values`` (2-D), read from the lines ``linenos``."""
        self._grow(values.shape[0])
        stop = self.size + values.shape[0]
        # Casting may overflow to inf (e.g. 1e39 into float32); the finiteness
        # check after reading reports it with its line.
        with np.errstate(over="ignore", invalid="ignore"):
            self.data[self.size : stop] = values
        self.lines[self.size : stop] = linenos
        self.size = stop

    def result(self):
        if self.size == self.data.shape[0]:
            return self.data, self.lines
        return self.data[: self.size].copy(), self.lines[: self.size]


class _ReadState:
    """One read in progress, shared by the text and the binary row readers.

    Holds what the header declared, where the reader is (the last line read, the rows
    read so far), the vocabulary rules and the output buffer; :meth:`store` is the one
    place rows are kept.
    """

    def __init__(self, path, lowercase, dtype, verbose=0):
        self.path, self.dtype, self.verbose = path, dtype, verbose
        self.progress = None
        self.vocab = _VocabularyFilter(path, lowercase)
        self.lineno = 1  # the header
        self.n_rows = 0
        self.count = self.dim = self.stop_at = self.buffer = None

    def start(self, count, dim, stop_at):
        """The header's ``count`` and ``dim``; stop after ``stop_at`` kept rows (or None)."""
        self.count, self.dim, self.stop_at = count, dim, stop_at
        self.buffer = _RowBuffer(stop_at or count, dim, self.dtype)
        self.progress = Progress(f"Reading {os.path.basename(self.path)}", total=stop_at or count,
                                 verbose=self.verbose)

    @property
    def full(self):
        """Whether ``stop_at`` rows are kept: the reader stops there."""
        return self.stop_at is not None and self.buffer.size >= self.stop_at

    def store(self, values, linenos, words, kept):
        """Keep the rows of ``values`` (2-D, float) whose ``kept`` is True.

        The rows dropped by lowercasing must still be finite; the kept ones are checked
        once the whole file is read.
        """
        kept = np.asarray(kept, dtype=bool)
        linenos = np.asarray(linenos, dtype=np.int64)
        if not kept.all():
            dropped = np.flatnonzero(~kept)
            finite = np.isfinite(values[dropped]).all(axis=1)
            if not finite.all():
                bad = int(dropped[np.flatnonzero(~finite)[0]])
                raise _not_finite_error(self.path, int(linenos[bad]), words[bad], self.dtype)
            values, linenos = values[kept], linenos[kept]
        self.buffer.extend(values, linenos)
        self.progress.update(done=self.buffer.size)


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


# --------------------------------------------------------------------------
# Errors with their line
# --------------------------------------------------------------------------


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
    tokens = split_fields(values_text)
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


def _parse_values(text):
    """The numbers of ``text`` (ASCII whitespace between them), or None if one is not a number."""
    try:
        return np.fromstring(text, dtype=np.float64, sep=" ")
    except (ValueError, DeprecationWarning):
        return None


# --------------------------------------------------------------------------
# Text rows, parsed in bulk
# --------------------------------------------------------------------------


class _TextRows:
    """Parse word2vec text rows a batch at a time: one NumPy call per few MB of text.

    The words are split off line by line (at the first ASCII whitespace); the values of
    the whole batch are parsed by NumPy's C text parser (:func:`numpy.loadtxt`), which
    also checks that every line has the same number of values. The numbers are those of
    parsing each line with :func:`numpy.fromstring` (both round correctly). A batch that
    holds anything but number characters and ASCII whitespace, or that does not parse
    into ``dim`` values per line, is parsed again line by line, which names the
    offending line.
    """

    def __init__(self, state):
        self.state, self.path, self.dim = state, state.path, state.dim
        self.words, self.values, self.linenos, self.kept, self.n_bytes = [], [], [], [], 0

    def add(self, raw_line, lineno):
        line = raw_line.rstrip(b"\r\n")
        if not line or line[:1] in b" \t\v\f\r":
            self.state.vocab.accept("", lineno)  # raises: a row must start with a word
        parts = line.split(None, 1)
        word = decode(parts[0], self.path, lineno)
        kept = self.state.vocab.accept(word, lineno)
        self.words.append(word)
        self.values.append(parts[1] if len(parts) == 2 else b"")
        self.linenos.append(lineno)
        self.kept.append(kept is not None)
        self.n_bytes += len(line)
        if self.n_bytes >= _PARSE_BATCH_BYTES:
            self.flush()
        return kept is not None

    def _bulk(self):
        """The batch's values as an (n, dim) array, or None if it needs the line-by-line path."""
        block = b"\n".join(self.values)
        if block.translate(None, _NUMBER_BYTES) or b"\r" in block or not strip_line(block):
            return None
        try:
            values = np.loadtxt(io.BytesIO(block), dtype=np.float64, comments=None, ndmin=2)
        except ValueError:
            return None
        if values.shape != (len(self.words), self.dim):
            return None
        return values

    def _line_by_line(self):
        values = np.empty((len(self.words), self.dim))
        for i, (word, text, lineno) in enumerate(zip(self.words, self.values, self.linenos)):
            row = _parse_values(text)
            if row is None or row.shape[0] != self.dim:
                raise _bad_row_error(self.path, lineno, word, text.decode("utf-8", "replace"),
                                     self.dim, lineno == 2)
            values[i] = row
        return values

    def flush(self):
        if not self.words:
            return
        values = self._bulk()
        if values is None:
            values = self._line_by_line()
        self.state.store(values, self.linenos, self.words, self.kept)
        self.words, self.values, self.linenos, self.kept, self.n_bytes = [], [], [], [], 0


def _read_text_rows(stream, state):
    """Parse the rows of a word2vec text file into ``state``."""
    limit = MAX_WORD_BYTES + state.dim * MAX_VALUE_BYTES
    rows = _TextRows(state)
    kept_rows = 0
    with _strict_fromstring():
        while True:
            raw_line = read_line(stream, state.path, state.lineno + 1, limit, what="A row")
            if not raw_line:
                break
            state.lineno += 1
            if state.n_rows == state.count:
                if strip_line(raw_line):
                    raise _extra_rows_error(state.path, state.lineno, state.count)
                continue
            kept_rows += rows.add(raw_line, state.lineno)
            state.n_rows += 1
            if kept_rows == state.stop_at:
                break
        rows.flush()


# --------------------------------------------------------------------------
# Binary records
# --------------------------------------------------------------------------


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
        """The bytes up to the next space; None at the end of the file or past the bound."""
        while True:
            end = self.buffer.find(b" ", self.pos, self.pos + MAX_WORD_BYTES + 1)
            if end >= 0:
                word = self.buffer[self.pos : end]
                self.pos = end + 1
                return word
            if len(self.buffer) - self.pos > MAX_WORD_BYTES or not self._fill():
                return None

    def read_exact(self, n_bytes):
        """Return the next ``n_bytes`` bytes, or None if the file ends first."""
        while len(self.buffer) - self.pos < n_bytes:
            if not self._fill():
                return None
        data = self.buffer[self.pos : self.pos + n_bytes]
        self.pos += n_bytes
        return data


def _read_binary_rows(stream, state):
    """Parse the records of a word2vec binary file into ``state``, a batch at a time."""
    scanner = _BinaryStream(stream)
    path, record_bytes = state.path, state.dim * _BINARY_DTYPE.itemsize
    batch = {"values": [], "linenos": [], "words": [], "kept": []}
    kept_rows = 0

    def flush():
        if batch["values"]:
            values = np.frombuffer(b"".join(batch["values"]), dtype=_BINARY_DTYPE)
            state.store(values.reshape(-1, state.dim), batch["linenos"], batch["words"],
                        batch["kept"])
            for rows in batch.values():
                rows.clear()

    while not scanner.at_end():
        lineno = state.lineno + 1
        if state.n_rows == state.count:
            raise _extra_rows_error(path, lineno, state.count)
        state.lineno = lineno
        raw_word = scanner.read_word()
        if raw_word is None or b"\n" in raw_word:
            raise EmbeddingFormatError(
                path,
                lineno,
                "Each binary record must be a word of at most "
                f"{MAX_WORD_BYTES} bytes, a space and {record_bytes} bytes of float32 "
                "values. Got a record without a space after the word instead (a text "
                "file? pass binary=False).",
            )
        word = decode(raw_word, path, lineno)
        kept = state.vocab.accept(word, lineno) is not None
        values = scanner.read_exact(record_bytes)
        if values is None:
            raise EmbeddingFormatError(
                path,
                lineno,
                f"Each record needs {record_bytes} bytes of float32 values after "
                f"the word. Got the end of the file inside the record for {word!r} "
                "instead (is the file truncated?).",
            )
        state.n_rows += 1
        batch["values"].append(values)
        batch["linenos"].append(lineno)
        batch["words"].append(word)
        batch["kept"].append(kept)
        kept_rows += kept
        if kept_rows == state.stop_at:
            break
        if len(batch["values"]) * record_bytes >= _PARSE_BATCH_BYTES:
            flush()
    flush()


# --------------------------------------------------------------------------
# Sniffing the format
# --------------------------------------------------------------------------


def _looks_binary(head, dim):
    """Whether the first record after the header is binary rather than a text row.

    The ``4 * dim`` bytes after the first word are looked at: float32 values hold
    control bytes or bytes that are not UTF-8, which the numbers of a text row
    (and of the rows after it) never do.
    """
    newline = head.find(b"\n")
    if newline < 0:
        return False
    body = head[newline + 1 :]
    ends = [i for i in (body.find(b" "), body.find(b"\t")) if i >= 0]
    if not ends:
        return False
    window = body[min(ends) + 1 : min(ends) + 1 + 4 * dim]
    row_end = window.find(b"\n")
    row = window if row_end < 0 else window[:row_end]
    if not row.translate(None, _NUMBER_BYTES) and (row_end < 0 or len(row.split()) == dim):
        return False  # a word and dim numbers: text, whatever follows
    if window.translate(None, _TEXT_BYTES):
        return True
    try:
        window.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(window) - 3  # not just a character cut at the window's end
    return False


def _read_fasttext_model(path, head, max_vocab, lowercase, dtype):
    """The vocabulary and its vectors from a fastText ``.bin`` model, through gensim."""
    try:
        from gensim.models.fasttext import load_facebook_vectors
    except ImportError:
        raise EmbeddingFormatError(
            path, 1, "Reading a fastText .bin model needs gensim (pip install gensim). Got a "
            "fastText model and no gensim instead."
        ) from None
    if not stat.S_ISREG(os.stat(path).st_mode) or head[:2] == b"\x1f\x8b":
        raise EmbeddingFormatError(
            path, 1, "A fastText .bin model must be read from a regular, uncompressed file. "
            "Got a stream or a compressed file instead."
        )
    try:
        kv = load_facebook_vectors(path)
    except Exception as exc:  # gensim's errors name neither the file nor the cause plainly
        raise EmbeddingFormatError(
            path, 1, f"The fastText model must be complete and valid. Got a file gensim "
            f"cannot load ({type(exc).__name__}: {exc}) instead."
        ) from None
    vocab = _VocabularyFilter(path, lowercase)
    keep = []
    for i, word in enumerate(kv.index_to_key):
        if vocab.accept(word, i + 2) is not None:
            keep.append(i)
            if max_vocab is not None and len(keep) == max_vocab:
                break
    return vocab.words, np.asarray(kv.vectors[keep], dtype=dtype), vocab.n_dropped


# --------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------


@validate_params(
    {
        "path": [str, os.PathLike],
        "max_vocab": [Interval(Integral, 1, None, closed="left"), None],
        "lowercase": ["boolean"],
        "binary": ["boolean", None],
        "dtype": "no_validation",
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def read_word2vec(path: str | os.PathLike, *, max_vocab: int | None = None, lowercase: bool = False,
                  binary: bool | None = None, dtype: DTypeLike = np.float32,
                  verbose: int = 0) -> tuple[list[str], NDArray[np.floating]]:
    """Read word embeddings in the word2vec text or binary format.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Text (``.vec``, ``.txt``), binary (``.bin``) or a fastText
        ``.bin`` model, optionally gzip-compressed; compression and fastText models
        are detected from the content, not the name. Read front to back, so a FIFO
        or a process substitution (``<(zcat fr.vec.gz)``) works.
    max_vocab : int or None, default=None
        Keep only the first ``max_vocab`` words (the most frequent, by the
        format's convention) and stop reading there. MUSE uses 200,000.
        With ``lowercase=True`` this counts the words kept.
    lowercase : bool, default=False
        Lowercase the words and keep the first (most frequent) row of each
        lowercased word, dropping the later case variants, as MUSE does.
    binary : bool or None, default=None
        Whether the file is in the word2vec binary format. None decides from the
        content (the bytes of the first record), whatever the name, so a text file
        named ``.bin`` is read as text. True refuses a file whose first row is text.
    dtype : floating dtype, default=np.float32
        The dtype of the returned vectors.
    verbose : int, default=0
        With 1 or more, a progress line (rows read, elapsed time) on stderr when it is
        a terminal; the ``l1align`` command shows it by default.

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
        were read first), more rows than it declares, or a corrupt gzip stream;
        a dimension above :data:`MAX_DIM`, rows to keep that do not fit in the
        memory available, or a line longer than its bound (``/dev/zero``). The
        message names the file and the line.
    ValueError
        If ``max_vocab`` is not a positive integer or ``dtype`` is not floating
        (``InvalidParameterError``, a ValueError, for the arguments).

    See Also
    --------
    write_word2vec : The inverse operation.
    read_dictionary : Reads the bilingual dictionaries used with embeddings.

    Notes
    -----
    A word is what :mod:`sklearn_l1align.io._words` defines: anything but ASCII
    whitespace, so words holding a no-break space or an ideographic space (which
    real fastText files have) are read, and written back by :func:`write_word2vec`.
    Rows are parsed in batches by NumPy; the numbers are those of parsing each row.

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
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype. Got {dtype} instead.")
    max_vocab = None if max_vocab is None else int(max_vocab)

    state = _ReadState(path_str, lowercase, dtype, verbose)
    fasttext_head = None
    try:
        with reading(path_str) as (stream, head):
            if head[:4] == _FASTTEXT_MAGIC:
                fasttext_head = head
            else:
                header = read_line(stream, path_str, 1, what="The header line")
                count, dim = _parse_header(header, path_str)
                # Stop early only when max_vocab cuts the file short.
                stop_at = max_vocab if max_vocab is not None and max_vocab < count else None
                _check_memory(path_str, stop_at or count, dim, dtype, count)
                detected = _looks_binary(head, dim)
                if binary is None:
                    binary = detected
                elif binary and not detected and len(head) > len(header):
                    raise EmbeddingFormatError(
                        path_str,
                        2,
                        "A word2vec binary file holds float32 bytes after each word. Got "
                        "a text row instead (pass binary=False, or binary=None to detect "
                        "the format).",
                    )
                state.start(count, dim, stop_at)
                read_rows = _read_binary_rows if binary else _read_text_rows
                with state.progress:
                    read_rows(stream, state)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise EmbeddingFormatError(
            path_str,
            state.lineno + 1,
            "The gzip stream must be complete and valid. Got a corrupt or cut "
            f"stream ({exc}) instead.",
        ) from None
    if fasttext_head is not None:
        words, vectors, n_dropped = _read_fasttext_model(path_str, fasttext_head, max_vocab,
                                                         lowercase, dtype)
        logger.info("Read %d vectors of dimension %d from %s (fastText model).",
                    len(words), vectors.shape[1], path_str)
        return words, vectors

    if state.n_rows < count and not state.full:
        raise EmbeddingFormatError(
            path_str,
            state.lineno + 1,
            f"The header declares {count} rows. Got the end of the file after "
            f"{state.n_rows} rows instead (is the file truncated?).",
        )

    vectors, lines = state.buffer.result()
    vocab = state.vocab
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


# --------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------


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
        check_word(word, f"at position {i}")
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


@validate_params(
    {
        "path": [str, os.PathLike],
        "words": ["array-like"],
        "vectors": ["array-like"],
        "binary": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def write_word2vec(path: str | os.PathLike, words: Sequence[str], vectors: ArrayLike, *,
                   binary: bool = False) -> None:
    """Write word embeddings in the word2vec text or binary format, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. A name ending in ``.gz`` is gzip-compressed. The folder
        must exist.
    words : sequence of str
        The words; unique, non-empty, without ASCII whitespace (Unicode
        whitespace such as U+00A0 is part of a word, as the reader reads it).
        ``words[i]`` names ``vectors[i]``.
    vectors : array-like of shape (n_words, dim)
        Finite real vectors.
    binary : bool, default=False
        Write the binary format (float32 values) instead of text.

    Raises
    ------
    ValueError
        If the words and vectors do not match, a word is empty, contains
        ASCII whitespace or repeats, or a value is NaN or infinite (or too large for
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


