"""gensim adapters: align, map, translate and evaluate :class:`~gensim.models.KeyedVectors`.

Every function here takes and returns gensim ``KeyedVectors`` and keeps their row
order, which is gensim's contract: ``kv.index_to_key[i]`` names ``kv.vectors[i]``.
Inputs are never modified; results are new objects whose vectors are float32, as
gensim's own are. Estimators are fitted in place, as scikit-learn fits them.

The module is named after the library it adapts. Inside it, ``import gensim``
still means the gensim package (imports are absolute in Python 3).

Persistence: save a fitted map with :func:`sklearn_l1align.io.save_mapping`, a
pickle-free ``.npz`` that cannot run code when loaded, and apply it with
:func:`transform_keyed_vectors`, which accepts the loaded matrix. joblib and pickle
files can run arbitrary code when loaded: never load one from an untrusted source.
"""

from __future__ import annotations

import logging
import numbers
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from gensim.models import KeyedVectors
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from . import _neighbors
from . import io as _io
# DictionaryCoverage is io's class; importable from here as before, documented there.
from .io import DictionaryCoverage  # noqa: F401
from ._base import pairs_fit_parameter
from ._normalize import normalize_embeddings
from ._threads import blocked_product
from ._validation import check_cutoffs
from .metrics import BLI_CONVENTION, bli_precision

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike, NDArray


logger = logging.getLogger(__name__)

__all__ = [
    "align",
    "clear_translation_cache",
    "dictionary_to_pairs",
    "evaluate_bli",
    "keyed_vectors_from_arrays",
    "normalize_keyed_vectors",
    "read_keyed_vectors",
    "transform_keyed_vectors",
    "translate",
    "write_keyed_vectors",
]

#: Dropped pairs quoted in error messages and by :meth:`DictionaryCoverage.to_dict`'s callers.
_N_EXAMPLES = 5



# --------------------------------------------------------------------------- building


def _check_kv(kv, name):
    if not isinstance(kv, KeyedVectors):
        raise TypeError(
            f"{name} must be a gensim KeyedVectors. Got {type(kv).__name__} instead."
        )
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2 or len(kv.index_to_key) != vectors.shape[0]:
        raise ValueError(
            f"{name} must have one vector per key: index_to_key[i] names vectors[i]. Got "
            f"{len(kv.index_to_key)} keys and vectors of shape {vectors.shape} instead."
        )
    return vectors


