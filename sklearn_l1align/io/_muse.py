"""MUSE bilingual dictionaries: reading them, and turning their word pairs into row indices.

A MUSE dictionary holds one ``source target`` pair per line; a source word may have
several lines, one per gold translation. The columns are separated by ASCII whitespace,
as :mod:`sklearn_l1align.io._words` defines for every format of the package.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._streams import EmbeddingFormatError, decode, read_line, reading
from ._words import split_fields

if TYPE_CHECKING:
    from numpy.typing import NDArray


__all__ = ["DictionaryCoverage", "dictionary_to_indices", "read_dictionary"]

logger = logging.getLogger(__name__)

_UTF8_BOM = b"\xef\xbb\xbf"
# How many dropped pairs an error message shows.
_N_EXAMPLES = 5


@validate_params(
    {"path": [str, os.PathLike], "lowercase": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def read_dictionary(path: str | os.PathLike, *, lowercase: bool = False) -> list[tuple[str, str]]:
    """Read a bilingual dictionary in the MUSE format.

    Each non-blank line holds a source word and a target word separated by
    ASCII whitespace (spaces or tabs); Unicode whitespace, such as a no-break
    space, is part of a word, as :func:`read_word2vec` reads it. A source word may appear on several lines, one per gold
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
        If a line does not have exactly two columns or is longer than
        ``MAX_LINE_BYTES``, the file is binary (NUL bytes) or not UTF-8, or it
        holds no pairs at all. The message names
        the file and the line.

    See Also
    --------
    read_word2vec : Reads the embeddings the dictionary refers to.
    dictionary_to_indices : Turns the pairs into row-index pairs of two word lists.

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
    pairs: dict[tuple[str, str], None] = {}  # ordered and de-duplicated
    lineno = 0
    try:
        with reading(path_str) as (stream, _):
            while True:
                raw_line = read_line(stream, path_str, lineno + 1)
                if not raw_line:
                    break
                lineno += 1
                nul = raw_line.find(b"\x00")
                if nul >= 0:
                    raise EmbeddingFormatError(
                        path_str,
                        lineno,
                        "A dictionary must be a text file. Got a NUL byte at byte "
                        f"{nul} of the line (a binary file?) instead.",
                    )
                if lineno == 1 and raw_line.startswith(_UTF8_BOM):
                    raw_line = raw_line[len(_UTF8_BOM) :]
                line = decode(raw_line, path_str, lineno)
                fields = split_fields(line)
                if not fields:
                    continue
                if len(fields) != 2:
                    shown = " ".join(fields)
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
                pairs.setdefault((fields[0], fields[1]), None)
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


@dataclass(frozen=True)
class DictionaryCoverage:
    """How much of a bilingual dictionary two vocabularies cover.

    Attributes
    ----------
    n_pairs : int
        Distinct ``(source, target)`` pairs given.
    n_kept : int
        Pairs whose two words are both in vocabulary.
    n_dropped : int
        Pairs dropped because a word is out of vocabulary (``n_pairs - n_kept``).
    n_source_words : int
        Distinct source words given.
    n_source_covered : int
        Source words with at least one kept pair: the queries of a BLI evaluation.
    coverage : float
        ``n_source_covered / n_source_words``, in ``[0, 1]``, the share of source words
        that can be evaluated (what VecMap prints as coverage; MUSE drops the rest silently).
    dropped : tuple of tuple of (str, str)
        The dropped pairs, in input order.

    See Also
    --------
    dictionary_to_indices : Computes this report.

    Examples
    --------
    >>> from sklearn_l1align.io import dictionary_to_indices
    >>> _, report = dictionary_to_indices([("a", "a"), ("c", "b")], ["a", "b"], ["a", "b"])
    >>> report.coverage, report.dropped
    (0.5, (('c', 'b'),))
    """

    n_pairs: int
    n_kept: int
    n_dropped: int
    n_source_words: int
    n_source_covered: int
    coverage: float
    dropped: tuple

    def to_dict(self, max_dropped: int | None = None) -> dict[str, Any]:
        """Return the report as a JSON-serialisable dict.

        Parameters
        ----------
        max_dropped : int or None, default=None
            Keep at most this many dropped pairs (all when None).

        Returns
        -------
        report : dict
            The fields by name; ``dropped`` as a list of ``[source, target]`` lists.

        See Also
        --------
        dataclasses.asdict : The same, without the cut.

        Examples
        --------
        >>> from sklearn_l1align.io import DictionaryCoverage
        >>> DictionaryCoverage(2, 1, 1, 2, 1, 0.5, (("x", "y"),)).to_dict()["dropped"]
        [['x', 'y']]
        """
        report = asdict(self)
        dropped = self.dropped if max_dropped is None else self.dropped[:max_dropped]
        report["dropped"] = [list(pair) for pair in dropped]
        return report


