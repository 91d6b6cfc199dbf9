"""Bilingual lexicon induction (BLI) metrics.

Conventions differ between the three toolkits the field reports with, chiefly in
how they treat test pairs whose words are missing from the embeddings
(out-of-vocabulary, OOV):

* **MUSE** (Conneau et al. 2018), ``word_translation``: drops OOV pairs silently,
  then scores precision@k over the *unique source words* that remain; a source word
  is a hit when *any* of its gold translations is among its top-k retrieved targets.
  Retrieval is by NN or CSLS-10 over the whole target vocabulary loaded (200,000
  words by default). This module follows MUSE.
* **VecMap** (Artetxe et al. 2018), ``eval_translation.py``: also scores unique
  source words with any-gold hits, but reports *coverage* (the share of test source
  words in the vocabulary) beside the accuracy, and its CSLS computes the
  neighbourhoods within the evaluated vocabulary.
* **xling-eval** (Glavaš et al. 2019): reports mean reciprocal rank (MRR) by cosine;
  OOV pairs are kept and count as misses (reciprocal rank 0), so a smaller
  vocabulary is penalised rather than hidden. :func:`bli_mrr` implements MRR; pass
  ``n_oov`` to count misses the xling-eval way.

The functions here take index pairs, so OOV handling happens before they are
called: :mod:`sklearn_l1align.gensim` reports the dropped pairs and coverage.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from scipy.stats import binomtest
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from ._neighbors import (
    CSLS_K,
    DEFAULT_BATCH_SIZE,
    csls_scores,
    topk_means,
    topk_neighbors,
    unit_rows,
)
from ._progress import Progress
from ._validation import check_cutoffs, check_pairs, check_real, check_same_dim

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


__all__ = ["BLIResult", "BLI_CONVENTION", "bli_mrr", "bli_precision", "mcnemar_test"]

#: How :func:`bli_precision` counts, in words (MUSE's ``word_translation`` convention).
BLI_CONVENTION = (
    "MUSE word-translation convention: test pairs whose source or target word is out of "
    "vocabulary are dropped (their number and the coverage are reported); precision@k is "
    "averaged over the unique in-vocabulary source words; a query is a hit when any of its "
    "gold translations is among its top k targets, retrieved over the whole target "
    "vocabulary; CSLS neighbourhoods are taken over all mapped source and all target rows."
)


class BLIResult(NamedTuple):
    """Precision@k of a BLI evaluation.

    Attributes
    ----------
    precision : dict of int to float
        Precision@k in ``[0, 1]`` for each requested ``k``.
    n_queries : int
        Number of unique source words scored.
    queries : ndarray of shape (n_queries,)
        Their source row indices, ascending.
    hits : dict of int to ndarray of bool
        Per-query hits for each ``k``, aligned with ``queries`` (for McNemar tests).

    See Also
    --------
    bli_precision : Returns this object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.metrics import bli_precision
    >>> res = bli_precision(np.eye(2), np.eye(2), [[0, 0], [1, 1]], k=1)
    >>> res.precision, res.n_queries
    ({1: 1.0}, 2)
    """

    precision: dict
    n_queries: int
    queries: np.ndarray
    hits: dict


def _gold_sets(pairs):
    queries = np.unique(pairs[:, 0])
    order = np.argsort(pairs[:, 0], kind="stable")
    sorted_pairs = pairs[order]
    starts = np.searchsorted(sorted_pairs[:, 0], queries)
    ends = np.searchsorted(sorted_pairs[:, 0], queries, side="right")
    gold = [set(sorted_pairs[s:e, 1].tolist()) for s, e in zip(starts, ends)]
    return queries, gold


def _check_inputs(X_src, X_tgt, pairs):
    X_src = check_array(check_real(X_src, "X_src"), dtype=[np.float64, np.float32],
                        input_name="X_src")
    X_tgt = check_array(check_real(X_tgt, "X_tgt"), dtype=[np.float64, np.float32],
                        input_name="X_tgt")
    check_same_dim(X_src, X_tgt, names=("X_src", "X_tgt"))
    pairs = check_pairs(pairs, X_src.shape[0], X_tgt.shape[0])
    return X_src, X_tgt, pairs


@validate_params(
    {
        "X_src": ["array-like"],
        "X_tgt": ["array-like"],
        "pairs": ["array-like"],
        "k": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "method": [StrOptions({"csls", "nn"})],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def bli_precision(X_src: ArrayLike, X_tgt: ArrayLike, pairs: ArrayLike, *,
                  k: int | Sequence[int] = (1, 5, 10), method: Literal["csls", "nn"] = "csls",
                  csls_k: int = CSLS_K, batch_size: int = DEFAULT_BATCH_SIZE,
                  verbose: int = 0) -> BLIResult:
    """BLI precision@k with the MUSE word-translation convention.

    Each unique source word of ``pairs`` is a query. Its mapped vector retrieves
    targets among *all* rows of ``X_tgt``; it is a hit at ``k`` when any of its gold
    translations is among the top ``k``. For CSLS, ``r_T`` is computed for each query
    over all target rows and ``r_S`` for each target over all rows of ``X_src``.

    Parameters
    ----------
    X_src : array-like of shape (n_src, n_dims)
        Mapped source embeddings (the whole source vocabulary).
    X_tgt : array-like of shape (n_tgt, n_dims)
        Target embeddings (the whole target vocabulary).
    pairs : array-like of shape (n_pairs, 2)
        Gold (source row, target row) pairs; a source may appear several times.
    k : int or tuple of int, default=(1, 5, 10)
        Cut-offs to report: positive integers (``1.5``, ``0`` or ``True`` are refused).
    method : {"csls", "nn"}, default="csls"
        Retrieval by CSLS or by cosine nearest neighbour.
    csls_k : int, default=10
        CSLS neighbourhood size.
    batch_size : int, default=512
        Query rows per block.
    verbose : int, default=0
        At 1 or more, a progress line over the retrieval blocks (on a terminal); also
        shown inside :func:`sklearn_l1align._progress.show_progress`.

    Returns
    -------
    result : BLIResult
        ``result.precision[k]`` in ``[0, 1]``, ``result.n_queries``, and per-query hits.

    See Also
    --------
    bli_mrr : Mean reciprocal rank (xling-eval).
    mcnemar_test : Compare the hits of two systems.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.metrics import bli_precision
    >>> X = np.eye(3); pairs = np.array([[0, 0], [1, 1], [2, 0]])
    >>> res = bli_precision(X, X, pairs, k=1, method="nn")
    >>> res.precision[1], res.n_queries
    (0.666..., 3)
    """
    ks = check_cutoffs(k, "k")
    X_src, X_tgt, pairs = _check_inputs(X_src, X_tgt, pairs)
    queries, gold = _gold_sets(pairs)
    kmax = min(max(ks), X_tgt.shape[0])
    idx, _ = topk_neighbors(X_src, X_tgt, kmax, method=method, csls_k=csls_k,
                            queries=queries, batch_size=batch_size, verbose=verbose)
    first_hit = np.full(len(queries), np.iinfo(np.int64).max)
    for q, (row, g) in enumerate(zip(idx, gold)):
        for rank, j in enumerate(row.tolist()):
            if j in g:
                first_hit[q] = rank
                break
    hits = {kk: first_hit < kk for kk in ks}
    precision = {kk: float(h.mean()) for kk, h in hits.items()}
    return BLIResult(precision=precision, n_queries=len(queries), queries=queries, hits=hits)


@validate_params(
    {
        "X_src": ["array-like"],
        "X_tgt": ["array-like"],
        "pairs": ["array-like"],
        "method": [StrOptions({"csls", "nn"})],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_oov": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def bli_mrr(X_src: ArrayLike, X_tgt: ArrayLike, pairs: ArrayLike, *,
            method: Literal["nn", "csls"] = "nn", csls_k: int = CSLS_K, n_oov: int = 0,
            batch_size: int = DEFAULT_BATCH_SIZE, verbose: int = 0) -> float:
    """Mean reciprocal rank of the gold translation (xling-eval convention).

    Each unique source word is a query; its rank is the 1-based position of its
    best-ranked gold translation among all target rows (ties counted optimistically:
    only strictly higher scores rank above). xling-eval ranks by cosine, the default
    here.

    Parameters
    ----------
    X_src : array-like of shape (n_src, n_dims)
        Mapped source embeddings.
    X_tgt : array-like of shape (n_tgt, n_dims)
        Target embeddings.
    pairs : array-like of shape (n_pairs, 2)
        Gold (source row, target row) pairs.
    method : {"nn", "csls"}, default="nn"
        Ranking criterion.
    csls_k : int, default=10
        CSLS neighbourhood size.
    n_oov : int, default=0
        Number of test source words that were out of vocabulary. xling-eval counts
        each as a miss (reciprocal rank 0), so they enlarge the denominator.
    batch_size : int, default=512
        Query rows per block.
    verbose : int, default=0
        At 1 or more, a progress line over the blocks (on a terminal).

    Returns
    -------
    mrr : float
        Mean reciprocal rank in ``[0, 1]``.

    See Also
    --------
    bli_precision : Precision@k (MUSE).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.metrics import bli_mrr
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); Y = np.array([[1.0, 0.1], [0.9, 0.0]])
    >>> bli_mrr(X, Y, [[0, 1], [1, 1]])
    0.75
    """
    X_src, X_tgt, pairs = _check_inputs(X_src, X_tgt, pairs)
    queries, gold = _gold_sets(pairs)
    Xs, Xt = unit_rows(X_src), unit_rows(X_tgt)
    if method == "csls":
        _, r_tgt = topk_means(Xs, Xt, csls_k, batch_size, need_src=False, verbose=verbose)
        r_q, _ = topk_means(Xs[queries], Xt, csls_k, batch_size, need_tgt=False, verbose=verbose)
    rr = np.empty(len(queries))
    with Progress("MRR ranking", total=-(-len(queries) // batch_size), verbose=verbose) as progress:
        for start in range(0, len(queries), batch_size):
            S = Xs[queries[start:start + batch_size]] @ Xt.T
            if method == "csls":
                csls_scores(S, r_q[start:start + S.shape[0]], r_tgt, out=S)
            for row, g, pos in zip(S, gold[start:start + batch_size], range(start, start + S.shape[0])):
                best = row[list(g)].max()
                rr[pos] = 1.0 / (1 + int(np.count_nonzero(row > best)))
            progress.update()
    return float(rr.sum() / (len(queries) + n_oov))


def mcnemar_test(hits_a: ArrayLike, hits_b: ArrayLike) -> float:
    """Exact two-sided McNemar test for paired hit/miss outcomes.

    Parameters
    ----------
    hits_a, hits_b : array-like of bool, shape (n_queries,)
        Per-query hits of two systems on the same queries (e.g. ``BLIResult.hits[1]``).

    Returns
    -------
    p_value : float
        Probability, under "both systems are equally accurate", of a split of the
        discordant queries at least as uneven as observed (binomial, p = 1/2), computed
        by :func:`scipy.stats.binomtest` without overflow for any number of queries.
        1.0 when no query is discordant.

    See Also
    --------
    bli_precision : Gives per-query hits in ``BLIResult.hits``.

    Examples
    --------
    >>> from sklearn_l1align.metrics import mcnemar_test
    >>> round(mcnemar_test([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]), 4)
    0.0312
    """
    a = np.asarray(hits_a, dtype=bool)
    b = np.asarray(hits_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"hits_a and hits_b must be 1-D and of equal length. Got shapes {a.shape} and {b.shape} instead."
        )
    n01 = int(np.count_nonzero(a & ~b))
    n10 = int(np.count_nonzero(~a & b))
    n = n01 + n10
    if n == 0:
        return 1.0
    # Exact two-sided binomial test (the symmetric case doubles one tail, capped at 1).
    return float(binomtest(n01, n, 0.5, alternative="two-sided").pvalue)