def _read_only(array):
    """A read-only view, so that code we hand it to cannot modify a caller's vectors."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@validate_params({"words": ["array-like"], "vectors": ["array-like"], "dtype": "no_validation"},
                 prefer_skip_nested_validation=True)
def keyed_vectors_from_arrays(words: Sequence[str], vectors: ArrayLike, *,
                              dtype: DTypeLike = np.float32) -> KeyedVectors:
    """Build a new ``KeyedVectors`` from words and a matrix, keeping their order.

    Parameters
    ----------
    words : sequence of str
        The keys; ``words[i]`` names ``vectors[i]``. They must be unique.
    vectors : array-like of shape (n_words, n_dims)
        The vectors; copied, never referenced.
    dtype : floating dtype, default=np.float32
        The dtype of the stored vectors (gensim's default is float32).

    Returns
    -------
    kv : gensim.models.KeyedVectors
        ``kv.index_to_key == list(words)`` and ``kv.vectors[i]`` is ``vectors[i]``.

    Raises
    ------
    ValueError
        If the lengths differ, ``vectors`` is not 2-D, or a word repeats.

    See Also
    --------
    read_keyed_vectors : Read a word2vec file into ``KeyedVectors``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays
    >>> kv = keyed_vectors_from_arrays(["chat", "chien"], np.eye(2))
    >>> kv.index_to_key, kv.vectors.dtype, kv["chien"].tolist()
    (['chat', 'chien'], dtype('float32'), [0.0, 1.0])
    """
    return _new_keyed_vectors(words, np.array(vectors, dtype=dtype, copy=True))


def _new_keyed_vectors(words, matrix):
    """``keyed_vectors_from_arrays`` on a matrix the new object may keep (no copy)."""
    words = list(words)
    if matrix.ndim != 2:
        raise ValueError(
            f"vectors must be a 2-D array (n_words, n_dims). Got shape {matrix.shape} instead."
        )
    if len(words) != matrix.shape[0]:
        raise ValueError(
            "words and vectors must have the same length. Got "
            f"{len(words)} words and {matrix.shape[0]} vectors instead."
        )
    key_to_index = {}
    for i, word in enumerate(words):
        first = key_to_index.setdefault(word, i)
        if first != i:
            raise ValueError(
                f"Words must be unique. Got {word!r} at positions {first} and {i} instead."
            )
    kv = KeyedVectors(vector_size=matrix.shape[1], count=0, dtype=matrix.dtype)
    kv.index_to_key = words
    kv.key_to_index = key_to_index
    kv.vectors = matrix
    kv.next_index = len(words)
    return kv


def _with_vectors(kv, vectors):
    """A new ``KeyedVectors`` with the keys (and per-key attributes) of ``kv``."""
    # float32, as gensim's own vectors; a float32 array made for the new object is kept as is.
    vectors = np.asarray(vectors, dtype=np.float32)
    if np.may_share_memory(vectors, kv.vectors):
        vectors = vectors.copy()
    new = _new_keyed_vectors(kv.index_to_key, vectors)
    # Per-key attributes such as word counts describe the words, not the vectors.
    new.expandos = {name: np.array(values, copy=True) for name, values in kv.expandos.items()}
    return new


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def read_keyed_vectors(path: str | os.PathLike, **read_word2vec_kwargs: Any) -> KeyedVectors:
    """Read a word2vec text or binary file into a new ``KeyedVectors``.

    A thin layer over :func:`sklearn_l1align.io.read_word2vec`, whose errors name the
    file and the line of any malformed input.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.vec``, ``.txt``, ``.bin``, optionally gzip-compressed).
    **read_word2vec_kwargs : dict
        Passed to :func:`~sklearn_l1align.io.read_word2vec`: ``max_vocab``,
        ``lowercase``, ``binary``, ``dtype``.

    Returns
    -------
    kv : gensim.models.KeyedVectors
        The words in file order (most frequent first, by the format's convention).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    sklearn_l1align.io.EmbeddingFormatError
        If the file is malformed; the message names the file and the line.

    See Also
    --------
    write_keyed_vectors : The inverse operation.
    sklearn_l1align.io.read_word2vec : The reader underneath.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, read_keyed_vectors
    >>> from sklearn_l1align.gensim import write_keyed_vectors
    >>> path = os.path.join(tempfile.mkdtemp(), "fr.vec")
    >>> write_keyed_vectors(keyed_vectors_from_arrays(["Roi", "roi", "reine"], np.eye(3)), path)
    >>> read_keyed_vectors(path, lowercase=True).index_to_key
    ['roi', 'reine']
    """
    words, vectors = _io.read_word2vec(path, **read_word2vec_kwargs)
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.index_to_key = words
    kv.key_to_index = {word: i for i, word in enumerate(words)}
    kv.vectors = vectors
    kv.next_index = len(words)
    return kv


@validate_params({"kv": [KeyedVectors], "path": [str, os.PathLike], "binary": ["boolean"]},
                 prefer_skip_nested_validation=True)
def write_keyed_vectors(kv: KeyedVectors, path: str | os.PathLike, binary: bool = False) -> None:
    """Write ``KeyedVectors`` to a word2vec text or binary file, atomically.

    The file appears at ``path`` only once it is complete: an error or an interrupt
    leaves no partial file and keeps a file already there intact.

    Parameters
    ----------
    kv : gensim.models.KeyedVectors
        The vectors; every key must be a string without whitespace.
    path : str or os.PathLike
        Destination; a name ending in ``.gz`` is gzip-compressed. Its folder must exist.
    binary : bool, default=False
        Write the binary format (float32 values) instead of text.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist; nothing is written.
    ValueError
        If a key is not a non-empty string without whitespace.

    See Also
    --------
    read_keyed_vectors : The inverse operation.
    sklearn_l1align.io.write_word2vec : The writer underneath.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, write_keyed_vectors
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.vec")
    >>> write_keyed_vectors(keyed_vectors_from_arrays(["a", "b"], [[1, 0.5], [0, 2]]), path)
    >>> print(open(path).read(), end="")
    2 2
    a 1 0.5
    b 0 2
    """
    vectors = _check_kv(kv, "kv")
    _io.write_word2vec(path, kv.index_to_key, vectors, binary=binary)


@validate_params({"kv": [KeyedVectors], "steps": [str, tuple, list]}, prefer_skip_nested_validation=True)
def normalize_keyed_vectors(kv: KeyedVectors,
                            steps: Sequence[str] = ("unit", "center", "unit")) -> KeyedVectors:
    """Normalise ``KeyedVectors`` with a chain of VecMap/MUSE steps, as a new object.

    Parameters
    ----------
    kv : gensim.models.KeyedVectors
        The embeddings; not modified.
    steps : tuple of {"unit", "center", "unitdim"}, default=("unit", "center", "unit")
        Applied left to right; see :func:`sklearn_l1align.normalize_embeddings`.
        ``()`` returns a copy.

    Returns
    -------
    kv_norm : gensim.models.KeyedVectors
        Same keys in the same order, normalised float32 vectors.

    See Also
    --------
    sklearn_l1align.normalize_embeddings : The same on arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, normalize_keyed_vectors
    >>> kv = keyed_vectors_from_arrays(["a", "b"], [[3.0, 4.0], [0.0, 2.0]])
    >>> normalize_keyed_vectors(kv, steps=("unit",)).vectors.tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 1.0]]
    """
    vectors = _check_kv(kv, "kv")
    steps = (steps,) if isinstance(steps, str) else tuple(steps)
    # One float32 copy, normalised in place (the new object then takes it without a copy).
    copy = np.array(vectors, dtype=np.float32, copy=True)
    if steps:
        normalize_embeddings(copy, steps=steps, copy=False)
    return _with_vectors(kv, copy)


# --------------------------------------------------------------------------- dictionaries


def _word_pairs(dictionary, lowercase):
    """The word pairs of a path or a sequence, lowercased on request; checked by ``io``."""
    if isinstance(dictionary, (str, os.PathLike)):
        return _io.read_dictionary(dictionary, lowercase=lowercase)
    if not lowercase:
        return dictionary
    return [pair if isinstance(pair, (str, bytes))
            else tuple(w.lower() if isinstance(w, str) else w for w in pair)
            for pair in dictionary]


@validate_params(
    {"dictionary": "no_validation", "kv_src": [KeyedVectors], "kv_tgt": [KeyedVectors],
     "lowercase": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def dictionary_to_pairs(
    dictionary: str | os.PathLike | Sequence[tuple[str, str]], kv_src: KeyedVectors,
    kv_tgt: KeyedVectors, *, lowercase: bool = False,
) -> tuple[NDArray[np.int64], DictionaryCoverage]:
    """Turn a bilingual dictionary into row-index pairs of two ``KeyedVectors``.

    Pairs with an out-of-vocabulary (OOV) word are dropped, as MUSE drops them, and
    reported: the count, the pairs, and the coverage of the source words.

    Parameters
    ----------
    dictionary : str, os.PathLike or sequence of (str, str)
        ``(source word, target word)`` pairs, or the path of a MUSE dictionary file
        (one ``source target`` pair per line; a source word may have several lines).
    kv_src, kv_tgt : gensim.models.KeyedVectors
        The source and target vocabularies.
    lowercase : bool, default=False
        Lowercase both words of every pair first (for vectors read with
        ``lowercase=True``).

    Returns
    -------
    pairs : ndarray of shape (n_kept, 2), dtype int64
        ``(kv_src row, kv_tgt row)`` of each kept pair, in dictionary order.
    report : DictionaryCoverage
        Counts, coverage and the dropped pairs.

    Raises
    ------
    ValueError
        If no pair has both words in vocabulary, or an entry is not a pair.
    TypeError
        If a word is not a string (the message names it and its position).
    sklearn_l1align.io.EmbeddingFormatError
        If the dictionary file is malformed (the message names the file and line).

    See Also
    --------
    align : Uses these pairs as the seed dictionary.
    evaluate_bli : Uses them as the test dictionary.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import dictionary_to_pairs, keyed_vectors_from_arrays
    >>> fr = keyed_vectors_from_arrays(["chat", "chien", "roi"], np.eye(3))
    >>> ru = keyed_vectors_from_arrays(["кот", "собака"], np.eye(3)[:2])
    >>> pairs, report = dictionary_to_pairs(
    ...     [("chat", "кот"), ("chien", "собака"), ("chien", "пёс"), ("roi", "король")], fr, ru)
    >>> pairs.tolist()
    [[0, 0], [1, 1]]
    >>> report.n_dropped, report.n_source_covered, report.n_source_words, report.coverage
    (2, 2, 3, 0.666...)
    """
    _check_kv(kv_src, "kv_src")
    _check_kv(kv_tgt, "kv_tgt")
    words = _word_pairs(dictionary, lowercase)
    return _io.dictionary_to_indices(words, kv_src.index_to_key, kv_tgt.index_to_key)


# --------------------------------------------------------------------------- estimators


def _seed_pairs(seed_dictionary, kv_src, kv_tgt):
    """Index pairs as given, or those of a word dictionary (its report is logged)."""
    if isinstance(seed_dictionary, np.ndarray) and seed_dictionary.dtype.kind in "iu":
        return seed_dictionary
    if isinstance(seed_dictionary, np.ndarray) and seed_dictionary.dtype.kind not in "OUS":
        raise TypeError(
            "seed_dictionary as an array must hold integer (source row, target row) indices, "
            "or words. Got an array of dtype "
            f"{seed_dictionary.dtype} instead; convert whole-number indices with .astype(int)."
        )
    return dictionary_to_pairs(seed_dictionary, kv_src, kv_tgt)[0]


@validate_params(
    {"kv_src": [KeyedVectors], "kv_tgt": [KeyedVectors],
     "estimator": [HasMethods(["fit", "transform"])], "seed_dictionary": "no_validation"},
    prefer_skip_nested_validation=True,
)
def align(
    kv_src: KeyedVectors, kv_tgt: KeyedVectors, estimator: Any,
    seed_dictionary: str | os.PathLike | Sequence[tuple[str, str]] | ArrayLike | None = None,
) -> KeyedVectors:
    """Fit an aligner (or a Pipeline of them) on two spaces and map the source space.

    Parameters
    ----------
    kv_src, kv_tgt : gensim.models.KeyedVectors
        Source and target embeddings; not modified. They may differ in size.
    estimator : estimator or sklearn.pipeline.Pipeline
        Any aligner of this package (:class:`~sklearn_l1align.ProcrustesAligner`,
        :class:`~sklearn_l1align.L1ProcrustesAligner`) or a Pipeline of them, possibly
        led by an :class:`~sklearn_l1align.EmbeddingNormalizer`. It is fitted in place
        on ``kv_src.vectors`` and ``kv_tgt.vectors``, as scikit-learn fits estimators,
        so read the fitted state (``rotation_``, ``solver_result_``, ...) from it.
    seed_dictionary : str, os.PathLike, sequence of (str, str), ndarray or None, default=None
        Translation pairs: word pairs, a MUSE dictionary file (out-of-vocabulary pairs
        are dropped, see :func:`dictionary_to_pairs`), or an integer array of
        ``(source row, target row)`` pairs. They go as ``pairs=`` to the estimator's
        ``fit``; in a Pipeline, to the first step whose ``fit`` accepts ``pairs``
        (as ``<step>__pairs``). None is the unsupervised path: the estimator is fitted
        without pairs, and an :class:`~sklearn_l1align.L1ProcrustesAligner` induces its
        own CSLS dictionary.

    Returns
    -------
    kv_mapped : gensim.models.KeyedVectors
        A new object: the keys of ``kv_src`` in the same order, with their vectors
        mapped into the target space by the fitted estimator (float32).

    Raises
    ------
    ValueError
        If a seed dictionary is given but no step of ``estimator`` accepts ``pairs``,
        or if every seed pair is out of vocabulary.
    TypeError
        If ``seed_dictionary`` is an array of floats (or another non-integer, non-word
        dtype): row indices must be integers.

    See Also
    --------
    transform_keyed_vectors : Map other vectors with the fitted estimator.
    evaluate_bli : Score the result against a test dictionary.

    Notes
    -----
    A Pipeline transforms only the source space: a leading ``EmbeddingNormalizer``
    normalises ``kv_src`` but not ``kv_tgt``. To normalise both, use
    :func:`normalize_keyed_vectors` on each before calling this function.

    With scikit-learn's metadata routing enabled, request the pairs on the step
    instead (``set_fit_request(pairs=True)``); the ``<step>__pairs`` form is the
    one that works without it.

    Examples
    --------
    >>> from sklearn_l1align import ProcrustesAligner
    >>> from sklearn_l1align.datasets import load_demo
    >>> from sklearn_l1align.gensim import align, keyed_vectors_from_arrays, normalize_keyed_vectors
    >>> demo = load_demo()
    >>> fr = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.src_words, demo.src_vectors))
    >>> ru = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words, demo.tgt_vectors))
    >>> aligner = ProcrustesAligner()
    >>> fr_mapped = align(fr, ru, aligner, seed_dictionary=demo.train_dictionary)
    >>> fr_mapped.index_to_key == fr.index_to_key, aligner.rotation_.shape
    (True, (300, 300))
    """
    X = _read_only(_check_kv(kv_src, "kv_src"))
    Y = _read_only(_check_kv(kv_tgt, "kv_tgt"))
    if seed_dictionary is None:
        # Not necessarily unsupervised: the spaces may be aligned already (a refinement step).
        logger.debug("Fitting %s without seed pairs.", type(estimator).__name__)
        estimator.fit(X, Y)
    else:
        parameter = pairs_fit_parameter(estimator)
        if parameter is None:
            raise ValueError(
                "A seed dictionary needs an estimator whose fit accepts pairs (an aligner "
                "such as ProcrustesAligner, or a Pipeline holding one). Got "
                f"{type(estimator).__name__}, which has none, instead."
            )
        pairs = _seed_pairs(seed_dictionary, kv_src, kv_tgt)
        logger.debug("Fitting %s with %d seed pairs (as %s).", type(estimator).__name__,
                    len(pairs), parameter)
        estimator.fit(X, Y, **{parameter: pairs})
    return transform_keyed_vectors(kv_src, estimator)


@validate_params({"kv": [KeyedVectors], "estimator": [HasMethods(["transform"]), "array-like"]},
                 prefer_skip_nested_validation=True)
def transform_keyed_vectors(kv: KeyedVectors, estimator: Any) -> KeyedVectors:
    """Map ``KeyedVectors`` with a fitted estimator or a mapping matrix, as a new object.

    Parameters
    ----------
    kv : gensim.models.KeyedVectors
        Vectors in the source space (normalised as the estimator's training data
        were); not modified.
    estimator : fitted estimator or array-like of shape (n_dims, n_out)
        Anything with a ``transform`` method (an aligner, a Pipeline), or a matrix
        ``M`` applied as ``kv.vectors @ M``: for instance the rotation returned by
        :func:`sklearn_l1align.io.load_mapping`, which loads without pickle.

    Returns
    -------
    kv_mapped : gensim.models.KeyedVectors
        The keys of ``kv`` in the same order (and its per-key attributes such as
        counts), with the mapped vectors as float32.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If a matrix does not have ``kv.vector_size`` rows or is not finite.

    See Also
    --------
    align : Fit and map in one call.
    sklearn_l1align.io.load_mapping : Load a saved matrix safely.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, transform_keyed_vectors
    >>> kv = keyed_vectors_from_arrays(["a", "b"], [[1.0, 0.0], [0.0, 2.0]])
    >>> swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> mapped = transform_keyed_vectors(kv, swap)
    >>> mapped.index_to_key, mapped["b"].tolist(), kv["b"].tolist()
    (['a', 'b'], [2.0, 0.0], [0.0, 2.0])
    """
    vectors = _read_only(_check_kv(kv, "kv"))
    if hasattr(estimator, "transform"):
        mapped = estimator.transform(vectors)
    else:
        matrix = np.asarray(estimator)
        if matrix.dtype.kind not in "iuf" or matrix.ndim != 2 or matrix.shape[0] != vectors.shape[1]:
            raise ValueError(
                "estimator must be a fitted estimator with a transform method, or a real "
                f"matrix of shape ({vectors.shape[1]}, n_out) for vectors of dimension "
                f"{vectors.shape[1]}. Got {type(estimator).__name__} of shape "
                f"{getattr(matrix, 'shape', None)} and dtype {matrix.dtype} instead."
            )
        if not np.isfinite(matrix).all():
            raise ValueError("The mapping matrix must be finite. Got NaN or infinity instead.")
        mapped = blocked_product(vectors, matrix, dtype=np.float64)
    return _with_vectors(kv, mapped)


# --------------------------------------------------------------------------- retrieval


def _check_retrieval(kv_src_mapped, kv_tgt):
    X = _check_kv(kv_src_mapped, "kv_src_mapped")
    Y = _check_kv(kv_tgt, "kv_tgt")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            "kv_src_mapped and kv_tgt must have the same vector size. Got "
            f"{X.shape[1]} and {Y.shape[1]} instead."
        )
    return X, Y


@dataclass(frozen=True)
class _CachedTerm:
    """CSLS's ``r_S`` of a target space over one mapped source space, and what it was computed on."""

    source: weakref.ref  # the mapped source KeyedVectors
    src_vectors: weakref.ref  # its vectors array at the time
    tgt_vectors: weakref.ref  # the target's vectors array at the time
    r: np.ndarray