def _index_of(words, name):
    """``{word: row}`` of a word list; the first row of a repeated word."""
    index = {}
    for i, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"{name} must hold strings. Got {word!r} at position {i} instead.")
        index.setdefault(word, i)
    return index


def _checked_pairs(word_pairs):
    pairs = []
    for i, pair in enumerate(word_pairs):
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise ValueError(
                "word_pairs must be a sequence of (source, target) word pairs. "
                f"Got {pair!r} at position {i} instead."
            )
        for word in pair:
            if not isinstance(word, str):
                raise TypeError(
                    "Dictionary words must be strings. Got "
                    f"{word!r} ({type(word).__name__}) in {tuple(pair)!r} at position {i} instead."
                )
        pairs.append(tuple(pair))
    # Exact duplicates count once, as read_dictionary counts them.
    return list(dict.fromkeys(pairs))


@validate_params(
    {"word_pairs": ["array-like"], "src_words": ["array-like"], "tgt_words": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def dictionary_to_indices(
    word_pairs: Sequence[tuple[str, str]], src_words: Sequence[str], tgt_words: Sequence[str]
) -> tuple[NDArray[np.int64], DictionaryCoverage]:
    """Turn word pairs into row-index pairs of two plain word lists.

    The arrays path from files to an estimator: ``read_word2vec`` gives each
    language's words and vectors, :func:`read_dictionary` the word pairs, and this
    function the ``pairs`` every aligner's ``fit`` takes, with no gensim needed.
    Pairs with an out-of-vocabulary (OOV) word are dropped, as MUSE drops them, and
    reported.

    Parameters
    ----------
    word_pairs : sequence of (str, str)
        ``(source word, target word)`` pairs, e.g. from :func:`read_dictionary`.
    src_words, tgt_words : sequence of str
        The vocabularies: ``src_words[i]`` names row ``i`` of the source vectors.

    Returns
    -------
    pairs : ndarray of shape (n_kept, 2), dtype int64
        ``(source row, target row)`` of each kept pair, in dictionary order.
    coverage : DictionaryCoverage
        Counts, coverage of the source words, and the dropped pairs.

    Raises
    ------
    ValueError
        If ``word_pairs`` is empty, an entry is not a pair, or no pair has both
        words in the vocabularies.
    TypeError
        If a word of a pair or of a vocabulary is not a string.

    See Also
    --------
    read_dictionary : Reads the word pairs from a MUSE file.
    read_word2vec : Reads the words and vectors.
    sklearn_l1align.gensim.dictionary_to_pairs : The same for ``KeyedVectors``.

    Examples
    --------
    >>> from sklearn_l1align.io import dictionary_to_indices
    >>> pairs, coverage = dictionary_to_indices(
    ...     [("chat", "кот"), ("chien", "собака"), ("chien", "пёс"), ("roi", "король")],
    ...     ["chat", "chien", "roi"], ["кот", "собака"])
    >>> pairs.tolist()
    [[0, 0], [1, 1]]
    >>> coverage.n_dropped, coverage.n_source_covered, coverage.n_source_words
    (2, 2, 3)
    """
    words = _checked_pairs(word_pairs)
    if not words:
        raise ValueError("The dictionary is empty: at least one (source, target) word pair is "
                         "needed. Got 0 pairs instead.")
    src_index, tgt_index = _index_of(src_words, "src_words"), _index_of(tgt_words, "tgt_words")
    kept, dropped, covered = [], [], set()
    for source, target in words:
        i, j = src_index.get(source), tgt_index.get(target)
        if i is None or j is None:
            dropped.append((source, target))
        else:
            kept.append((i, j))
            covered.add(source)
    if not kept:
        examples = ", ".join(repr(p) for p in dropped[:_N_EXAMPLES])
        raise ValueError(
            "At least one dictionary pair must have both words in the vocabularies "
            f"({len(src_index)} source and {len(tgt_index)} target words). "
            f"Got {len(words)} pairs, all out of vocabulary (e.g. {examples}), instead. "
            "Check the language order and the lowercasing."
        )
    sources = {source for source, _ in words}
    coverage = DictionaryCoverage(
        n_pairs=len(words), n_kept=len(kept), n_dropped=len(dropped),
        n_source_words=len(sources), n_source_covered=len(covered),
        coverage=len(covered) / len(sources), dropped=tuple(dropped),
    )
    logger.debug(
        "Dictionary: kept %d of %d pairs, dropped %d with an out-of-vocabulary word; "
        "%d of %d source words covered (%.1f%%).",
        coverage.n_kept, coverage.n_pairs, coverage.n_dropped, coverage.n_source_covered,
        coverage.n_source_words, 100 * coverage.coverage,
    )
    return np.asarray(kept, dtype=np.int64).reshape(-1, 2), coverage