#: ``kv_tgt -> {(id(kv_src_mapped), csls_k): _CachedTerm}``; entries die with the target space.
_CSLS_TERMS: weakref.WeakKeyDictionary[Any, dict[tuple[int, int], _CachedTerm]] = (
    weakref.WeakKeyDictionary())


def _csls_target_term(kv_src_mapped, kv_tgt, X, Y, csls_k):
    """``r_S`` of every target over all mapped source rows, computed once per pair of spaces.

    This is the ``O(n_src × n_tgt)`` part of a CSLS retrieval; the rest costs
    ``O(n_queries × n_tgt)``. The entry is reused while both objects and their ``vectors``
    arrays are the same (replacing ``vectors`` invalidates it; changing them in place does
    not: call :func:`clear_translation_cache` then).
    """
    terms = _CSLS_TERMS.setdefault(kv_tgt, {})
    for key in [key for key, entry in terms.items() if entry.source() is None]:
        del terms[key]  # the source space is gone
    key = (id(kv_src_mapped), int(csls_k))
    entry = terms.get(key)
    if (entry is not None and entry.source() is kv_src_mapped
            and entry.src_vectors() is X and entry.tgt_vectors() is Y):
        return entry.r
    r = _neighbors.topk_means(_neighbors.unit_rows(Y), _neighbors.unit_rows(X), int(csls_k),
                              need_tgt=False)[0]
    try:
        terms[key] = _CachedTerm(weakref.ref(kv_src_mapped), weakref.ref(X), weakref.ref(Y), r)
    except TypeError:  # vectors that cannot be weakly referenced: nothing is cached
        pass
    return r


def clear_translation_cache() -> None:
    """Forget the CSLS terms :func:`translate` keeps per pair of spaces.

    Needed only after changing a space's ``vectors`` in place: replacing the array, or
    using new ``KeyedVectors``, is noticed without it.

    See Also
    --------
    translate : Keeps the cache.

    Examples
    --------
    >>> from sklearn_l1align.gensim import clear_translation_cache
    >>> clear_translation_cache()
    """
    _CSLS_TERMS.clear()


@validate_params(
    {
        "words": [str, "array-like"],
        "kv_src_mapped": [KeyedVectors],
        "kv_tgt": [KeyedVectors],
        "topn": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [StrOptions({"csls", "nn"})],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def translate(words: str | Sequence[str], kv_src_mapped: KeyedVectors, kv_tgt: KeyedVectors,
              topn: int = 5, method: Literal["csls", "nn"] = "csls",
              csls_k: int = _neighbors.CSLS_K) -> dict[str, list[tuple[str, float]]]:
    """Translate source words: their ``topn`` target words with scores, best first.

    Like gensim's ``most_similar``, each word gets a list of ``(word, score)`` pairs,
    which gensim's ``TranslationMatrix.translate`` does not give.

    Parameters
    ----------
    words : str or sequence of str
        Source words, keys of ``kv_src_mapped``.
    kv_src_mapped : gensim.models.KeyedVectors
        The source space mapped into the target space (e.g. by :func:`align`).
    kv_tgt : gensim.models.KeyedVectors
        The target space; every target word is a candidate.
    topn : int, default=5
        Number of translations per word.
    method : {"csls", "nn"}, default="csls"
        ``"nn"`` ranks by cosine similarity; ``"csls"`` by CSLS (Conneau et al. 2018),
        ``2 cos(x, y) − r_T(x) − r_S(y)``, which demotes hub targets.
    csls_k : int, default=10
        CSLS neighbourhood size. ``r_S`` is computed over all rows of
        ``kv_src_mapped``, a pass over both vocabularies, once per pair of spaces: later
        calls on the same objects reuse it and cost only ``O(len(words) × n_tgt)``
        (see :func:`clear_translation_cache`).

    Returns
    -------
    translations : dict of str to list of (str, float)
        For each distinct word, in input order, its ``topn`` target words and their
        cosine or CSLS scores, best first.

    Raises
    ------
    KeyError
        If a word is not in ``kv_src_mapped``; the message names it.

    See Also
    --------
    evaluate_bli : Precision@k of these translations against a dictionary.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, translate
    >>> fr = keyed_vectors_from_arrays(["chat", "chien"], [[1.0, 0.1], [0.1, 1.0]])
    >>> ru = keyed_vectors_from_arrays(["собака", "кот"], [[0.0, 1.0], [1.0, 0.0]])
    >>> out = translate("chat", fr, ru, topn=2, method="nn")
    >>> [(word, round(score, 3)) for word, score in out["chat"]]
    [('кот', 0.995), ('собака', 0.1)]
    """
    if isinstance(words, str):
        words = [words]
    words = list(dict.fromkeys(words))
    X, Y = _check_retrieval(kv_src_mapped, kv_tgt)
    rows = []
    for word in words:
        row = kv_src_mapped.key_to_index.get(word)
        if row is None:
            raise KeyError(
                f"Word {word!r} is not in the source vocabulary "
                f"({len(kv_src_mapped.index_to_key)} words)."
            )
        rows.append(row)
    if not rows:
        return {}
    r_candidates = (_csls_target_term(kv_src_mapped, kv_tgt, X, Y, csls_k)
                    if method == "csls" else None)
    idx, scores = _neighbors.topk_neighbors(X, Y, int(topn), method=method, csls_k=int(csls_k),
                                            queries=np.asarray(rows, dtype=np.int64),
                                            r_candidates=r_candidates)
    targets = kv_tgt.index_to_key
    return {
        word: [(targets[j], float(s)) for j, s in zip(idx_row.tolist(), score_row.tolist())]
        for word, idx_row, score_row in zip(words, idx, scores)
    }


@validate_params(
    {
        "kv_src_mapped": [KeyedVectors],
        "kv_tgt": [KeyedVectors],
        "test_dictionary": "no_validation",
        "ks": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "methods": [StrOptions({"csls", "nn"}), tuple, list],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_bli(kv_src_mapped: KeyedVectors, kv_tgt: KeyedVectors,
                 test_dictionary: str | os.PathLike | Sequence[tuple[str, str]], *,
                 ks: Sequence[int] = (1, 5, 10), methods: Sequence[str] = ("nn", "csls"),
                 csls_k: int = _neighbors.CSLS_K, lowercase: bool = False,
                 verbose: int = 0) -> dict[str, Any]:
    """BLI precision@k of two aligned ``KeyedVectors`` against a test dictionary.

    Follows MUSE's word-translation convention (see ``convention`` in the result):
    out-of-vocabulary test pairs are dropped and reported; precision is averaged over
    the unique in-vocabulary source words; a source word is a hit at ``k`` when any
    of its gold translations is among its top ``k`` targets.

    Parameters
    ----------
    kv_src_mapped : gensim.models.KeyedVectors
        The source space mapped into the target space (the whole vocabulary: it is
        CSLS's source neighbourhood).
    kv_tgt : gensim.models.KeyedVectors
        The target space; every word is a candidate.
    test_dictionary : str, os.PathLike or sequence of (str, str)
        The gold pairs, or a MUSE dictionary file.
    ks : tuple of int, default=(1, 5, 10)
        The cut-offs.
    methods : tuple of {"nn", "csls"}, default=("nn", "csls")
        Retrieval by cosine nearest neighbour and/or by CSLS.
    csls_k : int, default=10
        CSLS neighbourhood size (CSLS-10 in MUSE and in the paper).
    lowercase : bool, default=False
        Lowercase the dictionary first.
    verbose : int, default=0
        At 1 or more, a progress line over the retrieval blocks (on a terminal).

    Returns
    -------
    result : dict
        ``"precision"``: ``{method: {k: precision in [0, 1]}}``;
        ``"n_queries"``: the number of source words scored;
        ``"coverage"``: the :class:`DictionaryCoverage` of the test dictionary;
        ``"csls_k"``; ``"convention"``: the counting convention, in words;
        ``"results"``: ``{method: BLIResult}``, with per-query hits for
        :func:`sklearn_l1align.metrics.mcnemar_test`.

    Raises
    ------
    ValueError
        If no test pair is in vocabulary, or a method is unknown.

    See Also
    --------
    sklearn_l1align.metrics.bli_precision : The metric on arrays.
    translate : The retrieval behind the metric, word by word.

    Examples
    --------
    >>> from sklearn_l1align import ProcrustesAligner
    >>> from sklearn_l1align.datasets import load_demo
    >>> from sklearn_l1align.gensim import (align, evaluate_bli, keyed_vectors_from_arrays,
    ...                                     normalize_keyed_vectors)
    >>> demo = load_demo()
    >>> fr = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.src_words, demo.src_vectors))
    >>> ru = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words, demo.tgt_vectors))
    >>> fr_mapped = align(fr, ru, ProcrustesAligner(), seed_dictionary=demo.train_dictionary)
    >>> res = evaluate_bli(fr_mapped, ru, demo.test_dictionary)
    >>> res["n_queries"], res["coverage"].coverage, sorted(res["precision"]["csls"])
    (633, 1.0, [1, 5, 10])
    >>> bool(res["precision"]["csls"][1] > 0.4)
    True
    """
    X, Y = _check_retrieval(kv_src_mapped, kv_tgt)
    ks = check_cutoffs(ks, "ks")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    if not methods or any(m not in ("nn", "csls") for m in methods):
        raise ValueError(f"methods must be a non-empty tuple of 'nn' and 'csls'. Got {methods!r} instead.")
    pairs, coverage = dictionary_to_pairs(test_dictionary, kv_src_mapped, kv_tgt, lowercase=lowercase)
    results = {
        method: bli_precision(X, Y, pairs, k=ks, method=method, csls_k=int(csls_k),
                              verbose=verbose)
        for method in methods
    }
    n_queries = next(iter(results.values())).n_queries
    for method, res in results.items():
        logger.debug("BLI %s: %s over %d source words.", "NN" if method == "nn" else f"CSLS-{csls_k}",
                    ", ".join(f"P@{k} {100 * p:.1f}" for k, p in res.precision.items()), n_queries)
    return {
        "precision": {method: dict(res.precision) for method, res in results.items()},
        "n_queries": n_queries,
        "coverage": coverage,
        "csls_k": int(csls_k),
        "convention": BLI_CONVENTION,
        "results": results,
    }
